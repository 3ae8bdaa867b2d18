// LayerNorm over rows, AVX-512. Two passes like the reference (mean, then
// centred sums), but the mean is kept unrounded as mean0 + c, c = sum(x -
// mean0) / n from the centred pass, and var = (sum d^2 - (sum d)^2 / n) / n:
// with |mean| >> std (ViT residual streams) a float mean alone is off by up
// to half an ulp of |mean|, a visible error once divided by the std. The
// output is ((x - mean0) inv - c inv) gamma + beta: x - mean0 is exact for
// x near the mean. 4 accumulators hide the add latency; the row tail is
// one masked vector. y may alias x (element i is read before it is written).
#include "kernels/x86/vmath_avx512f.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

inline float f32_sqrt(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }

inline float f32_hsum_4_avx512f(__m512 a, __m512 b, __m512 c, __m512 d) {
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}

}  // namespace

void layernorm_f32_avx512f(const float* x, float* y, int rows, int dim, const float* gamma,
                           const float* beta, float eps) {
  if (dim <= 0) return;
  const int n64 = dim / 64 * 64, n16 = dim / 16 * 16;
  const __mmask16 mt = f32_tail_mask_avx512f(dim - n16);
  const float fdim = static_cast<float>(dim);
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * dim;
    float* yr = y + static_cast<size_t>(r) * dim;

    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int i = 0;
    for (; i < n64; i += 64) {
      s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xr + i));
      s1 = _mm512_add_ps(s1, _mm512_loadu_ps(xr + i + 16));
      s2 = _mm512_add_ps(s2, _mm512_loadu_ps(xr + i + 32));
      s3 = _mm512_add_ps(s3, _mm512_loadu_ps(xr + i + 48));
    }
    for (; i < n16; i += 16) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xr + i));
    if (mt) s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(mt, xr + i));
    const float mean0 = f32_hsum_4_avx512f(s0, s1, s2, s3) / fdim;

    const __m512 vm0 = _mm512_set1_ps(mean0);
    __m512 d0 = _mm512_setzero_ps(), d1 = d0, q0 = d0, q1 = d0;
    for (i = 0; i + 32 <= n16; i += 32) {
      const __m512 a = _mm512_sub_ps(_mm512_loadu_ps(xr + i), vm0);
      const __m512 b = _mm512_sub_ps(_mm512_loadu_ps(xr + i + 16), vm0);
      d0 = _mm512_add_ps(d0, a);
      d1 = _mm512_add_ps(d1, b);
      q0 = _mm512_fmadd_ps(a, a, q0);
      q1 = _mm512_fmadd_ps(b, b, q1);
    }
    for (; i < n16; i += 16) {
      const __m512 a = _mm512_sub_ps(_mm512_loadu_ps(xr + i), vm0);
      d0 = _mm512_add_ps(d0, a);
      q0 = _mm512_fmadd_ps(a, a, q0);
    }
    if (mt) {
      const __m512 a = _mm512_maskz_sub_ps(mt, _mm512_maskz_loadu_ps(mt, xr + i), vm0);
      d1 = _mm512_add_ps(d1, a);
      q1 = _mm512_fmadd_ps(a, a, q1);
    }
    const float sd = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
    const float sq = _mm512_reduce_add_ps(_mm512_add_ps(q0, q1));
    const float c = sd / fdim;
    float var = (sq - sd * c) / fdim;
    var = var > 0.f ? var : 0.f;
    const float inv = 1.f / f32_sqrt(var + eps);
    const __m512 vinv = _mm512_set1_ps(inv), vcinv = _mm512_set1_ps(c * inv);

    for (i = 0; i < n16; i += 16) {
      const __m512 v = _mm512_fmsub_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + i), vm0), vinv, vcinv);
      const __m512 g = _mm512_loadu_ps(gamma + i);
      _mm512_storeu_ps(
          yr + i, beta ? _mm512_fmadd_ps(v, g, _mm512_loadu_ps(beta + i)) : _mm512_mul_ps(v, g));
    }
    if (mt) {
      const __m512 v =
          _mm512_fmsub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mt, xr + i), vm0), vinv, vcinv);
      const __m512 g = _mm512_maskz_loadu_ps(mt, gamma + i);
      _mm512_mask_storeu_ps(
          yr + i, mt,
          beta ? _mm512_fmadd_ps(v, g, _mm512_maskz_loadu_ps(mt, beta + i)) : _mm512_mul_ps(v, g));
    }
  }
}

}  // namespace vitrt::kernels
