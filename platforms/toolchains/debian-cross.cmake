# What the Debian Linux cross toolchain files share; they set
# VITRT_CROSS_TRIPLE (e.g. aarch64-linux-gnu), CMAKE_SYSTEM_PROCESSOR and
# VITRT_CROSS_QEMU (the qemu-user program), then include this file.
set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${VITRT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${VITRT_CROSS_TRIPLE}-g++)

set(VITRT_CROSS_SYSROOT /usr/${VITRT_CROSS_TRIPLE})
find_program(VITRT_QEMU_USER ${VITRT_CROSS_QEMU})
if(VITRT_QEMU_USER)
  # -L: where the emulated program's dynamic loader and libc live.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VITRT_QEMU_USER} -L ${VITRT_CROSS_SYSROOT})
endif()

# Libraries and headers come from the target tree only; programs (flatc)
# from the host.
set(CMAKE_FIND_ROOT_PATH ${VITRT_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
