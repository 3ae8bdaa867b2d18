# Cross build for 64-bit Arm Linux (Raspberry Pi 3/4/5, Jetson, ...) with
# Debian's g++-aarch64-linux-gnu. Test executables run through qemu-user, so
# `ctest` works in the cross build tree on an x86 host.
#   cmake -B build-aarch64 -G Ninja -DVITRT_CORE_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(VITRT_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
find_program(VITRT_QEMU_AARCH64 qemu-aarch64)
if(VITRT_QEMU_AARCH64)
  # -L: where the emulated program's dynamic loader and libc live.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VITRT_QEMU_AARCH64} -L ${VITRT_AARCH64_SYSROOT})
endif()

# Libraries and headers come from the target tree only; programs (flatc)
# from the host.
set(CMAKE_FIND_ROOT_PATH ${VITRT_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
