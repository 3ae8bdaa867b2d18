#!/usr/bin/python3
"""Write position-embedding resampling fixtures: fixtures_resample.py OUTDIR [--only NAME...] | --list

Checkpoints trained at one image size, converted with --image-size another:
vitrt-convert must resample the learned position embedding like timm's
resample_abs_pos_embed (prefix tokens kept, the patch grid through
F.interpolate(mode='bicubic', antialias=True, align_corners=False)), for a
timm checkpoint (model.safetensors) and a Google flax one (model.npz). The
expected logits are those of the reference run at the new size with the
resampled embedding. Mistake variants: bilinear, no antialiasing,
align_corners=True.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402
import fixtures_timm  # noqa: E402
import ref_google  # noqa: E402
import timm_vit  # noqa: E402

# name -> (family, checkpoint kwargs, new image size (h, w), formats)
CASES = {
    'resample_timm_up_nonsquare': ('timm', dict(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2,
                                                num_classes=10), (24, 32), ('safetensors',)),
    'resample_timm_down_no_embed_class': ('timm', dict(img_size=48, patch_size=8, embed_dim=32, depth=2, num_heads=4,
                                                       num_classes=6, no_embed_class=True), (32, 32), ('safetensors',)),
    'resample_google_npz': ('google', dict(img=(16, 16), patch=4, chans=3, dim=32, depth=2, heads=4, mlp=64,
                                           classes=8), (20, 20), ('npz',)),
}


def resample(pos, prefix, new_grid, mode='bicubic', antialias=True, align_corners=False):
    """timm resample_abs_pos_embed on a [1, tokens, dim] embedding (square old grid)."""
    old = int(round((pos.shape[1] - prefix) ** 0.5))
    grid = pos[:, prefix:].reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode=mode, antialias=antialias,
                         align_corners=align_corners if mode != 'nearest' else None)
    return torch.cat([pos[:, :prefix], grid.permute(0, 2, 3, 1).reshape(1, -1, pos.shape[-1])], dim=1)


RESAMPLERS = {
    'expected': lambda pos, prefix, g: resample(pos, prefix, g),
    'bilinear': lambda pos, prefix, g: resample(pos, prefix, g, mode='bilinear'),
    'no_antialias': lambda pos, prefix, g: resample(pos, prefix, g, antialias=False),
    'align_corners': lambda pos, prefix, g: resample(pos, prefix, g, antialias=False, align_corners=True),
}


@torch.no_grad()
def make_case(outdir, name, seed):
    family, kwargs, size, formats = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    if family == 'timm':
        model = timm_vit.VisionTransformer(**kwargs).eval()
        fixtures_timm.init_weights(model, gen)
        sd = {k: v.double() for k, v in model.state_dict().items()}
        prefix = 0 if kwargs.get('no_embed_class') else 1
        pos_name, chans = 'pos_embed', 3
        args = f'--heads {kwargs["num_heads"]} --image-size {size[0]}x{size[1]}'

        def run(pos):
            m = timm_vit.VisionTransformer(**dict(kwargs, img_size=size)).double().eval()
            m.load_state_dict(dict(sd, pos_embed=pos))
            return m(x.double())
    else:
        sd = ref_google.init_params(gen, **kwargs)
        prefix, pos_name, chans = 1, 'Transformer/posembed_input/pos_embedding', kwargs['chans']
        args = f'--image-size {size[0]}x{size[1]}'

        def run(pos):
            return ref_google.forward(dict(sd, **{pos_name: pos}), x.double())
    x = torch.randn((1, chans) + size, generator=gen)
    patch = kwargs.get('patch_size', kwargs.get('patch'))
    grid = (size[0] // patch, size[1] // patch)
    ys = {k: run(f(sd[pos_name], prefix, grid)) for k, f in RESAMPLERS.items()}
    y = ys.pop('expected')
    fu.check_sensitivity(name, y, ys)
    fu.write_case(outdir, name, sd, formats, x, y, args)


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, seed_base=9500)
