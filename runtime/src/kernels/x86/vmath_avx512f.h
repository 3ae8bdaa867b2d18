// Inline fp32 vector math (16 lanes) for the *_avx512f.cpp kernels only: it
// is compiled with their flags, so no other file may include it. Everything
// is static inline so no AVX-512 copy can leak to other translation units.
// Coefficients are near-minimax fits made for vitrt (Lawson iteration).
#pragma once

#include "kernels/kernels.h"
#include "kernels/x86/intrinsics.h"

namespace vitrt::kernels {

// Lanes [0, n): none for n <= 0, all for n >= 16.
static inline __mmask16 f32_tail_mask_avx512f(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// In-register transpose of 16 rows of 16 floats: 4 shuffle stages.
static inline void f32_transpose_16x16_avx512f(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // u[i + c]: column 4 lane + c of rows i..i+3
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int g = 0; g < 16; g += 8) {
    for (int c = 0; c < 4; ++c) {
      t[g + c] = _mm512_shuffle_f32x4(u[g + c], u[g + 4 + c], 0x88);
      t[g + 4 + c] = _mm512_shuffle_f32x4(u[g + c], u[g + 4 + c], 0xdd);
    }
  }
  for (int c = 0; c < 8; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
  }
}

// 2^t, relative error ~1 ulp (degree-6 polynomial on [-1/2, 1/2], 1.9e-9
// before rounding). No clamps needed: VREDUCEPS (AVX512DQ) gives the
// fraction f = t - round(t), 0 for +-inf and huge |t|, so n = t - f is
// +-inf or huge there and VSCALEFPS saturates to 0 / +inf; NaN stays NaN.
static inline __m512 f32_exp2_avx512f(__m512 t) {
  const __m512 f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 n = _mm512_sub_ps(t, f);  // exact integer
  __m512 p = _mm512_set1_ps(1.53457819e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.33999309e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.61848907e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.55032864e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.40226462e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.93147182e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);  // exact scaling, saturates to 0 / inf
}

// 0.5 x (1 + erf(x / sqrt2)), erf(x / sqrt2) as x P(x^2) / Q(x^2) (degrees
// 11/10, abs error 2.7e-7 in float). Past the clamp (the first float where
// the rational is exactly 1) erf is exactly +-1 like erff: x -> -big
// gives -0 and -inf gives NaN (0 * -inf), as the reference does.
static inline __m512 f32_gelu_erf_avx512f(__m512 x) {
  const __m512 c = _mm512_set1_ps(5.13013983f);
  __m512 xc = _mm512_min_ps(c, x);  // NaN passes through
  xc = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), c), xc);
  const __m512 x2 = _mm512_mul_ps(xc, xc);
  __m512 p = _mm512_set1_ps(4.54970035e-8f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.27017338e-5f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(3.37525911e-4f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(9.35374759e-3f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.76947832e-2f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(7.97884464e-1f));
  p = _mm512_mul_ps(p, xc);
  __m512 q = _mm512_set1_ps(1.19738525e-6f);
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(7.36229922e-5f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.88409619e-3f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.86426954e-2f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.51508743e-1f));
  q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.f));
  // p / q as p times 1/q: rcp14 and a Newton step (2^-28 relative) cost
  // less than the division, whose throughput bounds this function; past the
  // clamp erf is exactly +-1 again.
  const __m512 r0 = _mm512_rcp14_ps(q);
  __m512 erf = _mm512_mul_ps(p, _mm512_fmadd_ps(_mm512_fnmadd_ps(q, r0, _mm512_set1_ps(1.f)), r0, r0));
  const __mmask16 tails = _mm512_cmp_ps_mask(_mm512_abs_ps(x), c, _CMP_GE_OQ);
  erf = _mm512_mask_mov_ps(erf, tails, _mm512_or_ps(_mm512_set1_ps(1.f), _mm512_and_ps(x, _mm512_set1_ps(-0.f))));
  const __m512 h = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
  return _mm512_mul_ps(h, _mm512_add_ps(erf, _mm512_set1_ps(1.f)));
}

// 0.5 v (1 + tanh(u)), u = sqrt(2/pi) (v + 0.044715 v^3), computed as the
// equal v / (1 + 2^t), t = -2 u log2(e): no cancellation in 1 + tanh. For
// v -> -inf, 2^t = inf gives -0 (and NaN at -inf), as the reference does.
static inline __m512 f32_gelu_tanh_avx512f(__m512 v) {
  const float k1 = -2.f * 1.44269504f * 0.797884561f;
  const __m512 v2 = _mm512_mul_ps(v, v);
  const __m512 t =
      _mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_set1_ps(k1 * 0.044715f), v2, _mm512_set1_ps(k1)));
  const __m512 e = f32_exp2_avx512f(t);
  return _mm512_div_ps(v, _mm512_add_ps(e, _mm512_set1_ps(1.f)));
}

// tanh: |x| < 0.6 odd polynomial x + x^3 P(x^2) (rel error 2.8e-9 before
// rounding), else sign(x) (1 - 2 / (1 + e^{2|x|})), which saturates to 1.
static inline __m512 f32_tanh_avx512f(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.89517178e-3f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.07959842e-2f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-5.37838340e-2f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.33319244e-1f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-3.33332986e-1f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(x, x2), p, x);
  const __m512 e = f32_exp2_avx512f(_mm512_mul_ps(ax, _mm512_set1_ps(2.f * 1.44269504f)));
  const __m512 d = _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, _mm512_set1_ps(1.f)));
  const __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.f), d);  // >= 0
  const __m512 r =
      _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.6f), _CMP_LT_OQ), big, small);
  // Or in the sign of x: also makes tanh(-0) = -0, which the fma gives as +0.
  return _mm512_or_ps(r, _mm512_and_ps(x, _mm512_set1_ps(-0.f)));
}

// max(x, 0) returns the second operand for NaN, so relu(NaN) = 0 and
// relu(-0) = +0, exactly the reference's x > 0 ? x : 0.
static inline __m512 f32_relu_avx512f(__m512 x) { return _mm512_max_ps(x, _mm512_setzero_ps()); }

// One vector of activation_f32_avx512f, for epilogues that apply it in registers.
static inline __m512 f32_act_avx512f(__m512 x, Act act) {
  switch (act) {
    case Act::None: return x;
    case Act::GeluErf: return f32_gelu_erf_avx512f(x);
    case Act::GeluTanh: return f32_gelu_tanh_avx512f(x);
    case Act::Relu: return f32_relu_avx512f(x);
    case Act::Tanh: return f32_tanh_avx512f(x);
  }
  return x;
}

}  // namespace vitrt::kernels
