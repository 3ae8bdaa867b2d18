"""Hand-written safetensors reader/writer (the `safetensors` package is not available).

Format: 8-byte little-endian u64 header length N, then N bytes of JSON
  {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
   "__metadata__": {str: str}}   (optional)
then the raw little-endian tensor bytes; offsets are relative to the end of
the header. Supported dtypes: F32, F16, BF16 (BF16 = upper 16 bits of F32).
"""
import json
import struct

import numpy as np
import torch

_NP = {'F32': np.dtype('<f4'), 'F16': np.dtype('<f2')}
_TORCH_NAME = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}


def _to_bytes(t, dtype):
    """float tensor -> little-endian bytes in `dtype` ('F32' | 'F16' | 'BF16')."""
    t = t.detach().cpu().contiguous()
    if dtype == 'BF16':
        u16 = t.to(torch.bfloat16).view(torch.int16).numpy().astype('<i2')
        return u16.tobytes()
    return t.to(torch.float32).numpy().astype(_NP[dtype]).tobytes()


def save_file(tensors, path, dtype=None, metadata=None):
    """Write {name: tensor} to `path`.

    dtype: None keeps each tensor's own dtype (must be f32/f16/bf16, float64 is
    stored as F32); or 'F32' | 'F16' | 'BF16' to convert every tensor.
    """
    header, chunks, off = {}, [], 0
    for name, t in tensors.items():
        dt = dtype or _TORCH_NAME.get(t.dtype, 'F32')
        data = _to_bytes(t, dt)
        header[name] = {'dtype': dt, 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        chunks.append(data)
        off += len(data)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(',', ':')).encode()
    hjson += b' ' * (-len(hjson) % 8)           # pad so data starts 8-aligned
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)


def load_file(path):
    """Read `path` -> {name: float32 torch tensor}, and the metadata dict."""
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop('__metadata__', {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info['data_offsets']
        raw = buf[base + b:base + e]
        shape = info['shape']
        if info['dtype'] == 'BF16':
            u = np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_NP[info['dtype']]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(shape).copy())
    return out, meta


if __name__ == '__main__':
    # Self-check: round trip in every dtype.
    import os
    import tempfile
    g = torch.Generator().manual_seed(0)
    ts = {'a': torch.randn(3, 4, generator=g), 'b.c': torch.randn(5, generator=g), 's': torch.randn(())}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'x.safetensors')
        for dt, tol in (('F32', 0), ('F16', 1e-3), ('BF16', 1e-2)):
            save_file(ts, p, dtype=dt, metadata={'format': 'pt'})
            back, meta = load_file(p)
            assert meta == {'format': 'pt'}
            for k, v in ts.items():
                assert back[k].shape == v.shape, (k, back[k].shape)
                err = (back[k] - v).abs().max().item()
                assert err <= tol * max(1.0, v.abs().max().item()), (dt, k, err)
                exact = v.to({'F16': torch.float16, 'BF16': torch.bfloat16}.get(dt, torch.float32)).float()
                assert torch.equal(back[k], exact), (dt, k)
    print('safetensors_io self-check OK')
