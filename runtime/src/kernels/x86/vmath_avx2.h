// Inline fp32 vector math (8 lanes) for the *_avx2.cpp kernels only: it is
// compiled with their flags (AVX2, FMA), so no other file may include it.
// Everything is static inline so no copy can leak to other translation
// units. Same approximations as vmath_avx512f.h (near-minimax fits made
// for vitrt); NaN-safe clamps take the input as second operand of
// min/max, which then returns it when it is NaN.
#pragma once

#include "kernels/x86/intrinsics.h"

namespace vitrt::kernels {

// Lanes [0, n) set, for maskload / maskstore; n in [0, 8].
static inline __m256i f32_tail_mask_avx2(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline float f32_hsum_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

static inline float f32_hmax_avx2(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

// 2^n for integer-valued n in [-127, 128] via the exponent field: -127
// gives 0 and 128 gives +inf, so the callers' clamps saturate correctly.
static inline __m256 f32_pow2i_avx2(__m256 n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

// 2^t for t in [-127, 128] (degree-6 polynomial on [-1/2, 1/2], 1.9e-9
// before rounding): ~1 ulp; t < -126.5 gives 0 (no denormals), t > 127.5
// gives +inf, NaN stays NaN.
static inline __m256 f32_exp2_clamped_avx2(__m256 t) {
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(1.53457819e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.33999309e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.61848907e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.55032864e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.40226462e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.93147182e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.f));
  return _mm256_mul_ps(p, f32_pow2i_avx2(n));
}

// 2^t for any t (as above; -inf gives 0, +inf gives +inf).
static inline __m256 f32_exp2_avx2(__m256 t) {
  t = _mm256_max_ps(_mm256_set1_ps(-127.f), t);
  return f32_exp2_clamped_avx2(_mm256_min_ps(_mm256_set1_ps(128.f), t));
}

// 2^t for t <= 0 only (softmax numerators): one clamp less.
static inline __m256 f32_exp2_nonpos_avx2(__m256 t) {
  return f32_exp2_clamped_avx2(_mm256_max_ps(_mm256_set1_ps(-127.f), t));
}

// 0.5 x (1 + erf(x / sqrt2)) with erf(x / sqrt2) = x P(x^2) / Q(x^2), abs
// error 2.7e-7; clamped where the rational is exactly +-1 (see the AVX-512
// header), so -big gives -0 and -inf gives NaN like the reference.
static inline __m256 f32_gelu_erf_avx2(__m256 x) {
  const __m256 c = _mm256_set1_ps(5.13013983f);
  __m256 xc = _mm256_min_ps(c, x);
  xc = _mm256_max_ps(_mm256_set1_ps(-5.13013983f), xc);
  const __m256 x2 = _mm256_mul_ps(xc, xc);
  __m256 p = _mm256_set1_ps(4.54970035e-8f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.27017338e-5f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(3.37525911e-4f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(9.35374759e-3f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(6.76947832e-2f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(7.97884464e-1f));
  p = _mm256_mul_ps(p, xc);
  __m256 q = _mm256_set1_ps(1.19738525e-6f);
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(7.36229922e-5f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.88409619e-3f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.86426954e-2f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.51508743e-1f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.f));
  const __m256 erf = _mm256_div_ps(p, q);
  const __m256 h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
  return _mm256_mul_ps(h, _mm256_add_ps(erf, _mm256_set1_ps(1.f)));
}

// 0.5 v (1 + tanh(u)) as v / (1 + 2^t), t = -2 u log2(e) (see AVX-512).
static inline __m256 f32_gelu_tanh_avx2(__m256 v) {
  const float k1 = -2.f * 1.44269504f * 0.797884561f;
  const __m256 v2 = _mm256_mul_ps(v, v);
  const __m256 t =
      _mm256_mul_ps(v, _mm256_fmadd_ps(_mm256_set1_ps(k1 * 0.044715f), v2, _mm256_set1_ps(k1)));
  const __m256 e = f32_exp2_avx2(t);
  return _mm256_div_ps(v, _mm256_add_ps(e, _mm256_set1_ps(1.f)));
}

// tanh: |x| < 0.6 odd polynomial, else 1 - 2 / (1 + e^{2|x|}); sign of x
// or-ed in last (also gives tanh(-0) = -0).
static inline __m256 f32_tanh_avx2(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  const __m256 ax = _mm256_andnot_ps(sign, x);
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.89517178e-3f);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.07959842e-2f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.37838340e-2f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.33319244e-1f));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-3.33332986e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(x, x2), p, x);
  const __m256 e = f32_exp2_avx2(_mm256_mul_ps(ax, _mm256_set1_ps(2.f * 1.44269504f)));
  const __m256 d = _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, _mm256_set1_ps(1.f)));
  const __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.f), d);
  const __m256 r =
      _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.6f), _CMP_LT_OQ));
  return _mm256_or_ps(r, _mm256_and_ps(x, sign));
}

}  // namespace vitrt::kernels
