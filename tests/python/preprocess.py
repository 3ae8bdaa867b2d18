"""PyTorch reference of vitrt-run's image preprocessing (ShorterSideCrop mode).

  RGB uint8 (or grayscale for 1-channel models) -> float / 255
  -> resize so the shorter side = floor(img_size / crop_pct), the longer side
     = int(scale * long / short) (torchvision Resize(int) semantics), with
     F.interpolate(mode='bicubic'|'bilinear', align_corners=False, antialias=True)
     on the float image, no clamping or rounding
  -> centre crop like torchvision (top = int(round((H - h) / 2.0)))
  -> (x - mean) / std per channel.

Computed in float64 so it is a tighter reference than the fp32 runtime.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F


def load_image(path, channels=3):
    """Decode to a uint8 HxWxC numpy array (PIL; RGB, or L for 1 channel)."""
    from PIL import Image
    img = Image.open(path).convert('RGB' if channels == 3 else 'L')
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def preprocess(img_u8, img_size, mean, std, crop_pct=0.875, interpolation='bicubic'):
    """uint8 HxWxC -> float64 tensor [1, C, h, w] as vitrt-run feeds the model.

    img_size: int (square models; the contract does not cover others here).
    """
    h = w = int(img_size)
    x = torch.from_numpy(np.ascontiguousarray(img_u8)).permute(2, 0, 1)[None].double() / 255.0
    H, W = x.shape[2:]
    scale = math.floor(img_size / crop_pct)
    if H <= W:
        new_h, new_w = scale, int(scale * W / H)
    else:
        new_h, new_w = int(scale * H / W), scale
    x = F.interpolate(x, size=(new_h, new_w), mode=interpolation, align_corners=False, antialias=True)
    top = int(round((new_h - h) / 2.0))
    left = int(round((new_w - w) / 2.0))
    x = x[:, :, top:top + h, left:left + w]
    m = torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
    return (x - m) / s


def synthetic_image(height, width, seed, channels=3):
    """A smooth colour pattern plus noise, uint8 HxWxC (deterministic)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        fy, fx, ph = rng.uniform(0.01, 0.08), rng.uniform(0.01, 0.08), rng.uniform(0, 2 * np.pi)
        planes.append(0.5 + 0.35 * np.sin(fy * yy + ph) * np.cos(fx * xx - ph) + 0.1 * (xx / width - yy / height))
    img = np.stack(planes, axis=2) + rng.normal(0, 0.06, size=(height, width, channels))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def write_png(path, img_u8):
    from PIL import Image
    arr = img_u8[:, :, 0] if img_u8.shape[2] == 1 else img_u8
    Image.fromarray(arr).save(path, format='PNG')
