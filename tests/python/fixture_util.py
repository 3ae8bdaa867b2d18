"""Shared plumbing of the fixtures_<family>.py scripts: the command line
(`--list` / OUTDIR [--only NAME...]), writing one case directory, and the
sensitivity check that plausible mistakes move the logits far beyond the
1e-4 tolerance of check_parity.py.
"""
import argparse
import copy
import math
import os
import sys

import numpy as np
import torch

import safetensors_io

MIN_DELTA = 1e-2  # every mistake variant must move some logit at least this much


def randn(gen, shape, std=1.0, mean=0.0):
    """float64 normal tensor from `gen`."""
    return torch.randn(shape, generator=gen, dtype=torch.float64) * std + mean


@torch.no_grad()
def init_module(model, gen, tok_scale=1.0, token_names=(), patch_names=()):
    """Non-trivial random weights for a torch module: LayerNorm weight 1 +- 0.2,
    Linear weights with gain 1.2 / sqrt(fan_in) (attention far from uniform),
    biases 0.1. `token_names` (cls / pos) get std 0.5 * tok_scale, the patch
    embedding `patch_names` tok_scale / sqrt(fan_in)."""
    for name, p in model.named_parameters():
        leaf = name.rsplit('.', 1)[-1]
        if name in token_names:
            p.copy_(randn(gen, p.shape, 0.5 * tok_scale))
        elif name in patch_names:
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(randn(gen, p.shape, (tok_scale if p.dim() > 1 else 0.1 * tok_scale) / math.sqrt(fan_in)))
        elif isinstance(model.get_submodule(name.rpartition('.')[0]), torch.nn.LayerNorm):
            p.copy_(randn(gen, p.shape, 0.2, 1.0) if leaf == 'weight' else randn(gen, p.shape, 0.1))
        elif p.dim() == 2:
            p.copy_(randn(gen, p.shape, 1.2 / math.sqrt(p.shape[1])))
        else:
            p.copy_(randn(gen, p.shape, 0.1))


@torch.no_grad()
def add_gelu_probe(fc1_w, fc1_b, fc2_w, fc2_b, gen, approximate, units=8, gain=20.0):
    """Tanh and erf GELU differ by at most 4.7e-4 (at |x| = 2.7), too little
    to show in logits on random weights. This makes the last `units` hidden
    units of an MLP (fc1 [hidden, in], fc2 [out, hidden], modified in place)
    nearly constant at pre-activation 2.7 with large outgoing weights, and
    folds their output under the model's own GELU (`approximate`) into fc2's
    bias: the other GELU then shifts the residual stream by ~gain * 5e-4."""
    fc1_w[-units:] *= 0.02
    fc1_b[-units:] = 2.7
    w = randn(gen, (fc2_w.shape[0], units), gain / math.sqrt(units)).to(fc2_w.dtype)
    fc2_w[:, -units:] = w
    at = torch.tensor(2.7, dtype=torch.float64)
    fc2_b -= (torch.nn.functional.gelu(at, approximate='tanh' if approximate else 'none') * w.sum(1)).to(fc2_b.dtype)


def save_formats(d, tensors, formats):
    """The same float32 weights as model.<fmt> for fmt in `formats`:
    safetensors, pth (torch.save of the dict), npz, npz_compressed,
    npz_fortran (every array of 2+ dimensions Fortran-ordered, as JAX/flax
    exports and transposed arrays are saved); the npz ones are written as
    model.npz, so one case = one .npz."""
    sd = {k: torch.as_tensor(v).float().contiguous() for k, v in tensors.items()}
    for fmt in formats:
        if fmt == 'safetensors':
            safetensors_io.save_file(sd, os.path.join(d, 'model.safetensors'), dtype='F32', metadata={'format': 'pt'})
        elif fmt == 'pth':
            torch.save(sd, os.path.join(d, 'model.pth'))
        elif fmt in ('npz', 'npz_compressed'):
            save = np.savez_compressed if fmt == 'npz_compressed' else np.savez
            save(os.path.join(d, 'model.npz'), **{k: v.numpy() for k, v in sd.items()})
        elif fmt == 'npz_fortran':
            arrays = {k: np.asfortranarray(v.numpy()) if v.dim() > 1 else v.numpy() for k, v in sd.items()}
            np.savez(os.path.join(d, 'model.npz'), **arrays)
            with np.load(os.path.join(d, 'model.npz')) as z:  # numpy really wrote Fortran order
                for k in arrays:
                    header = np.lib.format.read_array_header_1_0 if z.zip.open(k + '.npy').read(8)[6] == 1 \
                        else np.lib.format.read_array_header_2_0
                    with z.zip.open(k + '.npy') as f:
                        f.read(8)
                        _, fortran, _ = header(f)
                    squeeze = [n for n in arrays[k].shape if n != 1]
                    assert fortran == (len(squeeze) > 1), (k, arrays[k].shape, fortran)
        else:
            raise ValueError(fmt)


def write_case(outdir, name, tensors, formats, x, y, args):
    """OUTDIR/name/: model.<fmt>, input.npy, expected.npy, convert_args.txt."""
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    save_formats(d, tensors, formats)
    np.save(os.path.join(d, 'input.npy'), x.numpy().astype(np.float32))
    np.save(os.path.join(d, 'expected.npy'), y.numpy().astype(np.float32))
    with open(os.path.join(d, 'convert_args.txt'), 'w') as f:
        f.write(args + '\n')


class Variants(dict):
    """name -> a copy of `model` with one plausible implementation mistake,
    made by `add(name, edit)` calling edit(copy) (on `part(copy)` if given)."""

    def __init__(self, model, part=lambda m: m):
        super().__init__()
        self.model, self.part = model, part

    def add(self, name, edit):
        m = copy.deepcopy(self.model)
        edit(self.part(m))
        self[name] = m


@torch.no_grad()
def logits64(model, x):
    """The reference logits, in float64."""
    return model.double()(x.double())


def check_sensitivity(name, y, variants):
    """`variants`: mistake name -> logits; exits when one is too close to y."""
    report = []
    for vname, yv in variants.items():
        diff = (yv - y).abs().max().item()
        report.append(f'{vname}={diff:.3g}')
        if diff < MIN_DELTA:
            sys.exit(f'{name}: variant {vname} changes logits by only {diff:.3g}; fixture too weak')
    print(f'{name}: logits std {y.std().item():.3f}, max |y| {y.abs().max().item():.3f}; '
          f'mistake deltas: {", ".join(report)}')


def main(doc, cases, make_case, slow=(), seed_base=5000):
    """CLI of a fixtures script; make_case(outdir, name, seed) writes one case."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument('outdir', nargs='?')
    ap.add_argument('--only', nargs='*', help='case names (default: all)')
    ap.add_argument('--list', action='store_true', help='print "name [slow]" per case and exit')
    a = ap.parse_args()
    if a.list:
        for n in cases:
            print(n + (' slow' if n in slow else ''))
        return
    if not a.outdir:
        ap.error('OUTDIR is required')
    torch.set_num_threads(1)
    names = a.only or list(cases)
    for n in names:
        if n not in cases:
            sys.exit(f'unknown case {n}; known: {" ".join(cases)}')
    for n in names:
        make_case(a.outdir, n, seed=seed_base + list(cases).index(n))
