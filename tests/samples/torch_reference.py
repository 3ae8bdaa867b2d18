"""PyTorch/PIL reference of vitrt-run's image preprocessing.

PIL decodes (convert('RGB'), or 'L' for 1-channel models), then in float64
torch: / 255 -> F.interpolate(antialias=True) to the torchvision Resize(int)
size, shorter side floor(min(h, w) / crop_pct) ('crop' = ShorterSideCrop),
or straight to the model size ('stretch') -> torchvision's center_crop (with
its zero padding) -> (x - mean) / std. Returns float64 [1, C, h, w].
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def torchvision_resize_size(h, w, size):
    """torchvision.transforms.functional._compute_resized_output_size(int)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def torchvision_center_crop(x, crop_h, crop_w):
    """torchvision.transforms.functional.center_crop on a tensor."""
    h, w = x.shape[-2:]
    if crop_w > w or crop_h > h:
        pad_l = (crop_w - w) // 2 if crop_w > w else 0
        pad_t = (crop_h - h) // 2 if crop_h > h else 0
        pad_r = (crop_w - w + 1) // 2 if crop_w > w else 0
        pad_b = (crop_h - h + 1) // 2 if crop_h > h else 0
        x = F.pad(x, (pad_l, pad_r, pad_t, pad_b), value=0.0)
        h, w = x.shape[-2:]
        if (h, w) == (crop_h, crop_w):
            return x
    top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
    return x[..., top:top + crop_h, left:left + crop_w]


def preprocess(path, channels, h, w, mode, interp, crop_pct, mean, std):
    img = np.asarray(Image.open(path).convert('RGB' if channels == 3 else 'L'))
    img = img[:, :, None] if img.ndim == 2 else img
    x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].double() / 255.0
    if mode == 'crop':
        size = torchvision_resize_size(x.shape[2], x.shape[3], math.floor(min(h, w) / crop_pct))
    else:
        size = (h, w)
    x = F.interpolate(x, size=size, mode=interp, align_corners=False, antialias=True)
    if mode == 'crop':
        x = torchvision_center_crop(x, h, w)
    m = torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
    return ((x - m) / s).numpy()


def random_image(path, rng, height, width, mode):
    """Save a random PNG in PIL mode 'RGB', 'RGBA', 'L' or 'P' (palette)."""
    pixels = rng.integers(0, 256, size=(height, width, 4), dtype=np.uint8)
    if mode == 'RGBA':
        img = Image.fromarray(pixels, 'RGBA')
    elif mode == 'L':
        img = Image.fromarray(pixels[:, :, 0], 'L')
    else:
        img = Image.fromarray(pixels[:, :, :3], 'RGB')
        if mode == 'P':
            img = img.quantize(colors=64)
    img.save(path)
