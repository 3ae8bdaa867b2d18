#!/usr/bin/python3
"""Accuracy of the sample model (samples/data/fmnist_vit) at one precision.

usage: check_fmnist_accuracy.py --convert VITRT_CONVERT --eval VITRT_EVAL
                                --dtype fp32|fp16|int8 [--calib DIR] DATA_DIR WORKDIR

DATA_DIR is the held-out test split as an ImageFolder tree
(scripts/fmnist_imagefolder.py): the 9,990 images PyTorch scored when the
model was trained, its accuracy in reference.json. The checkpoint is
converted with the flags of scripts/demo.sh and --dtype, then
`vitrt-eval --json` scores it (fp16 / int8: with --compare against fp32, so
both see the same inputs). Asserts, in accuracy points (1 point = 0.01):
  fp32: top-1 within 0.05 points of PyTorch's (same pixels, same
        preprocessing: only float summation order differs, which can flip
        an image whose two best logits are nearly tied)
  fp16: top-1 within 0.1 points of fp32, int8: within 0.5 points;
        top-1 agreement with fp32 >= 98 % for both.
--calib DIR (int8): static activation scales calibrated on DIR (training
images, scripts/fmnist_imagefolder.py --calib) instead of per-token ones;
the same bounds apply. Writes WORKDIR/fmnist_DTYPE[_calib].json: vitrt-eval's object plus dtype and the
model file sizes, for scripts/measure_sizes.py.
"""
import argparse
import json
import os
import subprocess
import sys

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'samples', 'data', 'fmnist_vit')
CONVERT_FLAGS = ['--heads', '4', '--image-size', '28', '--crop-pct', '1', '--mean', '0.2861', '--std', '0.3528',
                 '--labels', os.path.join(SAMPLE, 'labels.txt')]
POINT = 0.01
FP32_VS_TORCH = 0.05 * POINT
VS_FP32 = {'fp16': 0.1 * POINT, 'int8': 0.5 * POINT}
MIN_AGREEMENT = 0.98


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=3000)
    if p.returncode != 0:
        sys.exit(f'FAIL: {" ".join(cmd)}: exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}')
    return p.stdout


def convert(a, dtype, extra=()):
    # In a folder of this run's own: the tests of each dtype run in parallel.
    model = os.path.join(a.workdir, f'models_{a.name}', f'fmnist_{dtype}.vitrt')
    run([a.convert, os.path.join(SAMPLE, 'model.safetensors'), '-o', model, '--dtype', dtype] + CONVERT_FLAGS
        + list(extra))
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--convert', required=True)
    ap.add_argument('--eval', required=True)
    ap.add_argument('--dtype', required=True, choices=('fp32', 'fp16', 'int8'))
    ap.add_argument('--calib', metavar='DIR', help='int8: calibrate static activation scales on DIR')
    ap.add_argument('data')
    ap.add_argument('workdir')
    a = ap.parse_args()
    if a.calib and a.dtype != 'int8':
        ap.error('--calib goes with --dtype int8')
    a.name = a.dtype + ('_calib' if a.calib else '')
    os.makedirs(os.path.join(a.workdir, f'models_{a.name}'), exist_ok=True)
    with open(os.path.join(SAMPLE, 'reference.json')) as f:
        ref = json.load(f)

    fp32 = convert(a, 'fp32')
    model = fp32 if a.dtype == 'fp32' else convert(a, a.dtype, ['--calib', a.calib] if a.calib else [])
    cmd = [a.eval, model, a.data, '--json'] + ([] if a.dtype == 'fp32' else ['--compare', fp32])
    result = json.loads(run(cmd))
    result.update(dtype=a.dtype, calibrated=bool(a.calib), bytes=os.path.getsize(model),
                  bytes_fp32=os.path.getsize(fp32))
    with open(os.path.join(a.workdir, f'fmnist_{a.name}.json'), 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    print(json.dumps(result))

    failures = []

    def check(ok, what):
        print(('ok   ' if ok else 'FAIL ') + what)
        if not ok:
            failures.append(what)

    check(result['n'] == ref['test_images'], f'{result["n"]} images scored, PyTorch scored {ref["test_images"]}')
    fp32_top1 = result['top1' if a.dtype == 'fp32' else 'top1_other']
    torch_top1 = ref['test_accuracy']
    check(abs(fp32_top1 - torch_top1) <= FP32_VS_TORCH,
          f'fp32 top-1 {fp32_top1:.4%} vs PyTorch {torch_top1:.4%}: within {FP32_VS_TORCH / POINT} points')
    if a.dtype != 'fp32':
        tol = VS_FP32[a.dtype]
        check(abs(result['top1'] - fp32_top1) <= tol,
              f'{a.dtype} top-1 {result["top1"]:.4%} vs fp32 {fp32_top1:.4%}: within {tol / POINT} points')
        check(result['agreement'] >= MIN_AGREEMENT,
              f'{a.dtype} top-1 agreement with fp32 {result["agreement"]:.4%} >= {MIN_AGREEMENT:.0%}')
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
