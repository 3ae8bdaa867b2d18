#!/usr/bin/env bash
# The project's test command, from a fresh clone to a summary line:
#   1. host: build everything in build/ (Release), run every ctest label
#   2. aarch64: cross-build the runtime core, run its unit tests under qemu
#   3. cortex-m55: build the core + samples/firmware (link and no-heap check)
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

aarch64() {
  cmake -S . -B build-aarch64 -G Ninja -DVITRT_CORE_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/aarch64-linux-gnu.cmake &&
    cmake --build build-aarch64 --parallel "$jobs" &&
    ctest --test-dir build-aarch64 --output-on-failure --no-tests=error --parallel "$jobs"
}

cortex_m55() {
  cmake -S . -B build-m55 -G Ninja -DVITRT_CORE_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/cortex-m55.cmake &&
    cmake --build build-m55 --parallel "$jobs"
}

summary=""
failed=0
for stage in host aarch64 cortex_m55; do
  echo "=== test.sh: $stage"
  start=$SECONDS
  if "$stage" </dev/null; then result=PASS; else result=FAIL; failed=1; fi
  summary+="${summary:+, }$stage $result ($((SECONDS - start))s)"
  echo "=== test.sh: $stage $result"
done

if [ $failed -eq 0 ]; then verdict=PASSED; else verdict=FAILED; fi
echo "vitrt test.sh: $verdict -- $summary"
exit $failed
