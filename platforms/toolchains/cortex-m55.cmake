# Bare-metal build for Arm Cortex-M55 (Helium/MVE, hard-float) with Debian's
# gcc-arm-none-eabi and newlib. Builds the runtime core, the baremetal
# platform layer and the samples/firmware link check; nothing here can run
# on the host, so tests are off.
#   cmake -B build-m55 -G Ninja -DVITRT_CORE_ONLY=ON \
#     -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/cortex-m55.cmake
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m55)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# Compiler checks cannot link a program without a board's startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(VITRT_M55_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${VITRT_M55_FLAGS}")
# Firmware C++: no exceptions, no RTTI, no thread-safe statics (no OS).
set(CMAKE_CXX_FLAGS_INIT "${VITRT_M55_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")

set(VITRT_PLATFORM baremetal CACHE STRING "platforms/<name> providing log/clock/abort")
set(VITRT_BUILD_TESTS OFF CACHE BOOL "Build the Catch2 tests")

set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
