#!/usr/bin/python3
"""Write deterministic MoCo v3 fixtures: fixtures_mocov3.py OUTDIR [--only NAME...] | --list

Like fixtures_timm.py (same files per case), for ref_mocov3.py models saved
the way moco-v3 saves them:
  model.pth.tar       torch.save({'epoch', 'arch', 'state_dict': {'module.' + name: tensor},
                      'optimizer', ...}) as main_moco.py / main_lincls.py write it
  model.safetensors   the same state dict as vitrt sees it after unwrapping
                      ('module.' removed; BatchNorm's int64 num_batches_tracked
                      left out, as safetensors_io writes floats only)
The small cases record an 'arch' no architecture table knows (the converter
ignores it: their size is none of vits.py's). Cases with `arch` are
full-size vits.py models recording it and converted with no flags, the
architecture (heads, image size, preprocessing) taken from checkpoint['arch'];
as safetensors cannot carry it, their second file is model.pth, the same
state dict as {'arch', 'model'} (no 'module.' prefix).
Pretraining cases keep momentum_encoder.* and predictor.* for the converter to
ignore; their expected output is base_encoder(x), the projected features.
Cases with `run_at` convert at another image size than the checkpoint's:
the reference is the same weights in a model built for that size (the
sin-cos position embedding regenerated).

Weights are random and non-trivial (BatchNorm running statistics and affine
parameters included); each case checks that the listed converter/runtime
mistakes (sin-cos order, BatchNorm not folded, a block dropped, ...) move the
logits by much more than check_parity.py's 1e-4.
"""
import copy
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_mocov3  # noqa: E402
import fixture_util as fu  # noqa: E402
import safetensors_io  # noqa: E402

VIT = dict(embed_dim=64, depth=2, num_heads=4)
# name -> (model kwargs, vitrt-convert flags, options)
# options: pretrain = MoCoViT with projector (dim, mlp_dim); run_at = (h, w);
#          arch = a vits.py name, recorded in the checkpoint (kwargs from ref_mocov3.ARCHS).
CASES = {
    'mocov3_conv_pretrain': (dict(VIT, img_size=64, conv_stem=True), '--heads 4',
                             dict(pretrain=(24, 96))),
    'mocov3_conv_lincls_48x64': (dict(VIT, img_size=32, conv_stem=True, num_classes=10),
                                 '--heads 4 --image-size 48x64', dict(run_at=(48, 64))),
    'mocov3_lincls': (dict(VIT, img_size=32, patch_size=8, num_classes=10), '--family mocov3 --heads 4', {}),
    'mocov3_pretrain_p8': (dict(VIT, img_size=32, patch_size=8, embed_dim=32, num_heads=2), '--heads 2',
                           dict(pretrain=(16, 40))),
    'mocov3_vit_conv_small_arch': (dict(ref_mocov3.ARCHS['vit_conv_small'], num_classes=1000), '',
                                   dict(arch='vit_conv_small')),
}


@torch.no_grad()
def init_weights(model, gen):
    """Non-trivial random weights; pos_embed stays the fixed sin-cos one."""
    def normal(t, std, mean=0.0):
        t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    for mod in model.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            normal(mod.running_mean, 0.3)
            mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) * 1.5 + 0.5)
            mod.num_batches_tracked.fill_(1000)
            if mod.affine:
                normal(mod.weight, 0.3, 1.0)
                normal(mod.bias, 0.2)
        elif isinstance(mod, nn.Conv2d):
            normal(mod.weight, 1.7 / math.sqrt(mod.weight[0].numel()))
            if mod.bias is not None:
                normal(mod.bias, 0.1)
        elif isinstance(mod, nn.LayerNorm):
            normal(mod.weight, 0.2, 1.0)
            normal(mod.bias, 0.1)
        elif isinstance(mod, nn.Linear):
            normal(mod.weight, 1.2 / math.sqrt(mod.weight.shape[1]))
            if mod.bias is not None:
                normal(mod.bias, 0.1)
        elif isinstance(mod, ref_mocov3.VisionTransformerMoCo):
            normal(mod.cls_token, 0.5)


def encoder(model):
    return model.base_encoder if isinstance(model, ref_mocov3.MoCoViT) else model


def variants(model):
    """name -> a copy of `model` with one plausible converter/runtime mistake."""
    out = fu.Variants(model, encoder)
    variant = out.add

    def pos(m, a_first, xy):
        gh, gw = m.patch_embed.grid_size
        dim, q = m.embed_dim, m.embed_dim // 4
        omega = 1. / 10000 ** (torch.arange(q, dtype=torch.float64) / q)
        rows = [torch.zeros(dim, dtype=torch.float64)]
        for t in range(gh * gw):
            a, b = (t % gw, t // gw) if xy else (t // gh, t % gh)
            a, b = (a, b) if a_first else (b, a)
            rows.append(torch.cat([torch.sin(a * omega), torch.cos(a * omega), torch.sin(b * omega), torch.cos(b * omega)]))
        m.pos_embed.data = torch.stack(rows)[None].to(m.pos_embed.dtype)

    variant('sincos_halves_swapped', lambda m: pos(m, False, False))
    variant('sincos_xy_indexing', lambda m: pos(m, True, True))
    variant('no_pos_embed', lambda m: m.pos_embed.data.zero_())

    def drop_bn(m):  # BatchNorm left out instead of folded
        for seq in [m.head] + ([m.patch_embed.proj] if isinstance(m.patch_embed, ref_mocov3.ConvStem) else []):
            if isinstance(seq, nn.Sequential):
                for i, layer in enumerate(seq):
                    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                        seq[i] = nn.Identity()

    def bn_eps(m):
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                mod.eps = 1e-1
    if any(isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)) for mod in encoder(model).modules()):
        variant('batchnorm_not_folded', drop_bn)
        variant('batchnorm_eps_0.1', bn_eps)
    variant('last_block_dropped', lambda m: setattr(m, 'blocks', m.blocks[:-1]))

    def heads_1(m):
        for b in m.blocks:
            b.attn.num_heads, b.attn.head_dim = 1, m.embed_dim
            b.attn.scale = m.embed_dim ** -0.5
    variant('heads_1', heads_1)
    if isinstance(encoder(model).head, nn.Sequential):
        def no_relu(m):
            m.head = nn.Sequential(*[layer for layer in m.head if not isinstance(layer, nn.ReLU)])
        variant('projector_without_relu', no_relu)
    return out


def rebuilt_at(model, kwargs, size):
    """The same weights in a model for image `size` (pos_embed regenerated)."""
    m = ref_mocov3.VisionTransformerMoCo(**dict(kwargs, img_size=size)).eval()
    sd = {k: v for k, v in model.state_dict().items() if k != 'pos_embed'}
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ['pos_embed'] and not unexpected, (missing, unexpected)
    return m


def save_checkpoints(model, d, arch, pretrain, arch_known):
    sd = {k: v.float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    # A real checkpoint carries optimizer state too; one AdamW step on a copy fills it.
    shadow = copy.deepcopy(model)
    opt = torch.optim.AdamW([p for p in shadow.parameters() if p.requires_grad], lr=1e-3)
    for p in shadow.parameters():
        p.grad = torch.ones_like(p)
    opt.step()
    ckpt = {'epoch': 100, 'arch': arch, 'state_dict': {'module.' + k: v for k, v in sd.items()},
            'optimizer': opt.state_dict()}
    if pretrain:
        ckpt['scaler'] = {'scale': 65536.0, 'growth_factor': 2.0}
    else:
        ckpt['best_acc1'] = torch.tensor(12.5)
    torch.save(ckpt, os.path.join(d, 'model.pth.tar'))
    if arch_known:
        torch.save({'arch': arch, 'model': sd}, os.path.join(d, 'model.pth'))
        return
    safetensors_io.save_file({k: v for k, v in sd.items() if not k.endswith('num_batches_tracked')},
                             os.path.join(d, 'model.safetensors'), dtype='F32', metadata={'format': 'pt'})


def make_case(outdir, name, seed):
    kwargs, args, opts = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    if 'pretrain' in opts:
        dim, mlp_dim = opts['pretrain']
        model = ref_mocov3.MoCoViT(dim=dim, mlp_dim=mlp_dim, **kwargs).eval()
    else:
        model = ref_mocov3.VisionTransformerMoCo(**kwargs).eval()
    init_weights(model, gen)
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    save_checkpoints(model, d, opts.get('arch', 'vit_test'), 'pretrain' in opts, 'arch' in opts)

    ref = rebuilt_at(model, kwargs, opts['run_at']) if 'run_at' in opts else model
    ih, iw = encoder(ref).patch_embed.img_size
    x = torch.randn((1, 3, ih, iw), generator=gen)
    y = fu.logits64(copy.deepcopy(ref), x)
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(d, 'expected.npy'), y.numpy().astype(np.float32))
    with open(os.path.join(d, 'convert_args.txt'), 'w') as f:
        f.write(args + '\n')

    report = []
    for vname, vm in variants(ref).items():
        diff = (fu.logits64(vm, x) - y).abs().max().item()
        report.append(f'{vname}={diff:.3g}')
        if diff < 1e-2:
            sys.exit(f'{name}: variant {vname} changes logits by only {diff:.3g}; fixture too weak')
    print(f'{name}: logits std {y.std().item():.3f}, max |y| {y.abs().max().item():.3f}; '
          f'mistake deltas: {", ".join(report)}')


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, slow=('mocov3_vit_conv_small_arch',), seed_base=2000)
