#!/usr/bin/python3
"""fp16 and int8 conversions of fixture cases against the PyTorch fp32 logits.

  check_quant.py --convert VITRT_CONVERT --run VITRT_RUN [--sizes] CASE_DIR...

For each CASE_DIR (from any fixtures_<family>.py) its model.safetensors (or
its first other model.<format>) is converted with --dtype fp32, fp16 and int8 (plus the case's
convert_args.txt) and run on input.npy. Checks against expected.npy (PyTorch,
float64):
  fp16: max |error| <= 1e-2 * max |logit|
  int8: cosine similarity >= 0.99 (activations quantized per token)
Every check runs once per kernel set this CPU supports (as check_parity.py).
With --sizes (timm-named safetensors cases, whose Linear weights can be
counted by name) also the file sizes: the bytes the Linear weights take in
each file, i.e. size(fp32) - size(x) subtracted from the fp32 weight bytes,
must be about 1/2 (fp16) and 1/4 (int8, plus per-channel scales, sums and
tile padding).
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys

import numpy as np

import check_parity
import safetensors_io

FP16_TOL = 1e-2
INT8_COSINE = 0.99


def run_tool(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
    if p.returncode != 0:
        sys.exit(f'FAIL: {" ".join(shlex.quote(c) for c in cmd)}: exit {p.returncode}: {p.stderr.strip()}')


def linear_weight_elements(checkpoint):
    """Elements of every Linear (and patch-embedding conv) weight: the
    tensors vitrt-convert encodes. Norm weights are 1-D; tokens and position
    embeddings are not named *.weight."""
    tensors, _ = safetensors_io.load_file(checkpoint)
    return sum(int(np.prod(t.shape)) for name, t in tensors.items()
               if name.endswith('.weight') and len(t.shape) >= 2)


def check_case(a, d):
    with open(os.path.join(d, 'convert_args.txt')) as f:
        conv_args = shlex.split(f.read())
    # safetensors when the case has it (--sizes reads its names), else any format.
    found = sorted(p for p in glob.glob(os.path.join(d, 'model.*')) if not p.endswith('.vitrt'))
    safetensors = os.path.join(d, 'model.safetensors')
    checkpoint = safetensors if safetensors in found else found[0]
    expected = np.load(os.path.join(d, 'expected.npy')).astype(np.float64).reshape(-1)
    sizes = {}
    for dtype in ('fp32', 'fp16', 'int8'):
        model = os.path.join(d, f'quant_{dtype}.vitrt')
        run_tool([a.convert, checkpoint, '-o', model, '--dtype', dtype] + conv_args)
        sizes[dtype] = os.path.getsize(model)
    name, ok = os.path.basename(d.rstrip('/')), True
    print(f'{name}: sizes fp32 {sizes["fp32"]} fp16 {sizes["fp16"]} int8 {sizes["int8"]} bytes')
    for ks in a.kernel_sets:
        ok = check_outputs(a, d, f'{name} [{ks}]', ks, expected) and ok
    if a.sizes:
        ok = check_sizes(name, checkpoint, sizes) and ok
    return ok


def check_outputs(a, d, name, kernels, expected):
    """Runs the three models of case d with one kernel set against expected."""
    scale = np.abs(expected).max()
    logits, ok = {}, True
    for dtype in ('fp32', 'fp16', 'int8'):
        out = os.path.join(d, f'quant_{dtype}_{kernels}_out.npy')
        check_parity.run_tool([a.run, os.path.join(d, f'quant_{dtype}.vitrt'), '--threads', '1',
                               '--tensor', os.path.join(d, 'input.npy'), '--logits-out', out], kernels)
        logits[dtype] = np.load(out).astype(np.float64).reshape(-1)
    err32 = np.abs(logits['fp32'] - expected).max() / scale
    err16 = np.abs(logits['fp16'] - expected).max() / scale
    e8 = logits['int8']
    cos8 = float(e8 @ expected / np.sqrt((e8 @ e8) * (expected @ expected)))
    err8 = np.abs(e8 - expected).max() / scale
    top8 = int(e8.argmax()) == int(expected.argmax())
    print(f'{name}: max |error| / max |logit|: fp32 {err32:.2e}, fp16 {err16:.2e}, int8 {err8:.2e}; '
          f'int8 cosine {cos8:.5f}, top-1 {"matches" if top8 else "differs"}')
    if not err16 <= FP16_TOL:
        print(f'FAIL {name}: fp16 error {err16:.3g} > {FP16_TOL}')
        ok = False
    if not cos8 >= INT8_COSINE:
        print(f'FAIL {name}: int8 cosine {cos8:.5f} < {INT8_COSINE}')
        ok = False
    return ok


def check_sizes(name, checkpoint, sizes):
    fp32_weights = 4 * linear_weight_elements(checkpoint)
    share16 = (fp32_weights - (sizes['fp32'] - sizes['fp16'])) / fp32_weights
    share8 = (fp32_weights - (sizes['fp32'] - sizes['int8'])) / fp32_weights
    print(f'{name}: Linear weights fp16 {share16:.3f}, int8 {share8:.3f} of fp32')
    ok = True
    # Tiles, 64-byte alignment and 8 bytes of scale + sum per output channel
    # weigh more in tiny models: the bounds allow for them.
    if not 0.49 <= share16 <= 0.53:
        print(f'FAIL {name}: fp16 Linear weights are {share16:.3f} of fp32, expected ~0.5')
        ok = False
    if not 0.25 <= share8 <= (0.27 if fp32_weights > 1 << 20 else 0.45):
        print(f'FAIL {name}: int8 Linear weights are {share8:.3f} of fp32, expected ~0.25')
        ok = False
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--convert', required=True)
    ap.add_argument('--run', required=True)
    ap.add_argument('--sizes', action='store_true', help='also check file sizes (timm-named safetensors)')
    ap.add_argument('case_dirs', nargs='+')
    a = ap.parse_args()
    a.kernel_sets, skipped = check_parity.kernel_sets(a.run)
    ok = True
    for d in a.case_dirs:
        ok = check_case(a, d) and ok
    print('kernel sets run: ' + ' '.join(a.kernel_sets))
    print('kernel sets skipped: ' + ('; '.join(f'{k} ({v})' for k, v in skipped.items()) or 'none'))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
