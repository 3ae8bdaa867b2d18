#!/usr/bin/python3
"""Seed corpora for the fuzz harnesses, written from scratch by the build.

  make_seeds.py OUT_DIR VITRT_CONVERT

OUT_DIR/<harness>/ gets small valid inputs: a tiny timm ViT state dict as
safetensors, as .pth (zip and legacy pickle, wrapped as training
checkpoints) and as a Google-style .npz (one array Fortran-ordered); a
config.json; PNG and JPEG images; model files converted from the
safetensors seed by VITRT_CONVERT (fp32, fp16, int8).
"""
import io
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from PIL import Image


def tiny_state_dict():
    g = torch.Generator().manual_seed(0)
    d, h, n = 16, 32, 4  # dim, mlp, tokens (8x8 image, 4x4 patches) + cls

    def t(*shape):
        return torch.randn(*shape, generator=g) * 0.1

    sd = {'patch_embed.proj.weight': t(d, 3, 4, 4), 'patch_embed.proj.bias': t(d),
          'cls_token': t(1, 1, d), 'pos_embed': t(1, n + 1, d)}
    for name, shape in [('norm1.weight', [d]), ('norm1.bias', [d]), ('attn.qkv.weight', [3 * d, d]),
                        ('attn.qkv.bias', [3 * d]), ('attn.proj.weight', [d, d]), ('attn.proj.bias', [d]),
                        ('norm2.weight', [d]), ('norm2.bias', [d]), ('mlp.fc1.weight', [h, d]),
                        ('mlp.fc1.bias', [h]), ('mlp.fc2.weight', [d, h]), ('mlp.fc2.bias', [d])]:
        sd['blocks.0.' + name] = t(*shape)
    sd.update({'norm.weight': t(d), 'norm.bias': t(d), 'head.weight': t(5, d), 'head.bias': t(5)})
    return sd


def safetensors_bytes(sd):
    header, blobs, offset = {}, [], 0
    for name, v in sd.items():
        raw = v.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(v.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def main():
    out, convert = sys.argv[1], sys.argv[2]
    sd = tiny_state_dict()
    st = os.path.join(out, 'safetensors', 'timm_tiny.safetensors')
    write(st, safetensors_bytes(sd))

    for name, obj, zipped in [('state_dict_zip.pth', sd, True), ('state_dict_legacy.pth', sd, False),
                              ('train_ckpt.pth', {'model': sd, 'epoch': 3, 'args': [1, 2.5, 'x']}, True),
                              ('mocov3.pth', {'arch': 'vit_small', 'state_dict':
                                              {'module.base_encoder.' + k: v for k, v in sd.items()}}, True)]:
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
        write(os.path.join(out, 'pth', name), buf.getvalue())

    arrays = {k.replace('.', '/'): v.numpy() for k, v in sd.items()}
    arrays['Transformer/encoder_norm/scale'] = np.asfortranarray(np.ones((4, 4), np.float32))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write(os.path.join(out, 'npz', 'google.npz'), buf.getvalue())
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)))
    write(os.path.join(out, 'npz', 'fortran.npy'), buf.getvalue())

    write(os.path.join(out, 'json', 'config.json'), json.dumps(
        {'architecture': 'vit_tiny_patch16_224', 'num_classes': 5, 'pretrained_cfg':
         {'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5], 'crop_pct': 0.9,
          'interpolation': 'bicubic', 'label_names': ['a', 'b']}}).encode())

    pixels = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    for name, mode, fmt, kw in [('rgb.png', 'RGB', 'PNG', {}), ('gray.png', 'L', 'PNG', {}),
                                ('rgba.png', 'RGBA', 'PNG', {}), ('base.jpg', 'RGB', 'JPEG', {}),
                                ('progressive.jpg', 'RGB', 'JPEG', {'progressive': True})]:
        buf = io.BytesIO()
        Image.fromarray(pixels).convert(mode).save(buf, fmt, **kw)
        write(os.path.join(out, 'image', name), buf.getvalue())

    os.makedirs(os.path.join(out, 'model'), exist_ok=True)
    for dtype in ('fp32', 'fp16', 'int8'):
        subprocess.run([convert, st, '-o', os.path.join(out, 'model', f'tiny_{dtype}.vitrt'),
                        '--heads', '2', '--dtype', dtype], check=True, stdout=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
