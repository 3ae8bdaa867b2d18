#!/usr/bin/python3
"""Write deterministic end-to-end fixtures: fixtures_vitpytorch.py OUTDIR [--only NAME...] | --list

For every case in CASES (lucidrains vit-pytorch ViT, ref_vitpytorch.py),
OUTDIR/<name>/ gets:
  model.safetensors   vit-pytorch-named fp32 weights
  model.pth           the same state dict via torch.save (one case nests it
                      as {'state_dict': {'module.' + key: ...}}, as a
                      DataParallel training script saves it)
  (ema cases)         instead model.pth = {'model': other weights,
                      'model_ema': these, 'epoch'} and model.pth.tar =
                      {'state_dict': {'module.' + key: other weights},
                      'model_ema': {'module.' + key: these}}, converted with
                      --key model_ema
  input.npy           float32 [1, C, H, W] randn input
  expected.npy        float32 [1, classes] logits, computed in float64
  convert_args.txt    the vitrt-convert flags for this case (one line)

Weights are random but scaled so attention is far from uniform and logits
are of order 1; before writing, each case checks that the plausible converter
/ runtime mistakes listed in `variants` (patch order, pooling, LayerNorm
placement, eps, heads) move the logits by much more than the 1e-4 tolerance
check_parity.py uses.
"""
import copy
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402
import ref_vitpytorch as ref  # noqa: E402

# name -> (ViT kwargs, vitrt-convert flags, options)
# options: small_act = shrink token embeddings so LayerNorm eps matters;
#          nested_pth = save the .pth as {'state_dict': {'module.' + key}};
#          ema = the checkpoints hold two state dicts (see above).
# vitpytorch_head_*: vit-pytorch 1.16+ (today's HEAD), 2-D cls_token and pos_embedding.
SMALL = dict(num_classes=10, dim=32, depth=2, mlp_dim=64)
CASES = {
    'vitpytorch_early_cls': (
        dict(SMALL, layout='early', image_size=32, patch_size=8, heads=2, dim_head=16),
        '--heads 2 --patch-size 8', {}),
    'vitpytorch_early_mean_rect': (
        dict(SMALL, layout='early', image_size=(24, 40), patch_size=(4, 8), heads=4, dim_head=8, pool='mean'),
        '--heads 4 --patch-size 4x8 --image-size 24x40 --pool mean', dict(nested_pth=True)),
    'vitpytorch_prenorm_inner96': (
        dict(SMALL, layout='prenorm', image_size=32, patch_size=8, dim=48, heads=3, dim_head=32),
        '--heads 3 --patch-size 8', {}),
    'vitpytorch_prenorm_1head_noproj_gray_mean': (
        dict(SMALL, layout='prenorm', image_size=28, patch_size=7, channels=1, heads=1, dim_head=32, pool='mean'),
        '--heads 1 --patch-size 7 --pool mean --mean 0.5 --std 0.25', {}),
    'vitpytorch_prenorm_small_act': (
        dict(SMALL, layout='prenorm', image_size=32, patch_size=16, heads=4, dim_head=8),
        '--heads 4 --patch-size 16', dict(small_act=True)),
    'vitpytorch_new_cls_rect': (
        dict(SMALL, layout='new', image_size=(32, 48), patch_size=(8, 4), heads=4, dim_head=16),
        '--heads 4 --patch-size 8x4 --image-size 32x48', {}),
    'vitpytorch_new_mean_cls': (
        dict(SMALL, layout='new', image_size=32, patch_size=8, heads=2, dim_head=16, pool='mean'),
        '--heads 2 --patch-size 8 --pool mean', {}),
    'vitpytorch_newest_mean_nocls': (
        dict(SMALL, layout='new', image_size=32, patch_size=8, heads=2, dim_head=24, pool='mean',
             drop_cls_for_mean=True),
        '--heads 2 --patch-size 8', {}),
    'vitpytorch_head_cls_rect': (
        dict(SMALL, layout='new', image_size=(32, 48), patch_size=(8, 4), heads=4, dim_head=16,
             drop_cls_for_mean=True, flat=True),
        '--heads 4 --patch-size 8x4 --image-size 32x48', {}),
    'vitpytorch_head_mean': (
        dict(SMALL, layout='new', image_size=32, patch_size=8, heads=2, dim_head=24, pool='mean',
             drop_cls_for_mean=True, flat=True),
        '--heads 2 --patch-size 8', {}),
    'vitpytorch_head_ema_key': (
        dict(SMALL, layout='new', image_size=24, patch_size=6, channels=1, heads=2, dim_head=16,
             drop_cls_for_mean=True, flat=True),
        '--heads 2 --patch-size 6 --mean 0.5 --std 0.25 --key model_ema', dict(ema=True)),
}


def patch_linear_names(model):
    if model.layout == 'early':
        return ('patch_to_embedding.weight', 'patch_to_embedding.bias')
    i = 2 if model.layout == 'new' else 1
    return (f'to_patch_embedding.{i}.weight', f'to_patch_embedding.{i}.bias')


def variants(model, small_act):
    """name -> a copy of `model` with one plausible implementation mistake."""
    out = fu.Variants(model)
    variant = out.add

    def set_eps(m):
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                mod.eps = 1e-6
    if small_act:  # elsewhere eps is far below the activations' variance
        variant('eps_1e-6', set_eps)

    # Patches flattened like a Conv2d kernel, i.e. the columns not permuted
    # (the same order when there is one channel).
    if model.channels > 1:
        variant('patch_order_cpq', lambda m: setattr(m.patchify, 'order', 'c p1 p2'))
    if model.layout == 'new' and model.channels > 1:
        def unpermuted_patch_norm(m):
            ln, (ph, pw), c = m.to_patch_embedding[1], (m.patchify.p1, m.patchify.p2), m.channels
            for p in (ln.weight, ln.bias):
                p.data = p.data.reshape(c, ph, pw).permute(1, 2, 0).reshape(-1)
        variant('patch_norm_not_permuted', unpermuted_patch_norm)

    def set_heads(m):
        for a in m.modules():
            if isinstance(a, ref.Attention):
                inner = a.to_qkv.out_features // 3
                a.heads = 2 if a.heads == 1 else 1
                a.scale = (inner // a.heads) ** -0.5
    variant('heads_other', set_heads)

    has_cls = model.cls_token.shape[-2] == 1
    if has_cls:
        variant('pool_other', lambda m: setattr(m, 'pool', 'mean' if m.pool == 'cls' else 'cls'))
    if model.pool == 'mean' and has_cls:
        variant('mean_skips_cls', lambda m: setattr(m, 'pool_tokens', lambda x: x[:, 1:].mean(dim=1)))
    if model.pool == 'mean' and model.layout != 'new':
        def head_norm_per_token(m):  # mlp_head.0 before pooling (as timm's norm) instead of after
            m.moved_norm, pool = m.mlp_head[0], m.pool_tokens  # still a submodule, for .double()
            m.mlp_head[0] = nn.Identity()
            m.pool_tokens = lambda x: pool(m.moved_norm(x))
        variant('head_norm_before_pool', head_norm_per_token)
    if model.pool == 'mean' and model.layout == 'new':
        def final_norm_after_pool(m):  # transformer.norm on the pooled vector instead of every token
            m.moved_norm, pool = m.transformer.norm, m.pool_tokens
            m.transformer.norm = nn.Identity()
            m.pool_tokens = lambda x: m.moved_norm(pool(x))
        variant('final_norm_after_pool', final_norm_after_pool)
    return out


def make_case(outdir, name, seed):
    kwargs, args, opts = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    model = ref.ViT(**kwargs).eval()
    fu.init_module(model, gen, 0.01 if opts.get('small_act') else 1.0,
                   token_names=('cls_token', 'pos_embedding'), patch_names=patch_linear_names(model))
    x = torch.randn((1, model.channels) + model.image_size, generator=gen)
    y = fu.logits64(copy.deepcopy(model), x)
    sd = model.state_dict()
    mistakes = variants(model, opts.get('small_act'))
    if opts.get('ema'):
        # The training weights beside the EMA ones: what a converter ignoring --key would take.
        other = copy.deepcopy(model)
        fu.init_module(other, gen, token_names=('cls_token', 'pos_embedding'), patch_names=patch_linear_names(other))
        mistakes['state_dict_not_model_ema'] = other
        fu.write_case(outdir, name, {}, [], x, y, args)
        d = os.path.join(outdir, name)
        prefixed = lambda m: {'module.' + k: v for k, v in m.state_dict().items()}  # noqa: E731
        torch.save({'model': other.state_dict(), 'model_ema': sd, 'epoch': 300}, os.path.join(d, 'model.pth'))
        torch.save({'state_dict': prefixed(other), 'model_ema': prefixed(model)}, os.path.join(d, 'model.pth.tar'))
    else:
        formats = ['safetensors'] if opts.get('nested_pth') else ['safetensors', 'pth']
        fu.write_case(outdir, name, sd, formats, x, y, args)
    if opts.get('nested_pth'):
        torch.save({'state_dict': {'module.' + k: v for k, v in sd.items()}}, os.path.join(outdir, name, 'model.pth'))
    fu.check_sensitivity(name, y, {v: fu.logits64(m, x) for v, m in mistakes.items()})


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, seed_base=2000)
