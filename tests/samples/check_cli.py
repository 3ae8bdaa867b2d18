#!/usr/bin/python3
"""The four tools end to end on small generated models and the bundled sample model.

usage: check_cli.py CONVERT RUN BENCH EVAL MAKE_MODEL WORKDIR

Checks, against PyTorch/PIL/NumPy rather than vitrt's own code:
  * --dump-input equals torch_reference.preprocess with the model's own
    preprocessing settings (non-square model, crop_pct 0.8, bilinear; and a
    grayscale stretch/bicubic model);
  * the top-k lines are NumPy's softmax/argsort of --logits-out, with labels;
  * --tensor [N, C, H, W] gives the image run's logits, at 1 and 2 threads;
  * vitrt-bench text and --json output;
  * every error exits non-zero with exactly one stderr line;
  * the four tools alike (check_alike): --version, --help anywhere, unknown
    options, exit 2 for usage errors and 1 for the rest, "TOOL: error: ..."
    lines, directories and empty files named as such, --threads exactly the
    runtime's range (VITRT_MAX_THREADS in vitrt.h), one image-extension
    list, image errors naming the format;
  * vitrt-convert's recorded-preprocessing, weights and arena lines and its
    notes on defaults; --inspect of a model file (text, --json); vitrt-run
    --attention-map;
  * vitrt-run --json against the logits; vitrt-eval's class folders mapped by
    the model's labels (a subset of the classes) or by sorted order, and
    --per-class, against answers computed here from vitrt-run's logits.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image
from PIL import Image

import torch_reference as ref

LABELS = ['zero', 'one two', 'three', 'four', 'five', 'six']
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SAMPLE = os.path.join(ROOT, 'samples', 'data', 'fmnist_vit')
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
    refused([run, WORK, img], 'is a directory', 'directory as model')
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


def header_value(path, pattern):
    with open(os.path.join(ROOT, path)) as f:
        return re.search(pattern, f.read()).group(1)


def failed(args, code, needle, what):
    """Exit `code`, one stderr line 'TOOL: error: ...' holding `needle` (after any progress lines)."""
    p = tool(*args)
    name = os.path.basename(str(args[0]))
    lines = [l for l in p.stderr.splitlines()
             if l and not re.fullmatch(r'vitrt-(eval|convert: calibrating): \d+/\d+ images|vitrt-convert: note: .*', l)]
    ok = p.returncode == code and len(lines) == 1 and lines[0].startswith(f'{name}: error: ')
    check(ok and needle in lines[0], f'{what}: exit {p.returncode} (want {code}), stderr {p.stderr.strip()!r}')
    return lines[0] if lines else ''


def softmax(row):
    p = np.exp(row.astype(np.float64) - row.max())
    return p / p.sum()


def check_run_json(run, model, images, labels):
    """--json: one array, an object per input whose top-k is NumPy's softmax/argsort of the logits."""
    what = f'vitrt-run --json ({"labels" if labels else "no labels"})'
    logits = os.path.join(WORK, 'json_logits.npy')
    p = tool(run, model, *images, '--json', '--top-k', 3, '--logits-out', logits)
    if not succeeded(p, what):
        return
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    check(isinstance(doc, list) and len(doc) == len(images), f'{what}: stdout is one JSON array: {p.stdout[:200]!r}')
    if not isinstance(doc, list):
        return
    for entry, row, name in zip(doc, np.load(logits), images):
        order = np.argsort(-row, kind='stable')[:3]
        want = [{'class': int(c), 'label': labels[c] if labels else None} for c in order]
        got = [{'class': t.get('class'), 'label': t.get('label')} for t in entry.get('top', [])]
        scores = [t.get('score') for t in entry.get('top', [])]
        ok = entry.get('input') == name and sorted(entry) == ['input', 'top'] and got == want
        check(ok and np.allclose(scores, softmax(row)[order], atol=1e-7), f'{what}: {os.path.basename(name)}: {entry}')


def convert_sample(convert):
    """The bundled Fashion-MNIST ViT, its labels file given with trailing blank lines."""
    labels = os.path.join(WORK, 'labels_blank_tail.txt')
    with open(os.path.join(SAMPLE, 'labels.txt')) as f, open(labels, 'w') as out:
        out.write(f.read() + '\n\n  \n')
    model = os.path.join(WORK, 'fmnist.vitrt')
    p = tool(convert, *sample_convert_args(labels), '-o', model)
    check(p.returncode == 0, f'labels file with trailing blank lines: 10 labels for 10 classes: {p.stderr.strip()!r}')
    if p.returncode != 0:
        sys.exit('FAIL: cannot convert the sample model')
    return model


def sample_convert_args(labels):
    return [os.path.join(SAMPLE, 'model.safetensors'), '--heads', 4, '--image-size', 28, '--crop-pct', 1,
            '--mean', 0.2861, '--std', 0.3528, '--labels', labels]


def check_alike(convert, run, bench, evaluate, model):
    """--version, --help anywhere, unknown options, exit codes, prefixes, files named as what they are."""
    version = header_value('CMakeLists.txt', r'project\(vitrt VERSION (\S+)')
    max_threads = int(header_value('runtime/include/vitrt/vitrt.h', r'#define VITRT_MAX_THREADS (\d+)'))
    image = os.path.join(SAMPLE, 'images', '9000_Ankle_boot.png')
    tree = os.path.join(WORK, 'alike_tree')
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, 'Ankle boot'))
    shutil.copy(image, os.path.join(tree, 'Ankle boot'))
    empty = os.path.join(WORK, 'empty_file')
    open(empty, 'w').close()
    labels = os.path.join(SAMPLE, 'labels.txt')
    out = os.path.join(WORK, 'alike.vitrt')
    # Each tool: a valid command line, where its model (or checkpoint) goes in it.
    valid = {'vitrt-convert': [convert, *sample_convert_args(labels), '-o', out],
             'vitrt-run': [run, model, image],
             'vitrt-bench': [bench, model, '--runs', 1, '--warmup', 0],
             'vitrt-eval': [evaluate, model, tree]}
    threads_errors = set()
    for name, args in valid.items():
        p = tool(args[0], '--version')
        check(p.returncode == 0 and p.stdout == f'{name} {version}\n' and p.stderr == '',
              f'{name} --version: exit {p.returncode}, {p.stdout!r}')
        for extra in (['--help'], args[1:] + ['--help'], ['--frobnicate', '--threads', 'x', '-h', 'y']):
            p = tool(args[0], *extra)
            check(p.returncode == 0 and p.stdout.startswith(f'usage: {name} ') and p.stderr == '',
                  f'{name} {" ".join(map(str, extra))}: usage, exit {p.returncode}')
        line = failed(args + ['--frobnicate'], 2, '', f'{name}: unknown option')
        check(line == f"{name}: error: unknown option '--frobnicate' (see {name} --help)", f'{name}: {line!r}')
        failed([args[0]], 2, '', f'{name} without arguments')
        if name != 'vitrt-convert':
            failed([args[0], os.path.join(WORK, 'missing.vitrt')] + args[2:], 1, 'no such file', f'{name}: missing model')
            failed([args[0], WORK] + args[2:], 1, f"model '{WORK}': is a directory", f'{name}: directory as model')
            failed([args[0], empty] + args[2:], 1, f"model '{empty}': is empty", f'{name}: empty model')
            for bad in (0, max_threads + 1):
                threads_errors.add(failed(args + ['--threads', bad], 2, f'--threads takes an integer in [1, {max_threads}]',
                                          f'{name} --threads {bad}').split(': ', 2)[-1].split(', got')[0])
            p = tool(*args, '--threads', max_threads)
            check(p.returncode == 0, f'{name} --threads {max_threads} (the runtime\'s limit): exit {p.returncode}')
        else:
            p = tool(*args)
            check(p.returncode == 0 and p.stdout and all(l.startswith('vitrt-convert: note: ') for l in
                                                         p.stderr.splitlines()), f'{name}: stderr lines prefixed')
            ck = args[1]
            failed([convert, os.path.join(WORK, 'missing.pth'), '-o', out], 1, 'no such file', f'{name}: missing checkpoint')
            failed([convert, WORK, '-o', out], 1, f'{WORK}: is a directory', f'{name}: directory as checkpoint')
            failed([convert, empty, '-o', out], 1, f'{empty}: is empty', f'{name}: empty checkpoint')
            failed(args + ['--labels', WORK], 1, 'is a directory', f'{name}: directory as --labels')
            failed(args + ['--labels', empty], 1, 'is empty', f'{name}: empty --labels')
            failed([convert, ck, '-o', out, '--config', WORK], 1, 'is a directory', f'{name}: directory as --config')
            failed([convert, ck], 2, '-o OUT', f'{name}: no -o')
            failed([convert, ck, '-o', out, '--heads', 'x'], 2, '--heads', f'{name}: bad --heads')
    check(len(threads_errors) == 1, f'one --threads message for all tools: {threads_errors}')


def check_image_lists(convert, run, evaluate, model):
    """vitrt-run DIR, vitrt-eval's class folders and --calib take the same files; errors name the format."""
    d = os.path.join(WORK, 'mixed', 'Ankle boot')
    shutil.rmtree(os.path.dirname(d), ignore_errors=True)
    os.makedirs(os.path.join(d, 'sub'))
    shutil.copy(os.path.join(SAMPLE, 'images', '9000_Ankle_boot.png'), os.path.join(d, 'b.png'))
    Image.open(os.path.join(SAMPLE, 'images', '7000_Sneaker.png')).save(os.path.join(d, 'sub', 'a.JPG'), 'JPEG')
    with open(os.path.join(d, 'notes.txt'), 'w') as f:
        f.write('not an image\n')
    calib = [convert, *sample_convert_args(os.path.join(SAMPLE, 'labels.txt')), '-o', os.path.join(WORK, 'c.vitrt'),
             '--dtype', 'int8', '--calib', d]
    p = tool(run, model, d, '--json')
    names = [e['input'] for e in json.loads(p.stdout)] if p.returncode == 0 else p.stderr
    check(names == [os.path.join(d, 'b.png'), os.path.join(d, 'sub', 'a.JPG')], f'vitrt-run DIR: the images, sorted: {names}')
    p = tool(evaluate, model, os.path.dirname(d), '--json')
    check(p.returncode == 0 and json.loads(p.stdout)['n'] == 2, f'vitrt-eval: the same 2 images: {p.stdout.strip()}')
    p = tool(*calib)
    check(p.returncode == 0 and 'calibrating: 2/2 images' in p.stderr, f'--calib: the same 2 images: {p.stderr!r}')
    with open(os.path.join(d, 'c.webp'), 'wb') as f:  # listed by all three, decoded by none
        f.write(b'RIFF\x10\x00\x00\x00WEBPVP8 ' + bytes(8))
    for args in ([run, model, d], [evaluate, model, os.path.dirname(d)], calib):
        failed(args, 1, 'c.webp\': WebP is not supported, only PNG and JPEG', f'{os.path.basename(args[0])}: a .webp file')
    os.remove(os.path.join(d, 'c.webp'))
    for name, data, needle in (('bad.png', b'\x89PNG\r\n\x1a\n' + bytes(range(64)), 'PNG decode failed: '),
                               ('bad.jpg', b'\xff\xd8\xff\xe0' + bytes(range(64)), 'JPEG')):
        with open(os.path.join(WORK, name), 'wb') as f:
            f.write(data)
        failed([run, model, os.path.join(WORK, name)], 1, needle, f'a corrupt {name}: the format named')
    os.makedirs(os.path.join(WORK, 'no_images'), exist_ok=True)
    failed([run, model, os.path.join(WORK, 'no_images')], 1, 'no images (.jpg, .jpeg, .png', 'vitrt-run on an empty DIR')


def eval_json(evaluate, args, what):
    p = tool(evaluate, *args, '--json')
    ok = p.returncode == 0 and all(re.fullmatch(r'vitrt-eval: \d+/\d+ images', l) for l in p.stderr.splitlines())
    check(ok, f'{what}: exit {p.returncode}, stderr {p.stderr.strip()[-200:]!r}')
    return json.loads(p.stdout) if ok else None


def check_eval_mapping(run, evaluate, model):
    """Folders named as labels score a subset of the classes; other names map in sorted order."""
    with open(os.path.join(SAMPLE, 'labels.txt')) as f:
        labels = f.read().splitlines()
    shots = sorted(os.listdir(os.path.join(SAMPLE, 'images')))  # '<index>_<class>.png', one a class
    # A subset of 4 classes, by label (case and punctuation as users write folder names); one
    # misfiled image so that accuracy is not 1.
    subset = {'Ankle_boot': [9, 7], 'Bag': [8], 'T-shirt_top': [0, 6], 'trouser': [1]}
    tree = os.path.join(WORK, 'by_label')
    shutil.rmtree(tree, ignore_errors=True)
    for folder, picks in subset.items():
        os.makedirs(os.path.join(tree, folder))
        for i in picks:
            shutil.copy(os.path.join(SAMPLE, 'images', shots[i]), os.path.join(tree, folder))
    folders = sorted(subset)
    classes = [{'Ankle_boot': 9, 'Bag': 8, 'T-shirt_top': 0, 'trouser': 1}[f] for f in folders]
    files = [os.path.join(tree, f, shots[i]) for f in folders for i in sorted(subset[f], key=lambda i: shots[i])]
    targets = np.array([c for f, c in zip(folders, classes) for _ in subset[f]])
    out = os.path.join(WORK, 'eval_logits.npy')
    if tool(run, model, *files, '--logits-out', out).returncode != 0:
        sys.exit('FAIL: vitrt-run on the by-label tree')
    y = np.load(out)
    order = np.argsort(-y, axis=1, kind='stable')
    hit1, hit5 = order[:, 0] == targets, (order[:, :5] == targets[:, None]).any(1)
    got = eval_json(evaluate, [model, tree, '--per-class'], 'by label')
    if got:
        want_rows = [{'class': c, 'folder': f, 'n': len(subset[f]),
                      'top1': float(hit1[targets == c].mean()), 'top5': float(hit5[targets == c].mean())}
                     for f, c in zip(folders, classes)]
        ok = got['mapping'] == 'labels' and got['classes'] == 4 and got['n'] == len(files)
        ok = ok and abs(got['top1'] - hit1.mean()) < 1e-9 and abs(got['top5'] - hit5.mean()) < 1e-9 and hit1.mean() < 1
        ok = ok and all(g == w or (g.keys() == w.keys() and all(abs(g[k] - w[k]) < 1e-9 if isinstance(w[k], float)
                                                                 else g[k] == w[k] for k in w))
                        for g, w in zip(got['per_class'], want_rows)) and len(got['per_class']) == 4
        check(ok, f'by label: 4 of 10 classes, argmax over all 10, per class: {got}')
    p = tool(evaluate, model, tree, '--per-class')
    lines = p.stdout.splitlines()
    check(len(lines) > 1 and "folder names = the model's labels (4 of 10 classes; argmax over all 10)" in lines[1],
          f'text report names the mapping: {lines[1:2]}')
    rows = [l.split(None, 4) for l in lines[5:9]]
    check([(int(r[0]), int(r[1]), r[4]) for r in rows] == [(c, len(subset[f]), f) for f, c in zip(folders, classes)],
          f'--per-class table: {lines[4:9]}')

    # Folder names that are not labels ('00_T-shirt_top', as scripts/fmnist_imagefolder.py
    # writes them): sorted order, all 10 classes.
    tree = os.path.join(WORK, 'by_order')
    shutil.rmtree(tree, ignore_errors=True)
    for c, shot in enumerate(shots):
        os.makedirs(os.path.join(tree, f'{c:02d}_{labels[c].replace("/", "_")}'))
        shutil.copy(os.path.join(SAMPLE, 'images', shot), os.path.join(tree, f'{c:02d}_{labels[c].replace("/", "_")}'))
    got = eval_json(evaluate, [model, tree], 'by order')
    check(got is not None and got['mapping'] == 'sorted' and got['classes'] == 10 and got['n'] == 10,
          f'sorted order when folder names are no labels: {got}')
    p = tool(evaluate, model, tree)
    check("sorted folder order, as torchvision's ImageFolder (by label: no label is '00_T-shirt_top')" in p.stdout,
          f'the text report says why: {p.stdout.splitlines()[1:2]}')

    # A subset must map by label: a folder that is none, two folders for one class.
    for names, needle in ((['Bag', 'Sock'], "no label is 'Sock'"), (['Bag', 'bag'], "'Bag' and 'bag' both match class 8")):
        tree = os.path.join(WORK, 'bad_subset')
        shutil.rmtree(tree, ignore_errors=True)
        for n in names:
            os.makedirs(os.path.join(tree, n))
            shutil.copy(os.path.join(SAMPLE, 'images', shots[8]), os.path.join(tree, n))
        failed([evaluate, model, tree], 1, f'has 2 class folders, the model has 10 classes', f'subset {names}')
        failed([evaluate, model, tree], 1, needle, f'subset {names}: why')


def check_recorded(convert, run, model):
    """What vitrt-convert says it recorded, --inspect of a model file, --attention-map."""
    labels = open(os.path.join(SAMPLE, 'labels.txt')).read().split('\n')[:10]
    out = os.path.join(WORK, 'recorded.vitrt')
    p = tool(convert, *sample_convert_args(os.path.join(SAMPLE, 'labels.txt')), '-o', out)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 4, f'convert prints summary, preprocessing, weights, arena: {lines}')
    check(lines[1:2] == ['preprocessing: resize shorter side to 28 (28 / crop_pct 1), bicubic, antialiased; '
                         "centre crop 28x28; grey (PIL 'L'); pixels / 255, mean 0.2861 std 0.3528"],
          f'the recorded transform in full: {lines[1:2]}')
    check(lines[2:3] == ['weights: patch_embed fp32, qkv/proj/fc1/fc2 fp32, head fp32; other tensors fp32'],
          f'dtype per layer group: {lines[2:3]}')
    # Only resize and interpolation came from defaults here (crop, mean/std are flags).
    notes = [l for l in p.stderr.splitlines() if 'note: preprocessing' in l]
    check(len(notes) == 1 and 'resize crop, interpolation bicubic (vitrt\'s defaults' in notes[0],
          f'a note names the defaulted values: {p.stderr.strip()!r}')
    p = tool(convert, os.path.join(SAMPLE, 'model.safetensors'), '--config', os.path.join(SAMPLE, 'config.json'),
             '-o', os.path.join(WORK, 'config.vitrt'))
    check(p.returncode == 0 and 'note:' not in p.stderr, f'a full config leaves nothing defaulted: {p.stderr.strip()!r}')

    runs = tool(run, out, os.path.join(SAMPLE, 'images', '1000_Trouser.png'), '--threads', 1)
    arena_1t = int(runs.stdout.splitlines()[0].split()[1])
    check(lines[3].startswith(f'arena: {arena_1t} bytes (1 thread'), f'arena as vitrt-run --threads 1 binds it: {lines[3]}')
    p = tool(convert, '--inspect', out, '--json')
    info = json.loads(p.stdout) if p.returncode == 0 else {}
    check(info.get('config', {}).get('dim') == 64 and info['config']['depth'] == 4 and info['config']['heads'] == 4,
          '--inspect --json: the architecture')
    check(info.get('labels') == labels, '--inspect --json: every label')
    check(info.get('preprocess', {}).get('crop_pct') == 1 and info['preprocess']['mean'] == [0.2861],
          '--inspect --json: the preprocessing')
    check(len(info.get('linears', {})) == 1 + 4 * 4 + 1 and info.get('arena_bytes') == arena_1t,
          '--inspect --json: every Linear, the arena')
    p = tool(convert, '--inspect', out)
    check(p.returncode == 0 and 'labels: 0 T-shirt/top, 1 Trouser' in p.stdout and
          '  blocks.3.fc2: fp32 Panel16 [64x128]' in p.stdout, f'--inspect text: {p.stdout[:80]!r}')
    cut = os.path.join(WORK, 'cut.vitrt')
    with open(out, 'rb') as f, open(cut, 'wb') as g:
        g.write(f.read()[:5000])
    p = tool(convert, '--inspect', cut)
    check(p.returncode == 1 and 'not a valid vitrt model' in p.stderr, f'--inspect of a cut model: {p.stderr.strip()!r}')
    p = tool(convert, os.path.join(SAMPLE, 'model.safetensors'), '-o', cut, '--json')
    check(p.returncode == 2, '--json needs --inspect')

    png = os.path.join(WORK, 'attention.png')
    image = os.path.join(SAMPLE, 'images', '1000_Trouser.png')
    for mode in ['last', 'rollout']:
        if os.path.exists(png):
            os.remove(png)
        p = tool(run, out, image, '--attention-map', png, '--attention', mode)
        ok = p.returncode == 0 and os.path.exists(png)
        check(ok and Image.open(png).size == (224, 224) and p.stdout.splitlines()[1:] == runs.stdout.splitlines()[1:],
              f'--attention-map ({mode}): a 224x224 PNG, the same classification: {p.stderr.strip()!r}')
    # (the arena line differs: the observer needs its own buffer)
    p = tool(run, out, image, image, '--attention-map', png)
    check(p.returncode == 2 and 'one input' in p.stderr, f'--attention-map with two inputs: {p.stderr.strip()!r}')
    p = tool(run, out, image, '--attention-map', png, '--attention', 'mean')
    check(p.returncode == 2 and "invalid --attention 'mean'" in p.stderr, f'bad --attention: {p.stderr.strip()!r}')


def main():
    convert, run, bench, evaluate, make = sys.argv[1:6]
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
    check_run_json(run, rgb, images, LABELS)
    check_run_json(run, gray, images, None)
    fmnist = convert_sample(convert)
    check_alike(convert, run, bench, evaluate, fmnist)
    check_image_lists(convert, run, evaluate, fmnist)
    check_eval_mapping(run, evaluate, fmnist)
    check_recorded(convert, run, fmnist)
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    WORK = sys.argv[6]
    os.makedirs(WORK, exist_ok=True)
    main()
