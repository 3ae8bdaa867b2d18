// LayerNorm over rows, AVX2; same algorithm as layernorm_f32_avx512f.cpp:
// two passes, the mean kept unrounded as mean0 + c (c = sum(x - mean0) / n
// from the centred pass) and var = (sum d^2 - (sum d)^2 / n) / n, so a
// large |mean| against a small std costs no accuracy; output
// ((x - mean0) inv - c inv) gamma + beta. 4 accumulators hide the add
// latency; the row tail is one masked vector. y may alias x.
#include "kernels/x86/vmath_avx2.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

inline float f32_sqrt(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }

}  // namespace

void layernorm_f32_avx2(const float* x, float* y, int rows, int dim, const float* gamma,
                        const float* beta, float eps) {
  if (dim <= 0) return;
  const int n32 = dim / 32 * 32, n8 = dim / 8 * 8;
  const bool tail = n8 < dim;
  const __m256i mt = f32_tail_mask_avx2(dim - n8);
  const float fdim = static_cast<float>(dim);
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * dim;
    float* yr = y + static_cast<size_t>(r) * dim;

    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int i = 0;
    for (; i < n32; i += 32) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + i + 8));
      s2 = _mm256_add_ps(s2, _mm256_loadu_ps(xr + i + 16));
      s3 = _mm256_add_ps(s3, _mm256_loadu_ps(xr + i + 24));
    }
    for (; i < n8; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i));
    if (tail) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(xr + i, mt));
    const float mean0 =
        f32_hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) / fdim;

    const __m256 vm0 = _mm256_set1_ps(mean0);
    __m256 d0 = _mm256_setzero_ps(), d1 = d0, q0 = d0, q1 = d0;
    for (i = 0; i + 16 <= n8; i += 16) {
      const __m256 a = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm0);
      const __m256 b = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), vm0);
      d0 = _mm256_add_ps(d0, a);
      d1 = _mm256_add_ps(d1, b);
      q0 = _mm256_fmadd_ps(a, a, q0);
      q1 = _mm256_fmadd_ps(b, b, q1);
    }
    for (; i < n8; i += 8) {
      const __m256 a = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm0);
      d0 = _mm256_add_ps(d0, a);
      q0 = _mm256_fmadd_ps(a, a, q0);
    }
    if (tail) {
      const __m256 a = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + i, mt), vm0),
                                     _mm256_castsi256_ps(mt));
      d1 = _mm256_add_ps(d1, a);
      q1 = _mm256_fmadd_ps(a, a, q1);
    }
    const float sd = f32_hsum_avx2(_mm256_add_ps(d0, d1));
    const float sq = f32_hsum_avx2(_mm256_add_ps(q0, q1));
    const float c = sd / fdim;
    float var = (sq - sd * c) / fdim;
    var = var > 0.f ? var : 0.f;
    const float inv = 1.f / f32_sqrt(var + eps);
    const __m256 vinv = _mm256_set1_ps(inv), vcinv = _mm256_set1_ps(c * inv);

    for (i = 0; i < n8; i += 8) {
      const __m256 v = _mm256_fmsub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm0), vinv, vcinv);
      const __m256 g = _mm256_loadu_ps(gamma + i);
      _mm256_storeu_ps(
          yr + i, beta ? _mm256_fmadd_ps(v, g, _mm256_loadu_ps(beta + i)) : _mm256_mul_ps(v, g));
    }
    if (tail) {
      const __m256 v =
          _mm256_fmsub_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + i, mt), vm0), vinv, vcinv);
      const __m256 g = _mm256_maskload_ps(gamma + i, mt);
      _mm256_maskstore_ps(
          yr + i, mt,
          beta ? _mm256_fmadd_ps(v, g, _mm256_maskload_ps(beta + i, mt)) : _mm256_mul_ps(v, g));
    }
  }
}

}  // namespace vitrt::kernels
