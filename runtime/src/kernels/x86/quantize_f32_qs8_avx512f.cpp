// Per-row int8 quantization (QuantizeFn) with AVX-512, 16 floats per vector,
// byte-identical to quantize_f32_qs8_ref for every input (NaN, Inf, zero rows,
// static scales): the same max|x| / 127 scale, the correctly rounded x / scale
// (a multiply by 1 / scale, divided where that could round otherwise), and
// round-half-away done exactly (quantize16).

#include <math.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

inline __m512 abs_ps(__m512 v) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}

// max |x[p]| over a row, as the reference's fmaxf loop computes it.
// vmaxps returns its second operand when either is NaN, so with the running
// max second a quiet NaN is skipped as fmaxf skips it; NaN-free, so the
// reduction order does not matter. A signaling NaN makes libm's fmaxf return
// NaN (the running max restarts after it), so a row with any NaN - seen as
// the unsigned max of the |x| bit patterns above +Inf's - takes the
// reference's own scalar loop; such rows never occur in a sane model.
float row_absmax(const float* x, int k) {
  const __m512i abs_bits = _mm512_set1_epi32(0x7fffffff);
  __m512 m0 = _mm512_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
  __m512i bits = _mm512_setzero_si512();
  auto step = [&](__m512i v, __m512& m) {
    v = _mm512_and_si512(v, abs_bits);
    bits = _mm512_max_epu32(bits, v);
    m = _mm512_max_ps(_mm512_castsi512_ps(v), m);
  };
  int p = 0;
  for (; p + 64 <= k; p += 64) {
    step(_mm512_loadu_si512(x + p), m0);
    step(_mm512_loadu_si512(x + p + 16), m1);
    step(_mm512_loadu_si512(x + p + 32), m2);
    step(_mm512_loadu_si512(x + p + 48), m3);
  }
  for (; p + 16 <= k; p += 16) step(_mm512_loadu_si512(x + p), m0);
  if (p < k) {  // masked-off lanes read as 0
    step(_mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << (k - p)) - 1), x + p), m1);
  }
  if (static_cast<uint32_t>(_mm512_reduce_max_epu32(bits)) > 0x7f800000u) {
    float amax = 0.f;
    for (p = 0; p < k; ++p) amax = fmaxf(amax, fabsf(x[p]));
    return amax;
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

// 16 values to int8: round-half-away(v) clamped like the reference, v =
// x / scale, as trunc(v + copysign(0.5 - 2^-25, v)): checked equal to roundf
// for every float (one exhaustive pass over the non-negative ones below
// 2^25, above which all are integers), then clamped to [-127, 127] before
// the conversion (vminps gives 127 for NaN, as the reference's clamps do).
// kMultiply: v = x * inv, inv = 1 / scale (normal), which is within
// 0.75 * 2^-15 of the quotient below 128 (2^-23 relative), so the rounding
// can only differ where |v| lies within 2^-15 of a half-integer (vreduceps:
// v minus its nearest integer); those lanes (about 1 in 16000) are divided.
// Above 128 both clamp to 127.
template <bool kMultiply>
inline __m128i quantize16(__m512 x, __m512 scale, __m512 inv) {
  constexpr int kNearestInt = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;  // vreduceps imm: M = 0
  __m512 v = kMultiply ? _mm512_mul_ps(x, inv) : _mm512_div_ps(x, scale);
  if (kMultiply) {
    // 0 for +-Inf and NaN for NaN: neither is flagged (both clamp alike).
    const __m512 off = abs_ps(_mm512_reduce_ps(v, kNearestInt));
    const __mmask16 near = _mm512_cmp_ps_mask(off, _mm512_set1_ps(0.5f - 0x1p-15f), _CMP_GE_OQ);
    if (near) v = _mm512_mask_div_ps(v, near, x, scale);
  }
  // (v & -0) | (0.5 - 2^-25): the rounding offset with v's sign.
  const __m512 half = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
      _mm512_castps_si512(v), _mm512_set1_epi32(int(0x80000000u)), _mm512_set1_epi32(0x3effffff), 0xEA));
  __m512 r = _mm512_min_ps(_mm512_add_ps(v, half), _mm512_set1_ps(127.f));
  r = _mm512_max_ps(r, _mm512_set1_ps(-127.f));
  return _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r));
}

// One row of k values with the scale's vectors.
template <bool kMultiply>
void quantize_row(const float* row, int k, __m512 vs, __m512 vi, int8_t* out) {
  int p = 0;
  for (; p + 64 <= k; p += 64) {  // four independent chains in flight
    const __m128i q0 = quantize16<kMultiply>(_mm512_loadu_ps(row + p), vs, vi);
    const __m128i q1 = quantize16<kMultiply>(_mm512_loadu_ps(row + p + 16), vs, vi);
    const __m128i q2 = quantize16<kMultiply>(_mm512_loadu_ps(row + p + 32), vs, vi);
    const __m128i q3 = quantize16<kMultiply>(_mm512_loadu_ps(row + p + 48), vs, vi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p + 16), q1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p + 32), q2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p + 48), q3);
  }
  for (; p + 16 <= k; p += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p),
                     quantize16<kMultiply>(_mm512_loadu_ps(row + p), vs, vi));
  if (p < k) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - p)) - 1);
    // Masked-off lanes read as 1.0 so the division stays quiet; never stored.
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(1.f), tail, row + p);
    _mm_mask_storeu_epi8(out + p, tail, quantize16<kMultiply>(v, vs, vi));
  }
}

}  // namespace

void quantize_f32_qs8_avx512f(const float* x, int m, int k, float static_scale, int8_t* q,
                              float* scales) {
  for (int i = 0; i < m; ++i) {
    const float* row = x + static_cast<size_t>(i) * k;
    int8_t* out = q + static_cast<size_t>(i) * k;
    float scale = static_scale;
    if (!(scale > 0.f)) {
      const float amax = row_absmax(row, k);
      scale = amax > 0.f ? amax / 127.f : 1.f;
    }
    scales[i] = scale;
    const float inv = 1.f / scale;
    const __m512 vs = _mm512_set1_ps(scale), vi = _mm512_set1_ps(inv);
    if (inv >= 0x1p-126f && inv <= 0x1.fffffep127f)  // normal: 2^-24 relative
      quantize_row<true>(row, k, vs, vi, out);
    else
      quantize_row<false>(row, k, vs, vi, out);
  }
}

}  // namespace vitrt::kernels
