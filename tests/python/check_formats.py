#!/usr/bin/python3
"""Checkpoint formats end to end: check_formats.py --convert VITRT_CONVERT WORKDIR

Saves one small timm_vit.VisionTransformer with the real writers (torch.save,
np.savez, np.savez_compressed) in every layout vitrt-convert claims to read,
converts each, and requires the vitrt model file to be byte-identical to the
one converted from the same weights in safetensors (written by
safetensors_io.py, which shares no code with the torch or numpy readers).
fp16 / bf16 checkpoints are compared with F16 / BF16 safetensors.

Also: refused inputs (a pickle whose __reduce__ calls os.system, legacy
torch.save, TorchScript, truncated .pth / .npz / .safetensors) must exit > 0
with a one-line error and, for the malicious pickle, run nothing; and
--inspect must describe a checkpoint that still lacks --heads, exit 0.
"""
import argparse
import collections
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import timm_vit  # noqa: E402

ARGS = ['--heads', '2', '--image-size', '32']
PWNED = '/tmp/vitrt_pwned'


class Checker:
    def __init__(self, convert, workdir):
        self.convert, self.workdir, self.failures = convert, workdir, []

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, args):
        p = subprocess.run([self.convert] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
        return p.returncode, p.stdout, p.stderr.strip()

    def fail(self, msg):
        print('FAIL ' + msg)
        self.failures.append(msg)

    def model_bytes(self, checkpoint):
        """Converts `checkpoint`; its model file's bytes, or None on failure."""
        out = checkpoint + '.vitrt'
        rc, _, err = self.run([checkpoint, '-o', out] + ARGS)
        if rc != 0:
            self.fail(f'{os.path.basename(checkpoint)}: vitrt-convert exit {rc}: {err}')
            return None
        with open(out, 'rb') as f:
            return f.read()

    def same_model(self, checkpoint, reference):
        got = self.model_bytes(checkpoint)
        if got is None:
            return
        if got != reference:
            self.fail(f'{os.path.basename(checkpoint)}: model differs from the safetensors conversion')
        else:
            print(f'ok   {os.path.basename(checkpoint)}: identical model')

    def refused(self, checkpoint, expect):
        """vitrt-convert must exit > 0 with one line on stderr containing `expect`."""
        rc, _, err = self.run([checkpoint, '-o', checkpoint + '.vitrt'] + ARGS)
        name = os.path.basename(checkpoint)
        if rc <= 0:
            self.fail(f'{name}: expected a clean error, got exit {rc}: {err!r}')
        elif not err or '\n' in err or expect not in err:
            self.fail(f'{name}: expected one line containing {expect!r}, got {err!r}')
        else:
            print(f'ok   {name}: refused: {err}')


def make_model():
    gen = torch.Generator().manual_seed(7)
    model = timm_vit.VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2,
                                       num_classes=10)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return model


def optimizer_state():
    """An SGD state dict after one step: momentum tensors the reader must ignore."""
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 32, 32)).sum().backward()
    opt.step()
    return opt.state_dict()


def shared_storage(sd):
    """The same values, every tensor a view into one flat storage (torch.save keeps the sharing)."""
    flat = torch.cat([t.flatten() for t in sd.values()])
    out, off = collections.OrderedDict(), 0
    for k, t in sd.items():
        out[k] = flat[off:off + t.numel()].view(t.shape)
        off += t.numel()
    return out


def transposed(sd):
    """Same values; every matrix stored column-major (a non-contiguous transposed view)."""
    return collections.OrderedDict((k, t.t().contiguous().t() if t.dim() == 2 else t) for k, t in sd.items())


def rezip(src, dst, compression, force_zip64=False):
    """Copies a zip archive entry by entry with another compression / ZIP64 local headers."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', compression) as zout:
        for info in zin.infolist():
            with zout.open(info.filename, 'w', force_zip64=force_zip64) as f:
                f.write(zin.read(info.filename))


class Evil:
    def __reduce__(self):
        return (os.system, ('touch ' + PWNED,))


def torch_style_zip(path, data_pkl):
    """A zip laid out like torch.save's, holding an arbitrary data.pkl."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', data_pkl)
        z.writestr('archive/version', '3\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--convert', required=True, help='path of vitrt-convert')
    ap.add_argument('workdir')
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    c = Checker(a.convert, a.workdir)
    p = c.path

    sd = make_model().state_dict()
    refs = {}
    for dt, torch_dt in (('F32', torch.float32), ('F16', torch.float16), ('BF16', torch.bfloat16)):
        safetensors_io.save_file(sd, p(f'ref_{dt}.safetensors'), dtype=dt)
        refs[torch_dt] = c.model_bytes(p(f'ref_{dt}.safetensors'))
    if None in refs.values():
        sys.exit('FAIL: the safetensors references do not convert')
    ref = refs[torch.float32]

    # torch.save layouts.
    prefixed = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
    layouts = {
        'plain.pth': sd,
        'training.pth.tar': {'state_dict': sd, 'optimizer': optimizer_state(), 'epoch': 3, 'arch': 'vit', 'best_acc1': np.float64(81.5),
                             'args': argparse.Namespace(lr=0.1, epochs=[1, 2]), 'tags': {'a', 'b'}},
        'model_key.pth': {'model': sd, 'model_ema': {k: v * 0 for k, v in sd.items()}},
        'dataparallel.pt': {'state_dict': prefixed},
        'shared_storage.pth': shared_storage(sd),
        'transposed.pth': transposed(sd),
    }
    for name, obj in layouts.items():
        torch.save(obj, p(name))
        c.same_model(p(name), ref)
    torch.save(sd, p('protocol4.pth'), pickle_protocol=4)
    c.same_model(p('protocol4.pth'), ref)
    for torch_dt in (torch.float16, torch.bfloat16):
        name = f'{str(torch_dt)[6:]}.pth'
        torch.save({k: v.to(torch_dt) for k, v in sd.items()}, p(name))
        c.same_model(p(name), refs[torch_dt])
    rezip(p('plain.pth'), p('deflated.pth'), zipfile.ZIP_DEFLATED)
    rezip(p('plain.pth'), p('zip64_local.pth'), zipfile.ZIP_STORED, force_zip64=True)
    for name in ('deflated.pth', 'zip64_local.pth'):
        assert torch.load(p(name))['cls_token'].equal(sd['cls_token'])  # still a valid torch checkpoint
        c.same_model(p(name), ref)

    # NumPy.
    arrays = {k: v.numpy() for k, v in sd.items()}
    np.savez(p('plain.npz'), **arrays)
    np.savez_compressed(p('compressed.npz'), **arrays)
    np.savez(p('float64.npz'), **{k: v.astype(np.float64) for k, v in arrays.items()})
    for name in ('plain.npz', 'compressed.npz', 'float64.npz'):
        c.same_model(p(name), ref)

    # Refusals. Nothing may run: the marker file must not appear.
    if os.path.exists(PWNED):
        os.remove(PWNED)
    for proto in (2, 4):
        torch_style_zip(p(f'evil_p{proto}.pth'), pickle.dumps({'w': Evil()}, protocol=proto))
        c.refused(p(f'evil_p{proto}.pth'), "refusing to load global 'posix.system'")
    evil = io.BytesIO()
    torch.save({'w': Evil()}, evil)
    with open(p('evil_torch_save.pth'), 'wb') as f:
        f.write(evil.getvalue())
    c.refused(p('evil_torch_save.pth'), "refusing to load global 'posix.system'")
    if os.path.exists(PWNED):
        c.fail(f'{PWNED} was created: the malicious pickle ran')

    torch.save(sd, p('legacy.pth'), _use_new_zipfile_serialization=False)
    c.refused(p('legacy.pth'), 'legacy torch.save format; re-save with torch.save(..., '
                               '_use_new_zipfile_serialization=True)')
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), p('script.pt'))
    c.refused(p('script.pt'), 'TorchScript archive')
    with open(p('junk.bin'), 'wb') as f:
        f.write(b'\x00junk' * 10)
    c.refused(p('junk.bin'), 'unrecognised checkpoint format')

    for name in ('plain.pth', 'compressed.npz', 'ref_F32.safetensors'):
        with open(p(name), 'rb') as f:
            data = f.read()
        stem, ext = name.split('.', 1)
        for cut in (len(data) - 1, len(data) - 30, len(data) // 2, 100, 3):
            trunc = p(f'{stem}_truncated_{cut}.{ext}')
            with open(trunc, 'wb') as f:
                f.write(data[:cut])
            c.refused(trunc, '')

    # --inspect without --heads: describes the model, says what is missing, exits 0.
    rc, out, err = c.run(['--inspect', p('dataparallel.pt')])
    want = ["checkpoint['state_dict'], 'module.' prefix removed", 'family: timm', 'dim 32, depth 2',
            'heads: unknown', 'pass --heads N']
    missing = [w for w in want if w not in out]
    if rc != 0 or missing:
        c.fail(f'--inspect: exit {rc}, missing {missing} in:\n{out}{err}')
    else:
        print('ok   --inspect dataparallel.pt:\n' + out.rstrip())

    if c.failures:
        sys.exit(f'{len(c.failures)} failure(s)')
    print('all checkpoint format checks passed')


if __name__ == '__main__':
    main()
