#!/usr/bin/python3
"""End-to-end parity of one fixture case against the PyTorch reference.

  check_parity.py --convert VITRT_CONVERT --run VITRT_RUN CASE_DIR

CASE_DIR comes from a fixtures_<family>.py script. For every checkpoint
CASE_DIR/model.<format> (the same weights saved in one or more formats):
  1. vitrt-convert CASE_DIR/model.<format> -o model_<format>.vitrt <convert_args.txt>
  2. vitrt-run --tensor input.npy --logits-out out.npy  vs expected.npy
  3. if CASE_DIR has image_*.png: one vitrt-run over all images (-> [N, classes])
     vs the stacked expected_image_*.npy
Steps 2 and 3 run once per kernel set this CPU supports (VITRT_KERNELS=NAME,
from `vitrt-run --list-kernels`); the sets run and those skipped (with the
reason) are printed. Each comparison is numpy.allclose(out, expected,
atol=1e-4, rtol=1e-4); the max abs error is printed. Exits non-zero on any
mismatch or tool failure.
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys

import numpy as np

ATOL = RTOL = 1e-4


def run_tool(cmd, kernels=None):
    """Run a tool (with VITRT_KERNELS=kernels if given); a failure (or a
    crash by signal) ends the check."""
    env = dict(os.environ)
    env.pop('VITRT_KERNELS', None)
    if kernels:
        env['VITRT_KERNELS'] = kernels
    print(('VITRT_KERNELS=' + kernels + ' ' if kernels else '$ ') + ' '.join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600, env=env)
    if p.stdout.strip():
        print(p.stdout.rstrip())
    if p.returncode != 0:
        how = f'killed by signal {-p.returncode}' if p.returncode < 0 else f'exit code {p.returncode}'
        sys.exit(f'FAIL: {os.path.basename(cmd[0])} {how}: {p.stderr.strip()}')
    return p


def kernel_sets(run):
    """(supported, {unsupported: reason}) from `vitrt-run --list-kernels`."""
    out = run_tool([run, '--list-kernels']).stdout
    supported, skipped = [], {}
    for line in out.splitlines():
        name, _, rest = line.partition(' ')
        if rest == 'yes':
            supported.append(name)
        else:
            skipped[name] = rest.partition(': ')[2]
    if not supported:
        sys.exit('FAIL: vitrt-run --list-kernels lists no supported kernel set')
    return supported, skipped


def compare(what, out_path, expected):
    try:
        out = np.load(out_path)
    except Exception as e:  # missing or malformed .npy
        print(f'FAIL {what}: cannot read {out_path}: {e}')
        return False
    if out.dtype != np.float32 or out.shape != expected.shape:
        print(f'FAIL {what}: got {out.dtype} {out.shape}, expected float32 {expected.shape}')
        return False
    err = np.abs(out.astype(np.float64) - expected).max()
    ok = bool(np.isfinite(out).all() and np.allclose(out, expected, atol=ATOL, rtol=RTOL))
    top_ok = bool((out.argmax(axis=1) == expected.argmax(axis=1)).all())
    print(f'{"ok  " if ok else "FAIL"} {what}: max abs error {err:.3g} (atol {ATOL}, rtol {RTOL}), '
          f'top-1 {"matches" if top_ok else "DIFFERS"}')
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--convert', required=True, help='path of vitrt-convert')
    ap.add_argument('--run', required=True, help='path of vitrt-run')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('case_dir')
    a = ap.parse_args()
    d = a.case_dir
    with open(os.path.join(d, 'convert_args.txt')) as f:
        conv_args = shlex.split(f.read())

    checkpoints = sorted(p for p in glob.glob(os.path.join(d, 'model.*')) if not p.endswith('.vitrt'))
    if not checkpoints:
        sys.exit(f'FAIL: no model.<format> checkpoint in {d}')
    for stale in glob.glob(os.path.join(d, 'out*.npy')) + glob.glob(os.path.join(d, '*.vitrt')):
        os.remove(stale)
    threads = ['--threads', str(a.threads)]
    images = sorted(glob.glob(os.path.join(d, 'image_*.png')))

    sets, skipped = kernel_sets(a.run)
    ok = True  # every comparison runs even after a mismatch
    for ckpt in checkpoints:
        fmt = os.path.basename(ckpt)[len('model.'):]
        model = os.path.join(d, f'model_{fmt}.vitrt')
        run_tool([a.convert, ckpt, '-o', model] + conv_args)
        for ks in sets:
            out = os.path.join(d, f'out_{fmt}_{ks}_tensor.npy')
            run_tool([a.run, model, '--tensor', os.path.join(d, 'input.npy'), '--logits-out', out] + threads, ks)
            expected = np.load(os.path.join(d, 'expected.npy')).astype(np.float64)
            ok = compare(f'{fmt} [{ks}]: tensor input', out, expected) and ok
            if images:
                tags = [os.path.basename(p)[len('image_'):-len('.png')] for p in images]
                expected = np.concatenate([np.load(os.path.join(d, f'expected_image_{t}.npy')) for t in tags])
                out = os.path.join(d, f'out_{fmt}_{ks}_images.npy')
                run_tool([a.run, model] + images + ['--logits-out', out, '--top-k', '3'] + threads, ks)
                ok = compare(f'{fmt} [{ks}]: images ' + ', '.join(tags), out, expected.astype(np.float64)) and ok
    print('kernel sets run: ' + ' '.join(sets))
    print('kernel sets skipped: ' + ('; '.join(f'{k} ({v})' for k, v in skipped.items()) or 'none'))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
