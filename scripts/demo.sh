#!/usr/bin/env bash
# The README's main command: from a fresh Debian 12 machine to a classified
# image. Installs the missing build packages, builds the four tools
# (vitrt-convert, vitrt-run, vitrt-bench, vitrt-eval), converts the bundled
# Fashion-MNIST ViT (samples/data/fmnist_vit) and classifies a bundled test
# image (or the images given).
#   bash scripts/demo.sh [IMAGE...]
# VITRT_BUILD_DIR (default build) and VITRT_JOBS (default 2) as in test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${VITRT_BUILD_DIR:-build}
jobs=${VITRT_JOBS:-2}
sample=samples/data/fmnist_vit
model=$build/fmnist_vit.vitrt
images=("$@")
[ ${#images[@]} -eq 0 ] && images=("$sample/images/9000_Ankle_boot.png")

step() { printf '\n==> %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }

step "Installing missing build packages"
run bash scripts/setup.sh build

step "Building vitrt-convert, vitrt-run, vitrt-bench and vitrt-eval in $build/"
# Tests off: their configure step needs the PyTorch reference, which only
# `bash scripts/test.sh` installs.
run cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITRT_BUILD_TESTS=OFF
run cmake --build "$build" --parallel "$jobs" --target vitrt-convert vitrt-run vitrt-bench vitrt-eval

step "Converting $sample/model.safetensors (timm ViT, 4 heads, 28x28 grayscale)"
# The head count is not in the weights; mean/std are the training split's
# (samples/data/fmnist_vit/README.md); crop-pct 1 so a 28x28 image goes in
# unresized (the default 0.875 would upscale to 32 and centre-crop).
# `--config $sample/config.json` alone says the same.
run "$build/bin/vitrt-convert" "$sample/model.safetensors" -o "$model" \
  --heads 4 --image-size 28 --crop-pct 1 --mean 0.2861 --std 0.3528 \
  --labels "$sample/labels.txt"

step "Classifying ${images[*]}"
run "$build/bin/vitrt-run" "$model" "${images[@]}" --top-k 3
