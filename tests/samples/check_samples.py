#!/usr/bin/python3
"""Check vitrt-run's preprocessing and .npy I/O against PyTorch, PIL, NumPy.

usage: check_samples.py PROBE WORKDIR   (PROBE = vitrt_samples_probe)

The preprocessing reference is torch_reference.py.
"""
import io
import math
import os
import subprocess
import sys

import numpy as np

import torch_reference as ref

ATOL = 1e-5
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
GRAY = ((0.5,), (0.25,))

# (name, PIL mode written, height, width)
IMAGES = [('rgb_37x23', 'RGB', 37, 23), ('rgb_20x50', 'RGB', 20, 50),
          ('rgba_23x37', 'RGBA', 23, 37), ('gray_31x31', 'L', 31, 31), ('palette_29x41', 'P', 29, 41)]
# (model h, model w, resize mode, interpolation, crop_pct): down- and
# upscaling, both modes, and a non-square crop that needs padding.
SPECS = [(16, 16, 'crop', 'bicubic', 0.875), (16, 16, 'crop', 'bilinear', 0.875),
         (64, 64, 'crop', 'bicubic', 0.9), (64, 64, 'crop', 'bilinear', 0.9),
         (12, 20, 'stretch', 'bicubic', 0.875), (48, 80, 'stretch', 'bilinear', 0.875),
         (40, 24, 'crop', 'bicubic', 1.0), (15, 9, 'crop', 'bilinear', 0.95)]

failures = []


def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failures.append(what)


def probe(*args):
    return subprocess.run([PROBE, *map(str, args)], capture_output=True, text=True)


def check_preprocess():
    rng = np.random.default_rng(1234)
    for name, pil_mode, ih, iw in IMAGES:
        path = os.path.join(WORK, name + '.png')
        ref.random_image(path, rng, ih, iw, pil_mode)
        for h, w, mode, interp, crop_pct in SPECS:
            for mean, std in (IMAGENET, GRAY):
                c = len(mean)
                out = os.path.join(WORK, 'out.npy')
                r = probe('preprocess', path, out, h, w, c, mode, interp, crop_pct, *mean, *std)
                what = f'{name} -> {c}x{h}x{w} {mode} {interp} crop_pct={crop_pct}'
                if r.returncode != 0:
                    check(False, f'{what}: probe failed: {r.stderr.strip()}')
                    continue
                got = np.load(out)
                want = ref.preprocess(path, c, h, w, mode, interp, crop_pct, mean, std)
                err = float(np.abs(got - want).max()) if got.shape == want.shape else math.inf
                check(err <= ATOL, f'{what}: max |diff| {err:.2e}')


def check_npy():
    rng = np.random.default_rng(7)
    for shape in [(2, 3, 4), (5,), (), (1, 3, 7, 9), (0, 3)]:
        a = rng.standard_normal(shape).astype('<f4')
        for version in [(1, 0), (2, 0), (3, 0)]:
            src, dst = os.path.join(WORK, 'in.npy'), os.path.join(WORK, 'copy.npy')
            with open(src, 'wb') as f:
                np.lib.format.write_array(f, a, version=version)
            r = probe('npy-copy', src, dst)
            if r.returncode != 0:
                check(False, f'npy {shape} v{version[0]}: {r.stderr.strip()}')
                continue
            expected = io.BytesIO()
            np.save(expected, a)
            with open(dst, 'rb') as f:
                written = f.read()
            check(written == expected.getvalue(), f'npy {shape} v{version[0]} read, rewritten byte-identical to np.save')
    # Fortran order (numpy writes it for transposed arrays): read as np.load does.
    for shape in [(2, 3), (3, 1, 4), (2, 3, 4)]:
        a = np.asfortranarray(rng.standard_normal(shape).astype('<f4'))
        src, dst = os.path.join(WORK, 'fortran.npy'), os.path.join(WORK, 'copy.npy')
        np.save(src, a)
        r = probe('npy-copy', src, dst)
        check(r.returncode == 0 and np.array_equal(np.load(dst), np.load(src)),
              f'npy fortran_order {shape}: exit {r.returncode} {r.stderr.strip()}')


def check_errors():
    def refused(args, needle, what):
        r = probe(*args)
        lines = r.stderr.strip().splitlines()
        check(r.returncode != 0 and len(lines) == 1 and needle in lines[0],
              f'{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}')

    junk = os.path.join(WORK, 'junk.png')
    with open(junk, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + bytes(range(200)))
    spec = [8, 8, 3, 'crop', 'bicubic', 0.875, *IMAGENET[0], *IMAGENET[1]]
    refused(['preprocess', junk, os.path.join(WORK, 'x.npy'), *spec], 'PNG decode failed: ', 'corrupt PNG')
    refused(['preprocess', os.path.join(WORK, 'missing.png'), os.path.join(WORK, 'x.npy'), *spec],
            'no such file', 'missing image')
    for arr, needle in [(np.zeros((2, 2), np.float64), "'<f8'"), (np.zeros((2, 2), '>f4'), "'>f4'")]:
        path = os.path.join(WORK, 'bad.npy')
        np.save(path, arr)
        refused(['npy-copy', path, os.path.join(WORK, 'x.npy')], needle, f'npy {needle}')
    path = os.path.join(WORK, 'short.npy')
    np.save(path, np.zeros((4, 4), np.float32))
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) - 3)
    refused(['npy-copy', path, os.path.join(WORK, 'x.npy')], 'truncated', 'truncated npy')


if __name__ == '__main__':
    PROBE, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    check_preprocess()
    check_npy()
    check_errors()
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)
