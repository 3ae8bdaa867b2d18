#!/usr/bin/python3
"""vitrt-run / vitrt-bench end to end on small generated models.

usage: check_cli.py RUN BENCH MAKE_MODEL WORKDIR

Checks, against PyTorch/PIL/NumPy rather than vitrt's own code:
  * --dump-input equals torch_reference.preprocess with the model's own
    preprocessing settings (non-square model, crop_pct 0.8, bilinear; and a
    grayscale stretch/bicubic model);
  * the top-k lines are NumPy's softmax/argsort of --logits-out, with labels;
  * --tensor [N, C, H, W] gives the image run's logits, at 1 and 2 threads;
  * vitrt-bench text and --json output;
  * every error exits non-zero with exactly one stderr line.
"""
import json
import os
import subprocess
import sys

import numpy as np

import torch_reference as ref

LABELS = ['zero', 'one two', 'three', 'four', 'five', 'six']
failures = []


def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failures.append(what)


def tool(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def succeeded(p, what):
    check(p.returncode == 0 and p.stderr == '', f'{what}: exit {p.returncode}, stderr {p.stderr.strip()!r}')
    return p.returncode == 0


def parse_top_k(stdout):
    """'arena: N bytes', then per input a name line and '  rank prob index [label]' lines."""
    lines = stdout.splitlines()
    assert lines[0].startswith('arena: ') and lines[0].endswith(' bytes') and int(lines[0].split()[1]) > 0
    runs = []
    for line in lines[1:]:
        if not line.startswith('  '):
            runs.append((line, []))
            continue
        rank, prob, index, *label = line.split(None, 3)
        runs[-1][1].append((int(rank), float(prob), int(index), label[0] if label else None))
    return runs


def check_top_k(stdout, logits, names, k, labels, what):
    runs = parse_top_k(stdout)
    check([n for n, _ in runs] == names, f'{what}: one report per input, in order')
    for (name, rows), row in zip(runs, logits):
        p = np.exp(row.astype(np.float64) - row.max())
        p /= p.sum()
        order = np.argsort(-row, kind='stable')[:k]
        ok = [r[0] for r in rows] == list(range(1, len(order) + 1)) and [r[2] for r in rows] == list(order)
        ok = ok and np.allclose([r[1] for r in rows], p[order], atol=2e-6)
        ok = ok and [r[3] for r in rows] == [labels[i] if labels else None for i in order]
        check(ok, f'{what}: {name} top-{k} = softmax/argsort of the logits' + (' + labels' if labels else ''))


def check_model(run, model, images, channels, h, w, mode, interp, crop_pct, mean, std, labels, k):
    what = f'{channels}x{h}x{w} {mode} {interp}'
    logits, dump = os.path.join(WORK, 'logits.npy'), os.path.join(WORK, 'input.npy')
    p = tool(run, model, *images, '--top-k', k, '--logits-out', logits, '--dump-input', dump)
    if not succeeded(p, f'{what}: vitrt-run on images'):
        return
    x = np.load(dump)
    want = np.concatenate([ref.preprocess(i, channels, h, w, mode, interp, crop_pct, mean, std) for i in images])
    err = float(np.abs(x - want).max()) if x.shape == want.shape else float('inf')
    check(err <= 1e-5, f'{what}: preprocessed input vs torch, max |diff| {err:.2e}')
    y = np.load(logits)
    check(y.dtype == np.float32 and y.shape == (len(images), y.shape[1]), f'{what}: logits {y.dtype} {y.shape}')
    check_top_k(p.stdout, y, images, k, labels, what)

    for threads in (1, 2):
        logits2 = os.path.join(WORK, 'logits2.npy')
        p = tool(run, model, '--tensor', dump, '--threads', threads, '--logits-out', logits2)
        if succeeded(p, f'{what}: vitrt-run --tensor, {threads} thread(s)'):
            err = float(np.abs(np.load(logits2) - y).max())
            check(err <= 1e-5, f'{what}: --tensor logits = image logits ({threads} threads), max |diff| {err:.2e}')
            names = [f'{dump}[{i}]' for i in range(len(images))]
            check_top_k(p.stdout, y, names, 5, labels, f'{what} --tensor')


def refused(args, needle, what):
    p = tool(*args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode > 0 and len(lines) == 1 and needle in lines[0],
          f'{what}: exit {p.returncode}, stderr {p.stderr.strip()!r}')


def check_errors(run, bench, make, model):
    w = lambda name: os.path.join(WORK, name)  # noqa: E731
    np.save(w('f64.npy'), np.zeros((1, 3, 24, 32)))
    np.save(w('wrong_hw.npy'), np.zeros((1, 3, 32, 24), np.float32))
    np.save(w('3d.npy'), np.zeros((3, 24, 32), np.float32))
    nan = np.zeros((2, 3, 24, 32), np.float32)
    nan[1, 2, 3, 4] = np.nan
    np.save(w('nan.npy'), nan)
    np.save(w('inf.npy'), np.full((1, 3, 24, 32), np.inf, np.float32))
    with open(w('x.bmp'), 'wb') as f:  # a truncated header declaring 20000 x 20000
        f.write(b'BM' + bytes(16) + (20000).to_bytes(4, 'little') * 2 + b'\x01\x00\x18\x00')
    for name, data in [('empty.vitrt', b''), ('garbage.vitrt', bytes(range(256)) * 8), ('junk.png', b'not a png')]:
        with open(w(name), 'wb') as f:
            f.write(data)
    with open(model, 'rb') as f:
        whole = f.read()
    with open(w('truncated.vitrt'), 'wb') as f:
        f.write(whole[:len(whole) // 2])
    img = w('img_0.png')
    refused([run], 'missing MODEL', 'no arguments')
    refused([run, model], 'either IMAGE', 'no inputs')
    refused([run, model, img, '--tensor', w('f64.npy')], 'either IMAGE', 'images and --tensor')
    refused([run, model, img, '--top-k', '0'], '--top-k', '--top-k 0')
    refused([run, model, img, '--threads', 'two'], '--threads', '--threads two')
    refused([run, model, img, '--threads'], 'needs a value', '--threads without value')
    refused([run, model, img, '--frobnicate'], 'unknown option', 'unknown flag')
    refused([run, w('missing.vitrt'), img], 'no such file', 'missing model')
    refused([run, w('empty.vitrt'), img], 'empty', 'empty model')
    refused([run, w('garbage.vitrt'), img], 'cannot open model', 'garbage model')
    refused([run, w('truncated.vitrt'), img], 'cannot open model', 'truncated model')
    refused([run, model, w('missing.png')], 'no such file', 'missing image')
    refused([run, model, w('junk.png')], 'not a PNG or JPEG file', 'undecodable image')
    refused([run, model, w('x.bmp')], 'BMP is not supported, only PNG and JPEG', 'BMP image')
    refused([run, model, '--tensor', w('nan.npy')], 'holds a NaN or infinite value (flat index 3940)', 'NaN tensor')
    refused([run, model, '--tensor', w('inf.npy')], 'holds a NaN or infinite value', 'Inf tensor')
    refused([run, model, img, '--max-arena-mb', '0'], '--max-arena-mb', '--max-arena-mb 0')
    big = w('big.vitrt')  # 3137 tokens: an arena above 1 MiB
    if tool(make, big, 3, 224, 224, 'crop', 'bicubic', 0.875).returncode != 0:
        sys.exit('FAIL: cannot make the large test model')
    refused([run, big, img, '--max-arena-mb', '1'], 'above the limit of 1.0 MiB (--max-arena-mb raises it)',
            'arena above --max-arena-mb')
    refused([bench, big, '--max-arena-mb', '1'], 'above the limit of 1.0 MiB', 'bench arena above --max-arena-mb')
    succeeded(tool(run, big, img, '--max-arena-mb', '4096'), 'arena under a raised --max-arena-mb')
    refused([run, model, WORK], 'not a regular file', 'directory as image')
    refused([run, model, '--tensor', w('f64.npy')], "'<f8'", 'float64 tensor')
    refused([run, model, '--tensor', w('wrong_hw.npy')], 'the model takes [N, 3, 24, 32]', 'wrong H, W')
    refused([run, model, '--tensor', w('3d.npy')], 'has shape [3, 24, 32]', '3-d tensor')
    refused([run, model, img, '--logits-out', w('no/such/dir/y.npy')], 'cannot write', 'unwritable output')
    refused([bench], 'missing MODEL', 'bench without model')
    refused([bench, model, '--runs', '0'], '--runs', 'bench --runs 0')
    refused([bench, model, '--json', 'x'], 'unexpected argument', 'bench extra argument')
    refused([bench, w('garbage.vitrt')], 'cannot open model', 'bench garbage model')


def check_bench(bench, model):
    p = tool(bench, model, '--runs', 4, '--warmup', 1, '--threads', 2, '--json')
    if succeeded(p, 'vitrt-bench --json'):
        try:
            obj = json.loads(p.stdout)
        except ValueError:
            obj = {}
        keys = ['model', 'threads', 'runs', 'warmup', 'latency_ms_median', 'latency_ms_p90', 'arena_bytes',
                'model_bytes', 'kernels', 'peak_rss_bytes']
        ok = sorted(obj) == sorted(keys) and obj['model'] == model and obj['threads'] == 2 and obj['runs'] == 4
        # The fastest supported set is the first 'yes' of --list-kernels;
        # this small tool's own high-water mark is far below 100 MB.
        fastest = [l.split()[0] for l in tool(bench, '--list-kernels').stdout.splitlines() if l.endswith(' yes')][0]
        ok = ok and obj['kernels'] == fastest and 0 < obj['peak_rss_bytes'] < 100 << 20
        ok = ok and obj['warmup'] == 1 and obj['model_bytes'] == os.path.getsize(model) and obj['arena_bytes'] > 0
        ok = ok and 0 < obj['latency_ms_median'] <= obj['latency_ms_p90']
        check(ok and p.stdout.count('\n') == 1, f'vitrt-bench --json is one object: {p.stdout.strip()}')
    env = dict(os.environ, VITRT_KERNELS='ref')
    p = subprocess.run([bench, model, '--runs', '1', '--json'], stdout=subprocess.PIPE, text=True, env=env)
    check(p.returncode == 0 and json.loads(p.stdout or '{}').get('kernels') == 'ref',
          f'VITRT_KERNELS=ref: vitrt-bench reports kernels "ref": {p.stdout.strip()}')
    env['VITRT_KERNELS'] = 'sse9'
    p = subprocess.run([bench, model, '--runs', '1'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    check(p.returncode == 1 and 'VITRT_KERNELS=sse9' in p.stderr, f'unknown VITRT_KERNELS refused: {p.stderr.strip()}')
    p = tool(bench, model, '--runs', 3)
    if succeeded(p, 'vitrt-bench'):
        check('latency median: ' in p.stdout and 'latency p90: ' in p.stdout, 'vitrt-bench text report')


def main():
    run, bench, make = sys.argv[1:4]
    rng = np.random.default_rng(99)
    images = []
    for i, (h, w, mode) in enumerate([(37, 23, 'RGB'), (20, 50, 'RGBA'), (31, 31, 'L')]):
        images.append(os.path.join(WORK, f'img_{i}.png'))
        ref.random_image(images[-1], rng, h, w, mode)

    rgb = os.path.join(WORK, 'rgb.vitrt')
    if tool(make, rgb, 3, 24, 32, 'crop', 'bilinear', 0.8, *LABELS).returncode != 0:
        sys.exit('FAIL: cannot make the test model')
    check_model(run, rgb, images, 3, 24, 32, 'crop', 'bilinear', 0.8, (0.485, 0.456, 0.406),
                (0.229, 0.224, 0.225), LABELS, 3)
    gray = os.path.join(WORK, 'gray.vitrt')
    if tool(make, gray, 1, 16, 12, 'stretch', 'bicubic', 0.875).returncode != 0:
        sys.exit('FAIL: cannot make the test model')
    # k above the class count (7) lists every class.
    check_model(run, gray, images, 1, 16, 12, 'stretch', 'bicubic', 0.875, (0.5,), (0.25,), None, 10)
    check_errors(run, bench, make, rgb)
    check_bench(bench, rgb)
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    WORK = sys.argv[4]
    os.makedirs(WORK, exist_ok=True)
    main()
