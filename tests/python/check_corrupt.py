#!/usr/bin/python3
"""CLI robustness: corrupt inputs must give a clean error, never a crash.

  check_corrupt.py --convert VITRT_CONVERT --run VITRT_RUN CASE_DIR WORKDIR

CASE_DIR is a small fixtures_timm.py case. Checks:
  * vitrt-convert on truncated / garbage safetensors -> non-zero exit.
  * vitrt-run on truncated model files -> non-zero exit.
  * vitrt-run on targeted FlatBuffers corruptions (root offset, identifier,
    vtable, required field, vector lengths, tensor shapes, config values)
    -> non-zero exit.
  * vitrt-run with each byte of the FlatBuffers metadata (everything but
    tensor data) inverted in turn -> either success or a clean error.
"Clean error" = exit code > 0 (not a signal, not a timeout) and exactly one
non-empty line on stderr. The file is located with a small FlatBuffers
reader written from the schema (schema/vitrt.fbs), independent of vitrt.
"""
import argparse
import os
import random
import struct
import subprocess
import sys

# Field ids (declaration order) of the schema tables the walker follows.
MODEL = dict(config=1, preprocess=2, labels=3, patch_norm_in=4, patch_embed=5, patch_norm_out=6,
             stem_convs=7, cls_token=8, dist_token=9, pos_embed=10, blocks=11, norm=12, fc_norm=13,
             pre_logits=14, head=16, head_dist=17)
CONFIG = dict(image_h=0, image_w=1, channels=2, patch_h=3, patch_w=4, dim=5, depth=6, heads=7)
TENSOR = dict(dtype=0, shape=1, data=2, scales=3)
LINEAR, NORM = ('weight', 'bias'), ('weight', 'bias')
BLOCK = dict(norm1=(0, NORM), qkv=(1, LINEAR), proj=(2, LINEAR), norm2=(3, NORM), fc1=(4, LINEAR), fc2=(5, LINEAR))
MODEL_NORMS = ('patch_norm_in', 'patch_norm_out', 'norm', 'fc_norm')
MODEL_LINEARS = ('patch_embed', 'head', 'head_dist')
MODEL_LINEAR_LISTS = ('pre_logits',)


class FB:
    """Minimal FlatBuffers reader: tables, fields, vectors (positions only)."""

    def __init__(self, buf):
        self.b = buf

    def u32(self, pos):
        return struct.unpack_from('<I', self.b, pos)[0]

    def root(self):
        return self.u32(0)

    def field_pos(self, table, fid):
        """Absolute position of field `fid` of the table at `table`, or None."""
        vt = table - struct.unpack_from('<i', self.b, table)[0]
        vt_size = struct.unpack_from('<H', self.b, vt)[0]
        if 4 + 2 * fid + 2 > vt_size:
            return None
        off = struct.unpack_from('<H', self.b, vt + 4 + 2 * fid)[0]
        return table + off if off else None

    def deref(self, table, fid):
        """Follow a table/vector field (uoffset) -> target position, or None."""
        p = self.field_pos(table, fid)
        return None if p is None else p + self.u32(p)

    def vector(self, vec):
        """(length, first element position) of the vector at `vec`."""
        return self.u32(vec), vec + 4


def tensor_tables(fb):
    """name -> position of every Tensor table in the model."""
    out, root = {}, fb.root()

    def add_tensor(name, pos):
        if pos is not None:
            out[name] = pos

    def add_group(name, table, members):
        if table is not None:
            for i, m in enumerate(members):
                add_tensor(f'{name}.{m}', fb.deref(table, i))

    for name in ('cls_token', 'dist_token', 'pos_embed'):
        add_tensor(name, fb.deref(root, MODEL[name]))
    for name in MODEL_NORMS:
        add_group(name, fb.deref(root, MODEL[name]), NORM)
    for name in MODEL_LINEARS:
        add_group(name, fb.deref(root, MODEL[name]), LINEAR)
    for name in MODEL_LINEAR_LISTS:
        vec = fb.deref(root, MODEL[name])
        if vec is not None:
            n, first = fb.vector(vec)
            for i in range(n):
                add_group(f'{name}.{i}', first + 4 * i + fb.u32(first + 4 * i), LINEAR)
    blocks = fb.deref(root, MODEL['blocks'])
    if blocks is not None:
        n, first = fb.vector(blocks)
        for i in range(n):
            bt = first + 4 * i + fb.u32(first + 4 * i)
            for bname, (fid, members) in BLOCK.items():
                add_group(f'blocks.{i}.{bname}', fb.deref(bt, fid), members)
    return out


def data_ranges(fb, tensors):
    """[begin, end) byte ranges of tensor data payloads (weights)."""
    ranges = []
    for t in tensors.values():
        d = fb.deref(t, TENSOR['data'])
        if d is not None:
            n, first = fb.vector(d)
            ranges.append((first, first + n))
    return sorted(ranges)


class Checker:
    def __init__(self, run, input_npy, workdir):
        self.run, self.input, self.work, self.failures, self.count = run, input_npy, workdir, [], 0

    def tool(self, cmd, label, must_fail, quiet=False):
        """Run `cmd`; record a failure unless it exits cleanly as required."""
        self.count += 1
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        except subprocess.TimeoutExpired:
            return self.failures.append(f'{label}: timed out')
        err = p.stderr.decode(errors='replace').strip()
        if p.returncode < 0:
            self.failures.append(f'{label}: killed by signal {-p.returncode}')
        elif p.returncode == 0 and must_fail:
            self.failures.append(f'{label}: accepted (exit 0)')
        elif p.returncode > 0 and (not err or '\n' in err):
            self.failures.append(f'{label}: exit {p.returncode} without a one-line message: {err!r}')
        if not quiet:
            print(f'{label}: exit {p.returncode}: {err}')
        return p.returncode, err

    def model(self, data, label, must_fail=True, quiet=False):
        path = os.path.join(self.work, 'corrupt.vitrt')
        with open(path, 'wb') as f:
            f.write(data)
        out = os.path.join(self.work, 'corrupt_out.npy')
        return self.tool([self.run, path, '--tensor', self.input, '--logits-out', out], label, must_fail, quiet)


def patched(buf, pos, fmt, value):
    b = bytearray(buf)
    struct.pack_into(fmt, b, pos, value)
    return bytes(b)


def targeted(fb, buf):
    """(label, corrupted bytes) pairs that a verifying runtime must reject."""
    root = fb.root()
    cases = [('root offset past end', patched(buf, 0, '<I', len(buf) + 64)),
             ('file identifier', buf[:4] + b'XXXX' + buf[8:]),
             ('root vtable soffset', patched(buf, root, '<i', -0x7ffffff0))]
    vt = root - struct.unpack_from('<i', buf, root)[0]
    cases.append(('root vtable size odd', patched(buf, vt, '<H', 0xffff)))
    cases.append(('root vtable size 2 (config reads absent)', patched(buf, vt, '<H', 2)))
    cases.append(('required config absent', patched(buf, vt + 4 + 2 * MODEL['config'], '<H', 0)))
    blocks = fb.deref(root, MODEL['blocks'])
    cases.append(('blocks vector length huge', patched(buf, blocks, '<I', 0x0fffffff)))
    cases.append(('blocks vector length +1', patched(buf, blocks, '<I', fb.u32(blocks) + 1)))
    cases.append(('blocks offset past end', patched(buf, fb.field_pos(root, MODEL['blocks']), '<I', len(buf))))
    tensors = tensor_tables(fb)
    for name in ('pos_embed', 'blocks.0.qkv.weight', 'head.weight'):
        t = tensors[name]
        data = fb.deref(t, TENSOR['data'])
        cases.append((f'{name} data length +4', patched(buf, data, '<I', fb.u32(data) + 4)))
        cases.append((f'{name} data length -4', patched(buf, data, '<I', fb.u32(data) - 4)))
        shape = fb.deref(t, TENSOR['shape'])
        _, first = fb.vector(shape)
        dim0 = struct.unpack_from('<i', buf, first)[0]
        cases.append((f'{name} shape[0] + 1', patched(buf, first, '<i', dim0 + 1)))
        cases.append((f'{name} shape[0] negative', patched(buf, first, '<i', -dim0)))
        dt = fb.field_pos(t, TENSOR['dtype'])
        if dt is not None:
            cases.append((f'{name} dtype 77', patched(buf, dt, '<b', 77)))
    config = fb.deref(root, MODEL['config'])
    for field, bad in (('dim', 7), ('depth', 1000), ('heads', 0), ('heads', -2), ('patch_h', 0),
                       ('image_h', 1 << 30), ('channels', 0)):
        p = fb.field_pos(config, CONFIG[field])
        if p is not None:
            cases.append((f'config.{field} = {bad}', patched(buf, p, '<i', bad)))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--convert', required=True)
    ap.add_argument('--run', required=True)
    ap.add_argument('--flips', type=int, default=0, help='invert this many sampled metadata bytes (0: all)')
    ap.add_argument('case_dir')
    ap.add_argument('workdir')
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    st_path = os.path.join(a.case_dir, 'model.safetensors')
    with open(os.path.join(a.case_dir, 'convert_args.txt')) as f:
        conv_args = f.read().split()
    ck = Checker(a.run, os.path.join(a.case_dir, 'input.npy'), a.workdir)

    # A good model first: corruptions are only meaningful relative to it.
    good = os.path.join(a.workdir, 'good.vitrt')
    rc, err = ck.tool([a.convert, st_path, '-o', good] + conv_args, 'convert valid checkpoint', False)
    if rc != 0:
        sys.exit(f'FAIL: vitrt-convert failed on the valid checkpoint: {err}')
    with open(good, 'rb') as f:
        buf = f.read()
    rc, err = ck.model(buf, 'run valid model', must_fail=False)
    if rc != 0:
        sys.exit(f'FAIL: vitrt-run failed on the valid model: {err}')

    # vitrt-convert: truncated / malformed safetensors.
    with open(st_path, 'rb') as f:
        st = f.read()
    (hlen,) = struct.unpack_from('<Q', st, 0)
    bad_st = {'empty': b'', '4 bytes': st[:4], 'header cut': st[:8 + hlen // 2],
              'data cut': st[:8 + hlen + (len(st) - 8 - hlen) // 2], 'last byte cut': st[:-1],
              'header length huge': struct.pack('<Q', 1 << 40) + st[8:],
              'header not json': st[:8] + b'{' * hlen + st[8 + hlen:]}
    for label, data in bad_st.items():
        p = os.path.join(a.workdir, 'corrupt.safetensors')
        with open(p, 'wb') as f:
            f.write(data)
        ck.tool([a.convert, p, '-o', os.path.join(a.workdir, 'x.vitrt')] + conv_args,
                f'convert: safetensors {label}', True)

    # vitrt-run: truncated model files.
    for n in sorted({0, 3, 8, 16, 64, len(buf) // 3, len(buf) // 2, len(buf) - 64, len(buf) - 1}):
        ck.model(buf[:n], f'model truncated to {n} bytes')

    fb = FB(buf)
    for label, data in targeted(fb, buf):
        ck.model(data, label)

    # Random single-byte flips in the metadata (not weight payloads).
    weights = data_ranges(fb, tensor_tables(fb))
    in_weights = bytearray(len(buf))
    for b, e in weights:
        in_weights[b:e] = b'\x01' * (e - b)
    meta = [i for i in range(len(buf)) if not in_weights[i]]
    if a.flips:
        meta = sorted(random.Random(1234).sample(meta, min(a.flips, len(meta))))
    accepted = 0
    for pos in meta:
        data = bytearray(buf)
        data[pos] ^= 0xff
        rc, _ = ck.model(bytes(data), f'byte {pos} inverted', must_fail=False, quiet=True)
        accepted += rc == 0

    print(f'model {len(buf)} bytes, {len(meta)} metadata bytes, {len(weights)} tensors; '
          f'{ck.count} tool runs; {accepted} of {len(meta)} inverted metadata bytes accepted '
          '(allowed: padding, float values)')
    for f in ck.failures:
        print('FAIL ' + f)
    sys.exit(1 if ck.failures else 0)


if __name__ == '__main__':
    main()
