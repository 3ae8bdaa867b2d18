#!/usr/bin/python3
"""vitrt-eval on a small generated ImageFolder, against answers computed here.

usage: check_eval_cli.py --convert VITRT_CONVERT --run VITRT_RUN --eval VITRT_EVAL WORKDIR

Random timm-layout checkpoints (tests/python/timm_vit.py) are converted to
vitrt models; a 7-class tree of random PNG/JPEG images, with class
folder names whose byte order differs from case-insensitive order, a nested
folder and non-image files, is listed as torchvision's ImageFolder does
(re-implemented below: torchvision is not installed). The expected numbers
are NumPy's, from `vitrt-run --logits-out` on that file list:
  * top-1 / top-5 / n in text and --json output, at 1 and 2 threads;
  * --compare with a model of the same preprocessing (int8 vs fp32: one input
    for both) and of different preprocessing (each model its own input):
    the other model's accuracy, top-1 agreement, mean logit cosine;
  * errors: one stderr line, non-zero exit.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
import fixture_util  # noqa: E402
import safetensors_io  # noqa: E402
from timm_vit import VisionTransformer  # noqa: E402

# Byte order: 'Zeta' < '_under' < 'alpha' < 'beta' < 'zz' < 'ä' (UTF-8 0xC3) ...
CLASS_DIRS = ['beta', 'Zeta', 'alpha', '_under', 'zz', 'ä-umlaut', 'B2']
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
# The test models have no labels: class folders map in sorted order.
SORTED = {'classes': len(CLASS_DIRS), 'mapping': 'sorted'}
failures = []


def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failures.append(what)


def tool(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300)


def make_checkpoint(path, seed, in_chans=3, num_classes=len(CLASS_DIRS)):
    model = VisionTransformer(img_size=16, patch_size=4, in_chans=in_chans, num_classes=num_classes,
                              embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0)
    fixture_util.init_module(model, torch.Generator().manual_seed(seed), token_names=('cls_token', 'pos_embed'),
                             patch_names=('patch_embed.proj.weight', 'patch_embed.proj.bias'))
    safetensors_io.save_file(model.state_dict(), path, dtype='F32')


def convert(a, checkpoint, out, *flags):
    p = tool(a.convert, checkpoint, '-o', out, '--heads', 2, '--image-size', 16, *flags)
    if p.returncode != 0:
        sys.exit(f'FAIL: cannot convert {checkpoint}: {p.stderr.strip()}')
    return out


def make_tree(root, rng):
    """Random images in every class folder (one nested), plus files ImageFolder skips."""
    shutil.rmtree(root, ignore_errors=True)
    for i, name in enumerate(CLASS_DIRS):
        d = os.path.join(root, name)
        os.makedirs(os.path.join(d, 'nested'))
        for j, (rel, fmt) in enumerate([('b.png', 'PNG'), ('a.JPG', 'JPEG'), ('c.jpeg', 'JPEG'),
                                        ('nested/d.png', 'PNG')][:2 + i % 3]):
            h, w = rng.integers(12, 40, size=2)
            Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(os.path.join(d, rel), fmt)
        with open(os.path.join(d, 'notes.txt'), 'w') as f:
            f.write('not an image\n')
    with open(os.path.join(root, 'README'), 'w') as f:
        f.write('a file at the top level is no class\n')


def image_folder(root):
    """torchvision.datasets.ImageFolder's (find_classes, make_dataset): samples, targets."""
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    samples = []
    for target, c in enumerate(classes):
        for d, _, files in sorted(os.walk(os.path.join(root, c), followlinks=True)):
            samples += [(os.path.join(d, f), target) for f in sorted(files) if f.lower().endswith(IMG_EXTENSIONS)]
    return [s for s, _ in samples], np.array([t for _, t in samples])


def logits_of(a, model, files, work):
    out = os.path.join(work, 'logits.npy')
    p = tool(a.run, model, *files, '--logits-out', out)
    if p.returncode != 0:
        sys.exit(f'FAIL: vitrt-run {model}: {p.stderr.strip()}')
    return np.load(out).astype(np.float64)


def accuracy(logits, targets):
    order = np.argsort(-logits, axis=1, kind='stable')
    k = min(5, logits.shape[1])
    return float(np.mean(order[:, 0] == targets)), float(np.mean((order[:, :k] == targets[:, None]).any(1)))


def evaluate(a, args, what):
    p = tool(a.eval, *args)
    ok = p.returncode == 0 and p.stderr and all(re.fullmatch(r'vitrt-eval: \d+/\d+ images', line)
                                                for line in p.stderr.splitlines())
    check(ok, f'{what}: exit {p.returncode}, stderr only progress lines')
    return p.stdout if ok else None


def check_json(a, args, want, what):
    out = evaluate(a, args + ['--json'], what)
    if out is None:
        return
    try:
        got = json.loads(out)
    except ValueError:
        got = {}
    ok = out.count('\n') == 1 and sorted(got) == sorted(want) and got['n'] == want['n']
    ok = ok and all(got[k] == want[k] if isinstance(want[k], str) else abs(got[k] - want[k]) <= 1e-6 for k in want)
    check(ok, f'{what} --json = {json.dumps(want)}: got {out.strip()}')


def check_text(a, args, top1, top5, n, what):
    out = evaluate(a, args, what)
    if out is None:
        return
    lines = out.splitlines()
    # Line 1 names the class mapping: these models have no labels.
    want = ["  classes: sorted folder order, as torchvision's ImageFolder (by label: the model has no labels)",
            f'  top-1: {top1:.4f} ({round(top1 * n)}/{n})', f'  top-5: {top5:.4f} ({round(top5 * n)}/{n})']
    check(len(lines) >= 4 and lines[1:4] == want, f'{what} text report {want}: got {lines[1:4]}')


def refused(a, args, needle, what):
    p = tool(a.eval, *args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode > 0 and len(lines) == 1 and needle in lines[0],
          f'{what}: exit {p.returncode}, stderr {p.stderr.strip()!r}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convert', required=True)
    ap.add_argument('--run', required=True)
    ap.add_argument('--eval', required=True)
    ap.add_argument('workdir')
    a = ap.parse_args()
    work = a.workdir
    os.makedirs(work, exist_ok=True)
    w = lambda name: os.path.join(work, name)  # noqa: E731

    make_checkpoint(w('a.safetensors'), seed=1)
    fp32 = convert(a, w('a.safetensors'), w('a_fp32.vitrt'))
    int8 = convert(a, w('a.safetensors'), w('a_int8.vitrt'), '--dtype', 'int8')
    stretch = convert(a, w('a.safetensors'), w('a_stretch.vitrt'), '--resize', 'stretch', '--interpolation', 'bilinear')
    make_checkpoint(w('gray.safetensors'), seed=2, in_chans=1)
    gray = convert(a, w('gray.safetensors'), w('gray.vitrt'), '--mean', '0.5', '--std', '0.25')
    make_checkpoint(w('five.safetensors'), seed=3, num_classes=5)
    five = convert(a, w('five.safetensors'), w('five.vitrt'))

    tree = w('tree')
    make_tree(tree, np.random.default_rng(7))
    files, targets = image_folder(tree)
    n = len(files)
    check(n == sum(2 + i % 3 for i in range(len(CLASS_DIRS))), f'reference ImageFolder lists {n} images')
    y32, y8, ys = (logits_of(a, m, files, work) for m in (fp32, int8, stretch))

    top1, top5 = accuracy(y32, targets)
    print(f'fp32 model: top-1 {top1:.4f}, top-5 {top5:.4f} over {n} images')
    # The tree tells byte order from a case-insensitive order (and the order
    # CLASS_DIRS lists them in) only if those class indices score differently.
    for wrong in (sorted(CLASS_DIRS, key=str.lower), CLASS_DIRS):
        remapped = np.array([wrong.index(sorted(CLASS_DIRS)[t]) for t in targets])
        check(accuracy(y32, remapped) != (top1, top5), f'class order {wrong} would score differently')
    for threads in (1, 2):
        check_json(a, [fp32, tree, '--threads', threads], dict(SORTED, top1=top1, top5=top5, n=n),
                   f'fp32, {threads} thread(s)')
    check_text(a, [fp32, tree], top1, top5, n, 'fp32')

    def cosine(p, q):
        return float(np.mean((p * q).sum(1) / np.sqrt((p * p).sum(1) * (q * q).sum(1))))

    for other, y, what in ((int8, y8, 'same preprocessing (int8)'), (stretch, ys, 'other preprocessing (stretch)')):
        o1, o5 = accuracy(y, targets)
        agree = float(np.mean(y32.argmax(1) == y.argmax(1)))
        want = dict(SORTED, top1=top1, top5=top5, n=n, top1_other=o1, top5_other=o5, agreement=agree,
                    mean_cosine=cosine(y32, y))
        check_json(a, [fp32, tree, '--compare', other], want, f'--compare, {what}')
    check(not np.allclose(ys, y32, atol=1e-3), 'the stretch model sees other inputs: its logits differ')

    os.makedirs(w('no_classes'), exist_ok=True)
    with open(w('no_classes/x.png'), 'wb') as f:
        f.write(open(files[0], 'rb').read())
    shutil.rmtree(w('few'), ignore_errors=True)
    for c in ('a', 'b', 'c'):
        os.makedirs(w(f'few/{c}'))
        shutil.copy(files[0], w(f'few/{c}/x.png'))
    shutil.rmtree(w('empty_class'), ignore_errors=True)
    shutil.copytree(tree, w('empty_class'))
    shutil.rmtree(w('empty_class/zz'))
    os.makedirs(w('empty_class/zz'))
    refused(a, [], 'missing MODEL', 'no arguments')
    refused(a, [fp32], 'missing DIR', 'no DIR')
    refused(a, [fp32, tree, 'extra'], 'unexpected argument', 'extra argument')
    refused(a, [fp32, tree, '--top-k', '3'], 'unknown option', '--top-k is no option')
    refused(a, [fp32, tree, '--threads', '0'], '--threads', '--threads 0')
    refused(a, [fp32, w('missing')], 'no such directory', 'missing DIR')
    refused(a, [fp32, files[0]], 'not a directory', 'file as DIR')
    refused(a, [fp32, w('no_classes')], 'no class folders', 'DIR without class folders')
    refused(a, [fp32, w('few')], 'has 3 class folders, the model has 7 classes', 'class count mismatch')
    refused(a, [fp32, w('empty_class')], "class folder '", 'class folder without images')
    refused(a, [w('missing.vitrt'), tree], 'no such file', 'missing model')
    refused(a, [fp32, tree, '--compare', gray], 'takes input [1, 16, 16]', '--compare, other input shape')
    refused(a, [fp32, tree, '--compare', five], 'has 5 classes', '--compare, other class count')
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
