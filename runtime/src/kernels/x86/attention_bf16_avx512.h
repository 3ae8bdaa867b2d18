// Inline helpers of the bf16 attention kernels (attention_bf16_*.cpp), for
// files compiled with AVX-512 F/BW/VL and AVX512-BF16 only: everything is
// static inline so no copy leaks to other translation units.
//
// Operand layouts, shared by the AMX tiles and the AVX512-BF16 dot products
// (pairs of bf16 in a 32-bit lane, 16 lanes of 64 bytes, 1 KiB blocks):
// - K: per 16 keys and 32 dims, row r holds dims 2r, 2r+1 of each key;
// - V: per 32 keys and 16 dims, row r holds keys 2r, 2r+1 of each dim.
// Dims and keys past head_dim and tokens are zero.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/x86/vmath_avx512f.h"

namespace vitrt::kernels {

constexpr int kBf16BlockBytes = 1024;

// 32 floats (two vectors) as 32 bf16 in memory order (VCVTNE2PS2BF16:
// nearest even, NaN kept a quiet NaN).
static inline __m512i bf16_32(__m512 lo, __m512 hi) { return __m512i(_mm512_cvtne2ps_pbh(hi, lo)); }

// 32 floats of row x from d0 (zero past n) as bf16.
static inline __m512i bf16_row(const float* x, int d0, int n) {
  const __m512 lo = _mm512_maskz_loadu_ps(f32_tail_mask_avx512f(n - d0), x + d0);
  const __m512 hi = _mm512_maskz_loadu_ps(f32_tail_mask_avx512f(n - d0 - 16), x + d0 + 16);
  return bf16_32(lo, hi);
}

// kp[(t * steps + s) * 1 KiB]: keys 16 t.., dims 32 s.. in B-tile order.
static inline void bf16_pack_k(const float* k, size_t ld, int tokens, int hd, int steps, uint8_t* kp) {
  for (int j0 = 0; j0 < tokens; j0 += 16)
    for (int s = 0; s < steps; ++s) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = j0 + i < tokens ? _mm512_castsi512_ps(bf16_row(k + (j0 + i) * ld, 32 * s, hd))
                               : _mm512_setzero_ps();
      f32_transpose_16x16_avx512f(r);  // 32-bit lanes: bf16 pairs move as one
      uint8_t* tile = kp + (size_t(j0 / 16) * steps + s) * kBf16BlockBytes;
      for (int i = 0; i < 16; ++i) _mm512_store_ps(reinterpret_cast<float*>(tile + 64 * i), r[i]);
    }
}

// vp[(u * ctiles + c) * 1 KiB]: keys 32 u.., dims 16 c.. in B-tile order;
// keys up to the next multiple of 32 are zero.
static inline void bf16_pack_v(const float* v, size_t ld, int tokens, int hd, int ctiles, uint8_t* vp) {
  const __m512i pairs = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                          23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int j0 = 0; j0 < tokens; j0 += 32)
    for (int c = 0; c < ctiles; ++c) {
      const __mmask16 m = f32_tail_mask_avx512f(hd - 16 * c);
      uint8_t* tile = vp + (size_t(j0 / 32) * ctiles + c) * kBf16BlockBytes;
      for (int r = 0; r < 16; ++r) {
        const int j = j0 + 2 * r;
        const __m512 a = j < tokens ? _mm512_maskz_loadu_ps(m, v + j * ld + 16 * c)
                                    : _mm512_setzero_ps();
        const __m512 b = j + 1 < tokens ? _mm512_maskz_loadu_ps(m, v + (j + 1) * ld + 16 * c)
                                        : _mm512_setzero_ps();
        // a's 16 bf16 then b's, interleaved: lane d = (a[d], b[d]).
        _mm512_store_si512(tile + 64 * r, _mm512_permutexvar_epi16(pairs, bf16_32(a, b)));
      }
    }
}

// Row s[0, n) of scores to bf16 numerators exp(scale (s - max)) in p[0, n32)
// (zero past n); returns 1 / their sum.
static inline float bf16_softmax_row(const float* s, int n, int n32, float scale, uint16_t* p) {
  const int nv = (n + 15) / 16;
  __m512 m = _mm512_set1_ps(-__builtin_inff());
  for (int v = 0; v < nv; ++v) {
    const __mmask16 lanes = f32_tail_mask_avx512f(n - 16 * v);
    m = _mm512_mask_max_ps(m, lanes, m, _mm512_maskz_load_ps(lanes, s + 16 * v));
  }
  const float c = scale * 1.44269504f;
  const __m512 vc = _mm512_set1_ps(c), vb = _mm512_set1_ps(-_mm512_reduce_max_ps(m) * c);
  __m512 sum = _mm512_setzero_ps();
  for (int v = 0; v < n32 / 16; v += 2) {  // s has tp <= n32 floats: masked loads
    const __mmask16 l0 = f32_tail_mask_avx512f(n - 16 * v), l1 = f32_tail_mask_avx512f(n - 16 * v - 16);
    const __m512 e0 = _mm512_maskz_mov_ps(
        l0, f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_maskz_load_ps(l0, s + 16 * v), vc, vb)));
    const __m512 e1 = _mm512_maskz_mov_ps(
        l1, f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_maskz_load_ps(l1, s + 16 * v + 16), vc, vb)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    _mm512_store_si512(p + 16 * v, bf16_32(e0, e1));
  }
  // The sum of the unrounded numerators: within 2^-9 of the rounded ones'.
  return 1.f / _mm512_reduce_add_ps(sum);
}

// One call's view of its scratch (attention_bf16_scratch_floats): packed K,
// packed V, a tile of 16 Q rows, 16 score rows, 16 P rows; every part 64-byte
// aligned. tp / tp32: tokens rounded up to 16 / 32; steps: 32-dim K blocks,
// ctiles: 16-dim V blocks.
struct Bf16Attention {
  int tp, tp32, steps, ctiles;
  int ldq, ldp;  // bytes between Q rows, P rows
  uint8_t *kp, *vp, *qp;
  float* s;
  uint16_t* p;
};

static inline Bf16Attention bf16_attention(float* scratch, int tokens, int hd) {
  Bf16Attention a;
  a.tp = (tokens + 15) / 16 * 16;
  a.tp32 = (tokens + 31) / 32 * 32;
  a.steps = (hd + 31) / 32;
  a.ctiles = (hd + 15) / 16;
  a.ldq = a.steps * 64;
  a.ldp = a.tp32 * 2;
  a.kp = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  a.vp = a.kp + size_t(a.tp) * a.steps * 64;
  a.qp = a.vp + size_t(a.tp32) * a.ctiles * 32;
  a.s = reinterpret_cast<float*>(a.qp + size_t(16) * a.ldq);
  a.p = reinterpret_cast<uint16_t*>(a.s + size_t(16) * a.tp);
  return a;
}

}  // namespace vitrt::kernels
