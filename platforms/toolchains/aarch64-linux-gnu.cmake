# Cross build for 64-bit Arm Linux (Raspberry Pi 3/4/5, Jetson, ...) with
# Debian's g++-aarch64-linux-gnu. Test executables run through qemu-user, so
# `ctest` works in the cross build tree on an x86 host.
#   cmake -B build-aarch64 -G Ninja -DVITRT_CORE_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/aarch64-linux-gnu.cmake
set(VITRT_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(VITRT_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
