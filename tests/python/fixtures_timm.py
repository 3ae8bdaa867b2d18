#!/usr/bin/python3
"""Write deterministic end-to-end fixtures: fixtures_timm.py OUTDIR [--only NAME...] | --list

For every case in CASES, OUTDIR/<name>/ gets:
  model.safetensors   timm-named fp32 weights of a timm_vit.VisionTransformer
  model.pth, .npz     the same weights via torch.save ({'model': sd} for the
                      distilled case, as DeiT releases them) and np.savez
  input.npy           float32 [1, C, H, W] randn input
  expected.npy        float32 [1, classes] logits, computed in float64
  convert_args.txt    the vitrt-convert flags for this case (one line)
and for cases with images: image_<n>.png + expected_image_<n>.npy (logits of
the image preprocessed per the vitrt-run contract, see preprocess.py).

Weights are random but scaled so attention is far from uniform and logits
have std >= 1; before writing, each case checks that the plausible converter
/ runtime mistakes listed in `variants` (wrong pooling, eps, heads, token
order, dropped LayerScale) move the logits by much more than the 1e-4
tolerance check_parity.py uses.
"""
import copy
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preprocess as pp  # noqa: E402
import fixture_util as fu  # noqa: E402
import safetensors_io  # noqa: E402
import timm_vit  # noqa: E402

DEIT_MEAN, DEIT_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

# name -> (VisionTransformer kwargs, vitrt-convert flags, options)
# options: small_act = shrink token embeddings so LayerNorm eps matters;
#          images = [(height, width)] synthetic PNGs run through preprocessing.
SMALL = dict(embed_dim=32, depth=2, num_heads=2, num_classes=10)
CASES = {
    'deit_tiny': (dict(timm_vit.arch_kwargs('deit_tiny_patch16_224'), num_classes=1000),
                  '--arch deit_tiny_patch16_224', dict(images=[(224, 224), (260, 300)])),
    'p8_32x48_1head': (dict(SMALL, img_size=(32, 48), patch_size=8, num_heads=1),
                       '--heads 1 --image-size 32x48', {}),
    'p4_6heads_noqkvbias_eps': (dict(SMALL, img_size=16, patch_size=4, embed_dim=48, num_heads=6,
                                     qkv_bias=False, eps=1e-2),
                                '--heads 6 --image-size 16 --eps 0.01', {}),
    'avg_fcnorm_nocls': (dict(SMALL, img_size=32, patch_size=8, global_pool='avg', class_token=False),
                         '--heads 2 --image-size 32 --pool mean', {}),
    'avg_no_fcnorm': (dict(SMALL, img_size=32, patch_size=8, global_pool='avg', fc_norm=False),
                      '--heads 2 --image-size 32 --pool mean', {}),
    'distilled': (dict(SMALL, img_size=32, patch_size=8, embed_dim=64, num_heads=4, distilled=True),
                  '--heads 4 --image-size 32', {}),
    'no_embed_class_gray': (dict(SMALL, img_size=24, patch_size=8, in_chans=1, no_embed_class=True),
                            '--heads 2 --image-size 24 --mean 0.5 --std 0.25', {}),
    'layerscale': (dict(SMALL, img_size=32, patch_size=8, init_values=1e-5),
                   '--heads 2 --image-size 32', {}),
    'p32_64_small_act': (dict(SMALL, img_size=64, patch_size=32, embed_dim=64, num_heads=4),
                         '--heads 4 --image-size 64', dict(small_act=True)),
}
SLOW_CASES = ('deit_tiny',)


@torch.no_grad()
def init_weights(model, gen, small_act=False):
    """Non-trivial random weights (timm's own init gives near-uniform attention)."""
    def normal(t, std, mean=0.0):
        t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    tok_scale = 0.01 if small_act else 1.0
    for name, p in model.named_parameters():
        leaf = name.rsplit('.', 1)[-1]
        if name in ('cls_token', 'dist_token', 'pos_embed'):
            normal(p, 0.5 * tok_scale)
        elif name.startswith('patch_embed.proj'):
            fan_in = p[0].numel() if leaf == 'weight' else 1
            normal(p, (tok_scale if leaf == 'weight' else 0.1 * tok_scale) / math.sqrt(fan_in))
        elif leaf == 'gamma':                         # LayerScale: per-channel, mixed signs
            normal(p, 0.4, 0.3)
        elif 'norm' in name.split('.')[-2]:           # LayerNorm: weight ~ 1 +- 0.2
            normal(p, 0.2, 1.0) if leaf == 'weight' else normal(p, 0.1)
        elif leaf == 'weight':                        # Linear [out, in]
            gain = 2.0 if name.startswith('head') else 1.2
            normal(p, gain / math.sqrt(p.shape[1]))
        else:                                         # Linear bias
            normal(p, 0.1)


def variants(model):
    """name -> a copy of `model` with one plausible implementation mistake."""
    out = fu.Variants(model)
    variant = out.add

    def set_eps(m, e):
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                mod.eps = e
    eps = next(mod.eps for mod in model.modules() if isinstance(mod, nn.LayerNorm))
    variant('eps_1e-5' if eps != 1e-5 else 'eps_1e-6', lambda m: set_eps(m, 1e-5 if eps != 1e-5 else 1e-6))

    heads = model.blocks[0].attn.num_heads
    def set_heads(m, h):
        for b in m.blocks:
            b.attn.num_heads, b.attn.head_dim = h, m.embed_dim // h
            b.attn.scale = b.attn.head_dim ** -0.5
    variant('heads_x2' if heads == 1 else 'heads_1', lambda m: set_heads(m, 2 if heads == 1 else 1))

    if model.distilled:
        def swap(m):
            m.cls_token, m.dist_token = m.dist_token, m.cls_token
        variant('cls_dist_swapped', swap)
    else:
        if model.cls_token is not None:
            variant('pool_other', lambda m: setattr(m, 'global_pool', 'avg' if m.global_pool == 'token' else 'token'))
            if model.global_pool == 'avg':
                variant('avg_includes_cls', lambda m: setattr(m, 'num_prefix_tokens', 0))
    if isinstance(model.fc_norm, nn.LayerNorm):     # fc_norm applied per token, before pooling
        def swap_norms(m):
            m.norm, m.fc_norm = m.fc_norm, m.norm
        variant('fc_norm_before_pool', swap_norms)
    if isinstance(model.blocks[0].ls1, timm_vit.LayerScale):
        def drop_ls(m):
            for b in m.blocks:
                b.ls1, b.ls2 = nn.Identity(), nn.Identity()
        variant('no_layerscale', drop_ls)
    return out


def make_case(outdir, name, seed):
    kwargs, args, opts = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    model = timm_vit.VisionTransformer(**kwargs).eval()
    init_weights(model, gen, opts.get('small_act', False))
    in_chans = kwargs.get('in_chans', 3)
    ih, iw = model.patch_embed.img_size
    x = torch.randn((1, in_chans, ih, iw), generator=gen)

    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    sd = {k: v.float() for k, v in model.state_dict().items()}
    safetensors_io.save_file(sd, os.path.join(d, 'model.safetensors'), dtype='F32', metadata={'format': 'pt'})
    # The same weights as released checkpoints ship them (DeiT's: {'model': sd}).
    torch.save({'model': sd} if model.distilled else sd, os.path.join(d, 'model.pth'))
    np.savez(os.path.join(d, 'model.npz'), **{k: v.numpy() for k, v in sd.items()})
    ref = copy.deepcopy(model)
    y = fu.logits64(ref, x)
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(d, 'expected.npy'), y.numpy().astype(np.float32))
    with open(os.path.join(d, 'convert_args.txt'), 'w') as f:
        f.write(args + '\n')

    # Sensitivity: every listed mistake must be visible well above tolerance.
    report = []
    for vname, vm in variants(model).items():
        diff = (fu.logits64(vm, x) - y).abs().max().item()
        report.append(f'{vname}={diff:.3g}')
        skip_eps = vname.startswith('eps') and not (kwargs.get('eps') or opts.get('small_act'))
        if diff < 1e-2 and not skip_eps:
            sys.exit(f'{name}: variant {vname} changes logits by only {diff:.3g}; fixture too weak')
    print(f'{name}: logits std {y.std().item():.3f}, max |y| {y.abs().max().item():.3f}; '
          f'mistake deltas: {", ".join(report)}')

    for i, (h, w) in enumerate(opts.get('images', [])):
        img = pp.synthetic_image(h, w, seed=seed * 100 + i, channels=in_chans)
        tag = f'{w}x{h}'
        path = os.path.join(d, f'image_{tag}.png')
        pp.write_png(path, img)
        assert np.array_equal(pp.load_image(path, in_chans), img)
        xi = pp.preprocess(img, ih, DEIT_MEAN, DEIT_STD, crop_pct=0.875, interpolation='bicubic')
        yi = fu.logits64(ref, xi)
        np.save(os.path.join(d, f'expected_image_{tag}.npy'), yi.numpy().astype(np.float32))
        print(f'{name}: image {tag}: logits std {yi.std().item():.3f}, top1 {yi.argmax().item()}')


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, slow=SLOW_CASES, seed_base=1000)
