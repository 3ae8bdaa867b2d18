#!/usr/bin/python3
"""Write Google (flax models_vit) ViT fixtures: fixtures_google.py OUTDIR [--only NAME...] | --list

Per case, OUTDIR/<name>/ gets the flax parameters of ref_google (JAX names
and layouts) as model.npz (np.savez, np.savez_compressed, or np.savez of
Fortran-ordered arrays as JAX exports write them) and as
model.safetensors with the same names, input.npy, expected.npy (float64
logits of ref_google.forward) and convert_args.txt. Each case first checks
that the plausible mistakes of `variants` (GELU erf instead of tanh,
another eps / head count / attention scale / pooling, the patch kernel read
in (q, p) order) move the logits well beyond check_parity's tolerance.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402
import ref_google  # noqa: E402

# name -> (init_params kwargs, vitrt-convert flags, formats, small_act)
# Cases named *_no_probe keep plain random weights, without
# fixture_util.add_gelu_probe's planted outliers (for the fp16/int8 checks;
# the GELU form is then not visible in the logits, so not checked).
CASES = {
    'google_token_prelogits': (dict(img=(16, 16), patch=4, chans=3, dim=32, depth=2, heads=4, mlp=64, classes=10,
                                    representation_size=24),
                               '', ('npz', 'safetensors'), False),
    'google_gap_compressed_small_act': (dict(img=(24, 24), patch=8, chans=3, dim=48, depth=2, heads=3, mlp=96,
                                             classes=7, classifier='gap', tok_scale=0.01),
                                        '--mean 0.5 --std 0.5', ('npz_compressed', 'safetensors'), True),
    'google_no_probe': (dict(img=(16, 16), patch=4, chans=3, dim=32, depth=2, heads=4, mlp=64, classes=10,
                             representation_size=24), '', ('npz', 'safetensors'), False),
    'google_fortran_npz': (dict(img=(24, 16), patch=8, chans=3, dim=48, depth=2, heads=6, mlp=80, classes=5,
                                representation_size=12), '--image-size 24x16', ('npz_fortran', 'safetensors'), False),
}


def one_head(p):
    """The parameters reinterpreted with a single head of width H * hd."""
    q = dict(p)
    for k, v in p.items():
        if '/MultiHeadDotProductAttention_1/' in k:
            if k.endswith('out/kernel'):
                q[k] = v.reshape(1, -1, v.shape[-1])
            elif k.endswith('kernel'):
                q[k] = v.reshape(v.shape[0], 1, -1)
            elif not k.endswith('out/bias'):
                q[k] = v.reshape(1, -1)
    return q


def variants(p, x, small_act, gelu_visible):
    f = ref_google.forward
    dim = p['embedding/kernel'].shape[-1]
    swapped = dict(p, **{'embedding/kernel': p['embedding/kernel'].transpose(0, 1)})
    out = {
        'heads_1': f(one_head(p), x),
        'attn_scale_dim': f(p, x, attn_scale=dim ** -0.5),
        'pool_other': f(p, x, pool='gap' if 'cls' in p else 'token'),
        'patch_kernel_qp': f(swapped, x),
    }
    if gelu_visible:
        out['gelu_erf'] = f(p, x, approximate_gelu=False)
    if small_act:
        out['eps_1e-5'] = f(p, x, eps=1e-5)
    return out


@torch.no_grad()
def make_case(outdir, name, seed):
    kwargs, args, formats, small_act = CASES[name]
    gen = torch.Generator().manual_seed(seed)
    p = ref_google.init_params(gen, **kwargs)
    probe = not name.endswith('_no_probe')
    for i in range(kwargs['depth'] if probe else 0):
        b = f'Transformer/encoderblock_{i}/MlpBlock_3/'
        fu.add_gelu_probe(p[b + 'Dense_0/kernel'].T, p[b + 'Dense_0/bias'], p[b + 'Dense_1/kernel'].T,
                          p[b + 'Dense_1/bias'], gen, approximate=True)
    x = torch.randn((1, kwargs['chans']) + kwargs['img'], generator=gen)
    y = ref_google.forward(p, x.double())
    fu.check_sensitivity(name, y, variants(p, x.double(), small_act, probe))
    fu.write_case(outdir, name, p, formats, x, y, args)


if __name__ == '__main__':
    fu.main(__doc__, CASES, make_case, seed_base=7000)
