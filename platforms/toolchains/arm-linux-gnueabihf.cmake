# Cross build for 32-bit Arm Linux (armhf: Raspberry Pi 2, 32-bit Raspberry Pi
# OS images, older Cortex-A boards) with Debian's g++-arm-linux-gnueabihf.
# The baseline is Debian's armhf ABI (ARMv7-A, VFPv3-D16, hard float), so the
# binaries run on every armhf board; NEON code needs its own flags and a
# run-time check. Test executables run through qemu-user, so `ctest` works in
# the cross build tree on an x86 host.
#   cmake -B build-armhf -G Ninja -DVITRT_CORE_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/arm-linux-gnueabihf.cmake
set(VITRT_CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(VITRT_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
# GCC notes on every std::pair-in-vector call that its 32-bit Arm ABI for
# such arguments changed in GCC 7.1; everything here is built by one GCC.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
