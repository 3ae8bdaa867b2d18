// <immintrin.h> for the x86 kernels. GCC 12.1/12.2 warn
// (-W[maybe-]uninitialized) inside their own AVX-512 intrinsics (the
// _mm512_undefined_* self-initialisation, GCC PR105593, fixed in 12.3); the
// warnings are located in the header, so silencing them around the include
// keeps them for our own code.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
