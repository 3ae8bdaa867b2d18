// Per-row int8 quantization (QuantizeFn) with AVX2, 8 floats per vector,
// byte-identical to quantize_f32_qs8_ref for every input (NaN, Inf, zero rows,
// static scales): the same max|x| / 127 scale, the correctly rounded x / scale
// (a multiply by 1 / scale, divided where that could round otherwise), and
// round-half-away done exactly (quantize8).
#include <math.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

inline __m256 abs_ps(__m256 v) {
  return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

// max |x[p]| over a row, as the reference's fmaxf loop computes it.
// vmaxps returns its second operand when either is NaN, so with the running
// max second a quiet NaN is skipped as fmaxf skips it; NaN-free, so the
// reduction order does not matter. A signaling NaN makes libm's fmaxf return
// NaN (the running max restarts after it), so a row with any NaN - seen as
// the unsigned max of the |x| bit patterns above +Inf's - takes the
// reference's own scalar loop; such rows never occur in a sane model.
float row_absmax(const float* x, int k) {
  const __m256i abs_bits = _mm256_set1_epi32(0x7fffffff);
  __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
  __m256i bits = _mm256_setzero_si256();
  auto step = [&](const float* src, __m256& m) {
    const __m256i v =
        _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)), abs_bits);
    bits = _mm256_max_epu32(bits, v);
    m = _mm256_max_ps(_mm256_castsi256_ps(v), m);
  };
  int p = 0;
  for (; p + 32 <= k; p += 32) {
    step(x + p, m0);
    step(x + p + 8, m1);
    step(x + p + 16, m2);
    step(x + p + 24, m3);
  }
  for (; p + 8 <= k; p += 8) step(x + p, m0);
  __m256 m = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  __m128i b = _mm_max_epu32(_mm256_castsi256_si128(bits), _mm256_extracti128_si256(bits, 1));
  b = _mm_max_epu32(b, _mm_shuffle_epi32(b, 0x4E));
  b = _mm_max_epu32(b, _mm_shuffle_epi32(b, 0xB1));
  bool nan = static_cast<uint32_t>(_mm_cvtsi128_si32(b)) > 0x7f800000u;
  float amax = _mm_cvtss_f32(h);
  for (; p < k; ++p) {
    nan |= isnan(x[p]);
    amax = fmaxf(amax, fabsf(x[p]));
  }
  if (nan) {
    amax = 0.f;
    for (p = 0; p < k; ++p) amax = fmaxf(amax, fabsf(x[p]));
  }
  return amax;
}

// x / scale as x * inv (see quotient() in quantize_f32_qs8_avx512f.cpp):
// lanes within 2^-15 of a half-integer are divided.
inline __m256 quotient(__m256 x, __m256 scale, __m256 inv, bool multiply) {
  if (!multiply) return _mm256_div_ps(x, scale);
  const __m256 v = _mm256_mul_ps(x, inv);
  const __m256 a = abs_ps(v);
  const __m256 f = _mm256_sub_ps(a, _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
  const __m256 near =
      _mm256_cmp_ps(abs_ps(_mm256_sub_ps(f, _mm256_set1_ps(0.5f))), _mm256_set1_ps(0x1p-15f), _CMP_LE_OQ);
  return _mm256_testz_ps(near, near) ? v : _mm256_blendv_ps(v, _mm256_div_ps(x, scale), near);
}

// 8 values to int32 in [-127, 127]: round-half-away(x / scale), clamped.
// round-half-away(v) = trunc(v + copysign(0.5 - 2^-25, v)), equal to roundf
// for every float (checked exhaustively over the non-negative ones below
// 2^25; above, all are integers); the truncation is the conversion's.
inline __m256i quantize8(__m256 x, __m256 scale, __m256 inv, bool multiply) {
  const __m256 v = quotient(x, scale, inv, multiply);
  const __m256 half = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.f)), _mm256_set1_ps(0x1.fffffep-2f));
  // vminps/vmaxps are (a < b ? a : b) and (a > b ? a : b), the reference's
  // clamps exactly: NaN becomes 127 there and here.
  __m256 t = _mm256_min_ps(_mm256_add_ps(v, half), _mm256_set1_ps(127.f));
  t = _mm256_max_ps(t, _mm256_set1_ps(-127.f));
  return _mm256_cvttps_epi32(t);
}

}  // namespace

void quantize_f32_qs8_avx2(const float* x, int m, int k, float static_scale, int8_t* q,
                           float* scales) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int i = 0; i < m; ++i) {
    const float* row = x + static_cast<size_t>(i) * k;
    int8_t* out = q + static_cast<size_t>(i) * k;
    float scale = static_scale;
    if (!(scale > 0.f)) {
      const float amax = row_absmax(row, k);
      scale = amax > 0.f ? amax / 127.f : 1.f;
    }
    scales[i] = scale;
    const __m256 vs = _mm256_set1_ps(scale);
    const float inv = 1.f / scale;
    const bool mul = inv >= 0x1p-126f && inv <= 0x1.fffffep127f;  // normal: 2^-24 relative
    const __m256 vi = _mm256_set1_ps(inv);
    int p = 0;
    for (; p + 32 <= k; p += 32) {
      const __m256i a = quantize8(_mm256_loadu_ps(row + p), vs, vi, mul);
      const __m256i b = quantize8(_mm256_loadu_ps(row + p + 8), vs, vi, mul);
      const __m256i c = quantize8(_mm256_loadu_ps(row + p + 16), vs, vi, mul);
      const __m256i d = quantize8(_mm256_loadu_ps(row + p + 24), vs, vi, mul);
      // The packs work per 128-bit lane; the permute restores element order.
      const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + p),
                          _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (; p + 8 <= k; p += 8) {
      const __m256i a = quantize8(_mm256_loadu_ps(row + p), vs, vi, mul);
      const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + p), _mm_packs_epi16(w, w));
    }
    for (; p < k; ++p) {  // the reference's own scalar code
      float v = roundf(row[p] / scale);
      v = v < 127.f ? v : 127.f;
      v = v > -127.f ? v : -127.f;
      out[p] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace vitrt::kernels
