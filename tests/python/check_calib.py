#!/usr/bin/python3
"""vitrt-convert --calib / --report on timm fixture cases.

  check_calib.py --convert VITRT_CONVERT --run VITRT_RUN WORK_DIR CASE_DIR...

For each CASE_DIR (a fixtures_timm.py case) writes a few synthetic PNGs into
WORK_DIR/<case>/calib (some in a subdirectory: the search is recursive) and
checks:
  (a) the calibrated (static) int8 model's logits on every calibration image
      against the fp32 vitrt model's: cosine >= 0.99;
  (b) every Linear's input_scale in the file (read back with flatc) equals
      max |input| / 127 over the calibration images, recomputed here with
      forward hooks on the PyTorch reference (timm_vit.py, float64);
  (c) --report prints one row per Linear, the logits and top-1 agreement;
      with --keep-float patch_embed that first layer is exact (cosine 1,
      SQNR inf); --dtype fp16 reports too;
  (d) without --calib every input_scale is 0 (dynamic), and --calib on a
      missing or image-less directory fails with one line on stderr.
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys

import numpy as np
import torch

import fixtures_timm
import preprocess as pp
import safetensors_io
import timm_vit

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'schema', 'vitrt.fbs')
INT8_COSINE = 0.99
SCALE_RTOL = 1e-3  # runtime fp32 vs reference float64 activations
IMAGES = 5


def run(cmd, expect_ok=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
    if expect_ok and p.returncode != 0:
        sys.exit(f'FAIL: {" ".join(shlex.quote(c) for c in cmd)}: exit {p.returncode}: {p.stderr.strip()}')
    return p


def read_model_json(path, work):
    """The .vitrt file as JSON (flatc), defaults included."""
    run(['flatc', '--json', '--strict-json', '--defaults-json', '--raw-binary', '-o', work, SCHEMA, '--', path])
    with open(os.path.join(work, os.path.splitext(os.path.basename(path))[0] + '.json')) as f:
        return json.load(f)


def file_linears(m):
    """{observer name: Linear table} of a model read back from JSON."""
    out = {'patch_embed': m['patch_embed']}
    for i, b in enumerate(m['blocks']):
        for leaf in ('qkv', 'proj', 'fc1', 'fc2'):
            if leaf in b:
                out[f'blocks.{i}.{leaf}'] = b[leaf]
    for i, l in enumerate(m.get('pre_logits', [])):
        out[f'pre_logits.{i}'] = l
    for name in ('head', 'head_dist'):
        if name in m:
            out[name] = m[name]
    return out


def reference_name(module_name):
    """timm module name -> the runtime's Linear name, or None."""
    if module_name == 'patch_embed.proj':
        return 'patch_embed'
    parts = module_name.split('.')
    if parts[0] == 'blocks' and len(parts) == 4 and parts[3] in ('qkv', 'proj', 'fc1', 'fc2'):
        return f'blocks.{parts[1]}.{parts[3]}'
    return module_name if module_name in ('head', 'head_dist') else None


def write_images(case, calib_dir, height, width):
    """Square models get larger, non-square images (resize + crop exercised);
    others exactly their size, converted with --crop-pct 1 (identity resize),
    since preprocess.py covers square models only."""
    shape = (height + 8, width + 4) if height == width else (height, width)
    paths = []
    for i in range(IMAGES):
        sub = os.path.join(calib_dir, 'sub') if i % 2 else calib_dir
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f'img{i}.png')
        pp.write_png(path, pp.synthetic_image(*shape, seed=100 * i + len(case)))
        paths.append(path)
    return paths


def model_input(path, height, width, prep):
    img = np.array(pp.load_image(path))  # writable: torch.from_numpy warns otherwise
    if height == width:
        return pp.preprocess(img, height, prep['mean'], prep['std'], prep['crop_pct'], prep['interpolation'].lower())
    assert img.shape[:2] == (height, width) and prep['crop_pct'] == 1.0
    x = torch.from_numpy(img.astype(np.float64) / 255.0).permute(2, 0, 1)[None]
    return (x - torch.tensor(prep['mean'], dtype=torch.float64).view(1, -1, 1, 1)) / \
        torch.tensor(prep['std'], dtype=torch.float64).view(1, -1, 1, 1)


def reference_absmax(case_dir, kwargs, images, height, width, prep):
    """max |input| of every Linear (patch_embed: its conv) over `images`."""
    model = timm_vit.VisionTransformer(**kwargs).eval()
    tensors, _ = safetensors_io.load_file(os.path.join(case_dir, 'model.safetensors'))
    model.load_state_dict(tensors)
    model.double()
    absmax = {}

    def hook(name):
        def record(_module, inputs, _output):
            absmax[name] = max(absmax.get(name, 0.0), float(inputs[0].abs().max()))
        return record

    for module_name, module in model.named_modules():
        name = reference_name(module_name)
        if name:
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        for path in images:
            model(model_input(path, height, width, prep))
    return absmax


def cosine(a, b):
    return float(a @ b / math.sqrt((a @ a) * (b @ b)))


def report_rows(stdout):
    """{layer: (weights, cosine, sqnr)} and the top-1 line of a --report table."""
    rows, top1 = {}, None
    for line in stdout.splitlines():
        f = line.split()
        if line.startswith('top-1 agreement'):
            top1 = line
        elif len(f) == 4 and f[0] != 'layer':
            rows[f[0]] = (f[1], float(f[2]), float(f[3]))
        elif len(f) == 3 and f[0] == 'logits':
            rows['logits'] = ('', float(f[1]), float(f[2]))
    return rows, top1


def check_case(a, case_dir):
    name = os.path.basename(case_dir.rstrip('/'))
    kwargs = fixtures_timm.CASES[name][0]
    with open(os.path.join(case_dir, 'convert_args.txt')) as f:
        conv_args = shlex.split(f.read())
    height, width = timm_vit._pair(kwargs['img_size'])
    if height != width:
        conv_args += ['--crop-pct', '1']
    work = os.path.join(a.work_dir, name)
    calib = os.path.join(work, 'calib')
    os.makedirs(work, exist_ok=True)
    images = write_images(name, calib, height, width)
    checkpoint = os.path.join(case_dir, 'model.safetensors')
    convert = [a.convert, checkpoint] + conv_args
    ok = True

    def fail(msg):
        nonlocal ok
        print(f'FAIL {name}: {msg}')
        ok = False

    fp32, dynamic, static = (os.path.join(work, f'{n}.vitrt') for n in ('fp32', 'dynamic', 'static'))
    run(convert + ['-o', fp32])
    run(convert + ['-o', dynamic, '--dtype', 'int8'])
    p = run(convert + ['-o', static, '--dtype', 'int8', '--calib', calib])
    if f'calibrating: {IMAGES}/{IMAGES} images' not in p.stderr:
        fail(f'no calibration progress on stderr: {p.stderr!r}')

    # (a) static int8 vs fp32 vitrt logits on the calibration images.
    logits = {}
    for model in (fp32, static):
        out = os.path.join(work, os.path.basename(model) + '.npy')
        run([a.run, model] + images + ['--logits-out', out])
        logits[model] = np.load(out).astype(np.float64)
    cosines = [cosine(f, s) for f, s in zip(logits[fp32], logits[static])]
    print(f'{name}: static int8 vs fp32 logits cosine min {min(cosines):.5f} over {len(cosines)} images')
    if min(cosines) < INT8_COSINE:
        fail(f'static int8 logits cosine {min(cosines):.5f} < {INT8_COSINE}')

    # (b) the written scales against the PyTorch reference's input ranges.
    written = file_linears(read_model_json(static, work))
    want = reference_absmax(case_dir, kwargs, images, height, width, read_model_json(fp32, work)['preprocess'])
    if sorted(written) != sorted(want):
        fail(f'Linears in file {sorted(written)} != reference {sorted(want)}')
    worst = 0.0
    for layer, absmax in want.items():
        got = written.get(layer, {}).get('input_scale', 0.0)
        err = abs(got - absmax / 127) / (absmax / 127)
        worst = max(worst, err)
        if not err <= SCALE_RTOL:
            fail(f'{layer}: input_scale {got} != max|x|/127 = {absmax / 127} (rel err {err:.2e})')
    print(f'{name}: {len(want)} input scales match max|x|/127, worst rel err {worst:.1e}')
    if any(l['input_scale'] != 0 for l in file_linears(read_model_json(dynamic, work)).values()):
        fail('int8 without --calib has a static input_scale')

    # (c) --report tables.
    for dtype, keep in (('int8', ['--keep-float', 'patch_embed']), ('fp16', [])):
        out = os.path.join(work, f'report_{dtype}.vitrt')
        p = run(convert + ['-o', out, '--dtype', dtype, '--calib', calib, '--report'] + keep)
        rows, top1 = report_rows(p.stdout)
        if dtype == 'int8':
            print(f'{name}: --report (int8, --keep-float patch_embed):\n{p.stdout}')
        if sorted(rows) != sorted(list(want) + ['logits']) or top1 is None:
            fail(f'{dtype} report rows {sorted(rows)} / top-1 line {top1!r}')
            continue
        if keep and not (rows['patch_embed'][1] == 1.0 and math.isinf(rows['patch_embed'][2])
                         and rows['patch_embed'][0] == 'fp32'):
            fail(f'fp32 patch_embed not exact in the report: {rows["patch_embed"]}')
        quantized = [r for layer, r in rows.items() if layer != 'logits' and not (keep and layer == 'patch_embed')]
        if any(w != dtype for w, _, _ in quantized) or min(c for _, c, _ in rows.values()) < INT8_COSINE:
            fail(f'{dtype} report rows unexpected: {rows}')

    # (d) bad calibration directories.
    empty = os.path.join(work, 'empty')
    os.makedirs(empty, exist_ok=True)
    for bad, says in ((os.path.join(work, 'missing'), 'no such directory'), (empty, 'no images')):
        out = os.path.join(work, 'bad.vitrt')
        p = run(convert + ['-o', out, '--dtype', 'int8', '--calib', bad], expect_ok=False)
        err = p.stderr.strip().splitlines()
        if p.returncode == 0 or not err or says not in err[-1] or not err[-1].startswith('vitrt-convert: error:') \
                or os.path.exists(out):
            fail(f'--calib {bad}: exit {p.returncode}, stderr {p.stderr!r}')
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--convert', required=True)
    ap.add_argument('--run', required=True)
    ap.add_argument('work_dir')
    ap.add_argument('case_dirs', nargs='+')
    a = ap.parse_args()
    ok = True
    for d in a.case_dirs:
        ok = check_case(a, d) and ok
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
