#!/usr/bin/env bash
# The project's test command, from a fresh clone to a summary line:
#   1. host: build everything in build/ (Release), run every ctest label
#      (install: tests/consumer built against `cmake --install build`, via
#      add_subdirectory and via pkg-config, and run)
#   2. aarch64, armv7: cross-build the runtime core, run its unit tests
#      under qemu-aarch64 / qemu-arm; cross-build the tools without the
#      converter and check their logits against the host's on the sample
#      (tests/cross/tools_parity.sh; needs the host stage's build/)
#   3. cortex-m55: build the core + samples/firmware (link and no-heap check)
#   4. sanitize: everything again with ASan + UBSan (-fno-sanitize-recover) in
#      build-san/, the whole ctest suite
#   5. fuzz: the libFuzzer harnesses (clang) in build-fuzz/, each for
#      VITRT_FUZZ_SECONDS (default 60) from generated seeds (ctest label fuzz)
# Every stage runs even when an earlier one fails; the exit code is non-zero
# if any failed. VITRT_JOBS (default 2) sets build and test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${VITRT_JOBS:-2}
bash scripts/setup.sh

# `set -e` is off inside functions called from `if`, hence the && chains.
host() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVITRT_BUILD_TESTS=ON &&
    cmake --build build --parallel "$jobs" &&
    ctest --test-dir build --output-on-failure --no-tests=error --parallel "$jobs"
}

# arm_linux TRIPLE DIR QEMU: the runtime core and its unit tests in DIR, then
# vitrt-run without the converter in DIR-tools, its logits against the host's.
arm_linux() {
  local triple=$1 dir=$2 qemu=$3
  cmake -S . -B "$dir" -G Ninja -DVITRT_CORE_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE="platforms/toolchains/$triple.cmake" &&
    cmake --build "$dir" --parallel "$jobs" &&
    ctest --test-dir "$dir" --output-on-failure --no-tests=error --parallel "$jobs" &&
    cmake -S . -B "$dir-tools" -G Ninja -DVITRT_BUILD_TESTS=OFF -DVITRT_BUILD_CONVERTER=OFF \
      -DCMAKE_TOOLCHAIN_FILE="platforms/toolchains/$triple.cmake" &&
    cmake --build "$dir-tools" --parallel "$jobs" --target vitrt-run &&
    bash tests/cross/tools_parity.sh build "$dir-tools" "$qemu" -L "/usr/$triple"
}

aarch64() { arm_linux aarch64-linux-gnu build-aarch64 qemu-aarch64; }
armv7() { arm_linux arm-linux-gnueabihf build-armhf qemu-arm; }

cortex_m55() {
  cmake -S . -B build-m55 -G Ninja -DVITRT_CORE_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/cortex-m55.cmake &&
    cmake --build build-m55 --parallel "$jobs"
}

sanitize() {
  cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITRT_SANITIZE=ON &&
    cmake --build build-san --parallel "$jobs" &&
    ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-san --output-on-failure --no-tests=error \
      --parallel "$jobs"
}

fuzz() {
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVITRT_FUZZ=ON -DVITRT_BUILD_TESTS=OFF -DVITRT_FUZZ_SECONDS="${VITRT_FUZZ_SECONDS:-60}" &&
    cmake --build build-fuzz --parallel "$jobs" &&
    ctest --test-dir build-fuzz --output-on-failure --no-tests=error --parallel "$jobs" -L fuzz
}

summary=""
failed=0
for stage in host aarch64 armv7 cortex_m55 sanitize fuzz; do
  echo "=== test.sh: $stage"
  start=$SECONDS
  if "$stage" </dev/null; then result=PASS; else result=FAIL; failed=1; fi
  summary+="${summary:+, }$stage $result ($((SECONDS - start))s)"
  echo "=== test.sh: $stage $result"
done

if [ $failed -eq 0 ]; then verdict=PASSED; else verdict=FAILED; fi
echo "vitrt test.sh: $verdict -- $summary"
exit $failed
