# Cross build for 32-bit Arm Linux (armhf: Raspberry Pi 2, 32-bit Raspberry Pi
# OS images, older Cortex-A boards) with Debian's g++-arm-linux-gnueabihf.
# The baseline is Debian's armhf ABI (ARMv7-A, VFPv3-D16, hard float), so the
# binaries run on every armhf board; NEON code needs its own flags and a
# run-time check. Test executables run through qemu-user, so `ctest` works in
# the cross build tree on an x86 host.
#   cmake -B build-armhf -G Ninja -DVITRT_CORE_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
# GCC notes on every std::pair-in-vector call that its 32-bit Arm ABI for
# such arguments changed in GCC 7.1; everything here is built by one GCC.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")

set(VITRT_ARMHF_SYSROOT /usr/arm-linux-gnueabihf)
find_program(VITRT_QEMU_ARM qemu-arm)
if(VITRT_QEMU_ARM)
  # -L: where the emulated program's dynamic loader and libc live.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VITRT_QEMU_ARM} -L ${VITRT_ARMHF_SYSROOT})
endif()

# Libraries and headers come from the target tree only; programs (flatc)
# from the host.
set(CMAKE_FIND_ROOT_PATH ${VITRT_ARMHF_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
