#!/usr/bin/env bash
# The on-board tools of a cross build against the host's, on the bundled
# sample model and images:
#   tests/cross/tools_parity.sh HOST_BUILD CROSS_BUILD EMULATOR [ARGS...]
# HOST_BUILD has vitrt-convert and vitrt-run for this machine; CROSS_BUILD
# has vitrt-run built with -DVITRT_BUILD_CONVERTER=OFF, run through EMULATOR
# (e.g. qemu-aarch64 -L /usr/aarch64-linux-gnu). The model is converted on the
# host, as users do; both vitrt-run classify every bundled image (1 thread),
# the host with its reference kernels (the same arithmetic as the portable
# kernels of the cross build). Passes when the logits agree within 1e-5,
# int8 as fp32 (both round every product and sum as written, so they quantize
# identically; a GCC-fused a * b + c moves int8 logits by ~1e-2), with the
# same top-1 class for every image. An Arm kernel set with other arithmetic
# will need the int8 tolerance of the e2e tests here.
set -euo pipefail
host=$1 cross=$2
shift 2
emu=("$@")
sample=samples/data/fmnist_vit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for dtype in fp32 int8; do
  "$host/bin/vitrt-convert" "$sample/model.safetensors" -o "$work/$dtype.vitrt" --dtype "$dtype" \
    --heads 4 --image-size 28 --crop-pct 1 --mean 0.2861 --std 0.3528 \
    --labels "$sample/labels.txt" >/dev/null 2>&1
  VITRT_KERNELS=ref "$host/bin/vitrt-run" "$work/$dtype.vitrt" "$sample/images" --threads 1 \
    --logits-out "$work/host_$dtype.npy" >/dev/null
  "${emu[@]}" "$cross/bin/vitrt-run" "$work/$dtype.vitrt" "$sample/images" --threads 1 \
    --logits-out "$work/cross_$dtype.npy" >/dev/null
done

/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
work = sys.argv[1]
ok = True
for dtype, tol in (("fp32", 1e-5), ("int8", 1e-5)):
    h = np.load(f"{work}/host_{dtype}.npy")
    c = np.load(f"{work}/cross_{dtype}.npy")
    diff = float(np.abs(h - c).max()) if h.shape == c.shape else float("inf")
    same_top1 = h.shape == c.shape and bool((h.argmax(1) == c.argmax(1)).all())
    good = diff <= tol and same_top1 and h.shape[0] == 10
    ok &= good
    print(f"tools_parity {dtype}: {h.shape[0]} images, max |logit diff| {diff:.3g} (tol {tol}), "
          f"top-1 {'equal' if same_top1 else 'DIFFERENT'}: {'ok' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
