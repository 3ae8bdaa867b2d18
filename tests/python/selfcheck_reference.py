#!/usr/bin/python3
"""Checks the PyTorch reference itself (no vitrt tools involved).

1. timm_vit's state-dict keys and shapes equal timm's naming for DeiT-Ti,
   and the variants (fc_norm, distilled, LayerScale, no_embed_class) add or
   drop exactly timm's keys.
2. timm_vit's forward equals `manual_forward`, a second, loop-based ViT
   written straight from the paper/timm semantics over the state dict.
3. safetensors_io round trip.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures_timm  # noqa: E402
import safetensors_io  # noqa: E402
import timm_vit  # noqa: E402


def timm_deit_tiny_keys():
    """timm's deit_tiny_patch16_224 state dict: (key, shape) in timm order."""
    d, m = 192, 768
    keys = [('cls_token', (1, 1, d)), ('pos_embed', (1, 197, d)),
            ('patch_embed.proj.weight', (d, 3, 16, 16)), ('patch_embed.proj.bias', (d,))]
    for i in range(12):
        b = f'blocks.{i}.'
        keys += [(b + 'norm1.weight', (d,)), (b + 'norm1.bias', (d,)),
                 (b + 'attn.qkv.weight', (3 * d, d)), (b + 'attn.qkv.bias', (3 * d,)),
                 (b + 'attn.proj.weight', (d, d)), (b + 'attn.proj.bias', (d,)),
                 (b + 'norm2.weight', (d,)), (b + 'norm2.bias', (d,)),
                 (b + 'mlp.fc1.weight', (m, d)), (b + 'mlp.fc1.bias', (m,)),
                 (b + 'mlp.fc2.weight', (d, m)), (b + 'mlp.fc2.bias', (d,))]
    return keys + [('norm.weight', (d,)), ('norm.bias', (d,)), ('head.weight', (1000, d)), ('head.bias', (1000,))]


def check_keys():
    sd = timm_vit.deit_tiny_patch16_224().state_dict()
    got = [(k, tuple(v.shape)) for k, v in sd.items()]
    assert got == timm_deit_tiny_keys(), 'DeiT-Ti keys differ from timm'

    def keys(**kw):
        return set(timm_vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=16, depth=1, num_heads=2,
                                              num_classes=5, **kw).state_dict())
    base = keys()
    assert keys(global_pool='avg') == base - {'norm.weight', 'norm.bias'} | {'fc_norm.weight', 'fc_norm.bias'}
    assert keys(global_pool='avg', fc_norm=False) == base
    assert keys(global_pool='avg', class_token=False) == \
        base - {'cls_token', 'norm.weight', 'norm.bias'} | {'fc_norm.weight', 'fc_norm.bias'}
    assert keys(distilled=True) == base | {'dist_token', 'head_dist.weight', 'head_dist.bias'}
    assert keys(init_values=1e-5) == base | {'blocks.0.ls1.gamma', 'blocks.0.ls2.gamma'}
    assert keys(qkv_bias=False) == base - {'blocks.0.attn.qkv.bias'}
    pe = timm_vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=16, depth=1, num_heads=2,
                                    no_embed_class=True).pos_embed
    assert pe.shape == (1, 16, 16)
    pe = timm_vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=16, depth=1, num_heads=2,
                                    distilled=True).pos_embed
    assert pe.shape == (1, 18, 16)
    print('state-dict keys match timm')


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def manual_forward(sd, kw, x):
    """ViT forward from the state dict with explicit loops (one image)."""
    eps = kw.get('eps', 1e-6)
    heads, pool = kw['num_heads'], kw.get('global_pool', 'token')
    w = sd['patch_embed.proj.weight']
    D, C, P, Q = w.shape
    _, _, H, W = x.shape
    patches = [x[0, :, i:i + P, j:j + Q].reshape(-1) for i in range(0, H, P) for j in range(0, W, Q)]
    t = torch.stack(patches) @ w.reshape(D, -1).t() + sd['patch_embed.proj.bias']
    prefix = [sd[k].reshape(1, D) for k in ('cls_token', 'dist_token') if k in sd]
    if kw.get('no_embed_class'):
        t = torch.cat(prefix + [t + sd['pos_embed'][0]])
    else:
        t = torch.cat(prefix + [t]) + sd['pos_embed'][0]
    hd = D // heads
    depth = 1 + max(int(k.split('.')[1]) for k in sd if k.startswith('blocks.'))
    for i in range(depth):
        p = lambda n: sd.get(f'blocks.{i}.{n}')  # noqa: E731
        h = layer_norm(t, p('norm1.weight'), p('norm1.bias'), eps)
        qkv = h @ p('attn.qkv.weight').t() + (p('attn.qkv.bias') if p('attn.qkv.bias') is not None else 0)
        o = torch.empty_like(h)
        for hh in range(heads):
            q, k, v = (qkv[:, s * D + hh * hd:s * D + (hh + 1) * hd] for s in range(3))
            s = q @ k.t() / math.sqrt(hd)
            a = torch.exp(s - s.max(1, keepdim=True).values)
            o[:, hh * hd:(hh + 1) * hd] = (a / a.sum(1, keepdim=True)) @ v
        o = o @ p('attn.proj.weight').t() + p('attn.proj.bias')
        t = t + o * (p('ls1.gamma') if p('ls1.gamma') is not None else 1)
        h = layer_norm(t, p('norm2.weight'), p('norm2.bias'), eps)
        h = h @ p('mlp.fc1.weight').t() + p('mlp.fc1.bias')
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        h = h @ p('mlp.fc2.weight').t() + p('mlp.fc2.bias')
        t = t + h * (p('ls2.gamma') if p('ls2.gamma') is not None else 1)
    if 'norm.weight' in sd:
        t = layer_norm(t, sd['norm.weight'], sd['norm.bias'], eps)
    if 'dist_token' in sd:
        return ((t[0] @ sd['head.weight'].t() + sd['head.bias']) +
                (t[1] @ sd['head_dist.weight'].t() + sd['head_dist.bias']))[None] / 2
    f = t[len(prefix):].mean(0) if pool == 'avg' else t[0]
    if 'fc_norm.weight' in sd:
        f = layer_norm(f, sd['fc_norm.weight'], sd['fc_norm.bias'], eps)
    return (f @ sd['head.weight'].t() + sd['head.bias'])[None]


@torch.no_grad()
def check_forward():
    for name, (kw, _, opts) in fixtures_timm.CASES.items():
        if name in fixtures_timm.SLOW_CASES:
            continue
        gen = torch.Generator().manual_seed(7)
        model = timm_vit.VisionTransformer(**kw).eval()
        fixtures_timm.init_weights(model, gen, opts.get('small_act', False))
        model.double()
        ih, iw = model.patch_embed.img_size
        x = torch.randn((1, kw.get('in_chans', 3), ih, iw), generator=gen, dtype=torch.float64)
        ref = model(x)
        man = manual_forward(model.state_dict(), kw, x)
        err = (ref - man).abs().max().item()
        assert err < 1e-10, f'{name}: timm_vit vs manual_forward differ by {err}'
        print(f'{name}: timm_vit == manual_forward (max diff {err:.2g})')


def main():
    torch.set_num_threads(1)
    check_keys()
    check_forward()
    import runpy
    runpy.run_path(safetensors_io.__file__, run_name='__main__')


if __name__ == '__main__':
    main()
