#!/usr/bin/python3
"""Check the C API's preprocessing (vitrt_preprocess) against torchvision.

usage: check_torchvision.py PROBE WORKDIR [--photos IMAGE...]
  (PROBE = vitrt_samples_probe; --photos: measure the distance to timm's PIL
  pipeline on these images instead of a generated one, for the README)

The reference is torchvision.transforms on the float64 tensor of the pixels
/ 255: Resize(antialias=True) (shorter side to floor(min(h, w) / crop_pct),
or straight to the model size), CenterCrop (zero padding included),
Normalize. 1-channel models read PIL's 'L' conversion of RGB(A) pixels, and
gray pixels are repeated for 3-channel models. Raw pixels go to the C API
through `vitrt_samples_probe preprocess-raw`, gray, RGB, RGBA and with a row
stride wider than the row.

It then prints how far timm's default evaluation pipeline, which resizes the
8-bit PIL image (PIL's fixed-point filters, rounded and clipped to 8 bits),
lands from ours; that distance is expected, checked only to be small.
"""
import math
import os
import subprocess
import sys

import numpy as np
from PIL import Image

try:
    import torch
    import torchvision.transforms as T
    from torchvision.transforms import InterpolationMode
except ImportError as e:
    sys.exit(f'check_torchvision.py: {e}; install python3-torchvision (bash scripts/setup.sh test)')

ATOL = 1e-5
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
GRAY = ((0.5,), (0.25,))
MODES = {'bilinear': InterpolationMode.BILINEAR, 'bicubic': InterpolationMode.BICUBIC}
# (height, width, seed): down- and upscaling, odd sizes, both orientations.
IMAGES = [(37, 23, 1), (20, 50, 2), (64, 64, 3), (300, 200, 4), (17, 17, 5), (9, 121, 6)]
# (model h, model w, resize mode, interpolation, crop_pct); (40, 24) needs
# CenterCrop's padding, 0.8 and 0.95 odd scales and round-half-even offsets.
SPECS = [(16, 16, 'crop', 'bicubic', 0.875), (16, 16, 'crop', 'bilinear', 0.875),
         (32, 32, 'crop', 'bicubic', 0.8), (24, 24, 'crop', 'bilinear', 1.0),
         (12, 20, 'stretch', 'bicubic', 0.875), (48, 80, 'stretch', 'bilinear', 0.875),
         (40, 24, 'crop', 'bicubic', 1.0), (15, 9, 'crop', 'bilinear', 0.95),
         (224, 224, 'crop', 'bicubic', 0.875)]
FORMATS = {1: 'gray', 3: 'RGB', 4: 'RGBA'}

failures = []


def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failures.append(what)


def synthetic(h, w, seed, channels=4):
    """Smooth colour pattern plus noise (photo-like and full-range), uint8 HxWxC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for _ in range(channels):
        fy, fx, ph = rng.uniform(0.02, 0.3), rng.uniform(0.02, 0.3), rng.uniform(0, 2 * np.pi)
        planes.append(0.5 + 0.45 * np.sin(fy * yy + ph) * np.cos(fx * xx - ph))
    img = np.stack(planes, axis=2) + rng.normal(0, 0.08, size=(h, w, channels))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def as_format(rgba, fmt):
    if fmt == 4:
        return rgba
    if fmt == 3:
        return np.ascontiguousarray(rgba[:, :, :3])
    return np.ascontiguousarray(rgba[:, :, :1])


def vitrt(pixels, stride_pad, spec, mean, std):
    """The C API's output for HWC uint8 `pixels`, rows `stride_pad` bytes wider."""
    h, w, fmt = pixels.shape
    rows = np.zeros((h, w * fmt + stride_pad), np.uint8)
    rows[:, :w * fmt] = pixels.reshape(h, w * fmt)
    rows[:, w * fmt:] = 0xA5  # padding the C API must not read
    raw = rows.tobytes()[:(h - 1) * rows.shape[1] + w * fmt]
    path, out = os.path.join(WORK, 'pixels.raw'), os.path.join(WORK, 'out.npy')
    with open(path, 'wb') as f:
        f.write(raw)
    mh, mw, mode, interp, crop_pct = spec
    args = ['preprocess-raw', path, h, w, fmt, rows.shape[1], out, mh, mw, len(mean), mode, interp, crop_pct,
            *mean, *std]
    r = subprocess.run([PROBE, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return np.load(out)


def model_tensor(pixels, channels):
    """float64 CHW in [0, 1] as the model sees the pixels (before resizing)."""
    fmt = pixels.shape[2]
    if channels == 1:
        gray = pixels[:, :, 0] if fmt == 1 else np.asarray(Image.fromarray(pixels[:, :, :3]).convert('L'))
        return torch.from_numpy(gray.copy()).double()[None] / 255.0
    rgb = np.repeat(pixels, 3, axis=2) if fmt == 1 else pixels[:, :, :3]
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1).double() / 255.0


def torchvision(pixels, spec, mean, std):
    mh, mw, mode, interp, crop_pct = spec
    steps = []
    if mode == 'crop':
        steps += [T.Resize(math.floor(min(mh, mw) / crop_pct), interpolation=MODES[interp], antialias=True),
                  T.CenterCrop((mh, mw))]
    else:
        steps += [T.Resize((mh, mw), interpolation=MODES[interp], antialias=True)]
    steps += [T.Normalize(mean, std)]
    return T.Compose(steps)(model_tensor(pixels, len(mean)))[None].numpy()


def check_against_torchvision():
    n = 0
    for h, w, seed in IMAGES:
        rgba = synthetic(h, w, seed)
        for k, spec in enumerate(SPECS):
            if spec[0] == 224 and h * w < 200 * 200:
                continue  # the full-size model: only from the large image
            fmt = (1, 3, 4)[(k + seed) % 3]
            pad = 5 if (k + seed) % 2 else 0
            for mean, std in (IMAGENET, GRAY):
                pixels = as_format(rgba, fmt)
                what = (f'{h}x{w} {FORMATS[fmt]}{" stride+%d" % pad if pad else ""} -> {len(mean)}x{spec[0]}x{spec[1]} '
                        f'{spec[2]} {spec[3]} crop_pct={spec[4]}')
                try:
                    got = vitrt(pixels, pad, spec, mean, std)
                except RuntimeError as e:
                    check(False, f'{what}: probe failed: {e}')
                    continue
                want = torchvision(pixels, spec, mean, std)
                err = float(np.abs(got - want).max()) if got.shape == want.shape else math.inf
                check(err <= ATOL, f'{what}: max |diff| {err:.2e}')
                n += 1
    print(f'{n} comparisons with torchvision.transforms')


def timm_pil(rgb, size=224, crop_pct=0.875):
    """timm's default eval transform (transforms_imagenet_eval) on a PIL image."""
    t = T.Compose([T.Resize(math.floor(size / crop_pct), interpolation=InterpolationMode.BICUBIC),
                   T.CenterCrop(size), T.ToTensor(), T.Normalize(*IMAGENET)])
    return t(Image.fromarray(rgb))[None].numpy()


def report_pil_distance(photos):
    """max / mean |ours - timm's PIL pipeline| for a 224 bicubic crop 0.875 model."""
    spec = (224, 224, 'crop', 'bicubic', 0.875)
    inputs = [(os.path.basename(p), np.asarray(Image.open(p).convert('RGB'))) for p in photos]
    if not inputs:
        inputs = [('generated 480x640', synthetic(480, 640, 7, channels=3))]
    for name, rgb in inputs:
        got = vitrt(rgb, 0, spec, *IMAGENET)
        diff = np.abs(got - timm_pil(rgb))
        pixel = diff * np.array(IMAGENET[1]).reshape(1, 3, 1, 1) * 255  # in 8-bit levels
        print(f'PIL distance, {name} ({rgb.shape[0]}x{rgb.shape[1]}): normalized max {diff.max():.4f} '
              f'mean {diff.mean():.5f}; in 8-bit levels max {pixel.max():.2f} mean {pixel.mean():.3f}')
        # Expected: rounding to 8 bits, PIL's fixed-point weights and its
        # clipping of bicubic overshoot; never a different geometry.
        check(pixel.mean() < 1.0 and pixel.max() < 64, f'PIL distance of {name} is rounding-sized')


if __name__ == '__main__':
    PROBE, WORK = sys.argv[1], sys.argv[2]
    photos = sys.argv[4:] if len(sys.argv) > 3 and sys.argv[3] == '--photos' else []
    os.makedirs(WORK, exist_ok=True)
    if not photos:
        check_against_torchvision()
    report_pil_distance(photos)
    print(f'{len(failures)} failure(s)')
    sys.exit(1 if failures else 0)
