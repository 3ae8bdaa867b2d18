#!/usr/bin/python3
"""Measured model file sizes per precision, as Markdown tables.

Usage: /usr/bin/python3 scripts/measure_sizes.py [BUILD_DIR]      (default: build)

1. Randomly initialised timm DeiT-Ti and ViT-B/16 checkpoints (weights do
   not change the sizes), written as safetensors and converted with
   BUILD_DIR/bin/vitrt-convert --dtype fp32|fp16|int8: file sizes in MiB.
2. The sample model (samples/data/fmnist_vit): file size, top-1 / top-5 on
   its 9,990 held-out images and top-1 agreement with fp32 per precision,
   from the accuracy tests' results BUILD_DIR/tests/accuracy/fmnist_*.json
   (`ctest --test-dir BUILD_DIR -R accuracy_fmnist` writes them).
Work files go to BUILD_DIR/measure_sizes/ (about 1 GB while ViT-B/16 is
converted; the models are deleted once measured, checkpoints kept for reuse).
"""
import json
import os
import subprocess
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'python'))
from safetensors_io import save_file  # noqa: E402
from timm_vit import VisionTransformer, arch_kwargs  # noqa: E402

ARCHS = [('DeiT-Ti', 'deit_tiny_patch16_224'), ('ViT-B/16', 'vit_base_patch16_224')]
DTYPES = ('fp32', 'fp16', 'int8')
MIB = 1 << 20


def checkpoint(work, arch):
    """-> (safetensors path, parameter count); written unless already there."""
    path = os.path.join(work, f'{arch}.safetensors')
    torch.manual_seed(0)
    model = VisionTransformer(**arch_kwargs(arch))
    if not os.path.exists(path):
        save_file(model.state_dict(), path, dtype='F32')
    return path, sum(p.numel() for p in model.parameters())


def converted_size(convert, ckpt, arch, dtype):
    out = os.path.join(os.path.dirname(ckpt), f'{arch}_{dtype}.vitrt')
    subprocess.run([convert, ckpt, '-o', out, '--arch', arch, '--dtype', dtype], check=True, stdout=subprocess.DEVNULL)
    size = os.path.getsize(out)
    os.remove(out)
    return size


def size_table(build):
    convert = os.path.join(build, 'bin', 'vitrt-convert')
    work = os.path.join(build, 'measure_sizes')
    os.makedirs(work, exist_ok=True)
    rows = ['| model | parameters | fp32 | fp16 | int8 |', '| --- | ---: | ---: | ---: | ---: |']
    for name, arch in ARCHS:
        print(f'converting {arch}...', file=sys.stderr, flush=True)
        ckpt, params = checkpoint(work, arch)
        sizes = {d: converted_size(convert, ckpt, arch, d) for d in DTYPES}
        cells = [f'{sizes["fp32"] / MIB:.2f} MiB'] + [
            f'{sizes[d] / MIB:.2f} MiB ({sizes[d] / sizes["fp32"]:.0%})' for d in DTYPES[1:]]
        rows.append(f'| {name} (`{arch}`) | {params / 1e6:.2f} M | ' + ' | '.join(cells) + ' |')
    return rows


def sample_table(build):
    results = {}
    for d in DTYPES + ('int8_calib',):
        path = os.path.join(build, 'tests', 'accuracy', f'fmnist_{d}.json')
        if not os.path.exists(path):
            return [f'(no {path}: run `ctest --test-dir {build} -R accuracy_fmnist` for the sample model table)']
        with open(path) as f:
            results[d] = json.load(f)
    rows = ['| precision | file size | top-1 | top-5 | top-1 agreement with fp32 | mean logit cosine |',
            '| --- | ---: | ---: | ---: | ---: | ---: |']
    for d, r in results.items():
        agree = f'{r["agreement"]:.2%}' if d != 'fp32' else '—'
        cosine = f'{r["mean_cosine"]:.7f}' if d != 'fp32' else '—'
        label = 'int8, calibrated static scales' if d == 'int8_calib' else d
        rows.append(f'| {label} | {r["bytes"] / 1024:.0f} KiB | {r["top1"]:.2%} | {r["top5"]:.2%} | {agree} | {cosine} |')
    with open(os.path.join(REPO, 'samples', 'data', 'fmnist_vit', 'reference.json')) as f:
        torch_top1 = json.load(f)['test_accuracy']
    rows.append(f'\n{results["fp32"]["n"]} held-out Fashion-MNIST test images; PyTorch (fp32): top-1 {torch_top1:.2%}.')
    return rows


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, 'build'))
    if not os.access(os.path.join(build, 'bin', 'vitrt-convert'), os.X_OK):
        sys.exit(f'{build}/bin/vitrt-convert not found: build it first (cmake --build {build} --target vitrt-convert)')
    print('\n'.join(size_table(build)))
    print()
    print('\n'.join(sample_table(build)))


if __name__ == '__main__':
    main()
