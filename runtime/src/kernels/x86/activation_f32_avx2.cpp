// Elementwise activations, AVX2: 4 vectors per step so the exp/div
// latencies of independent lanes overlap, then single vectors, then one
// masked tail (maskload/maskstore: never touches memory past n).
#include "kernels/x86/vmath_avx2.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

// max(x, 0) returns the second operand for NaN, so relu(NaN) = 0 and
// relu(-0) = +0, exactly the reference's x > 0 ? x : 0.
inline __m256 f32_relu_avx2(__m256 x) { return _mm256_max_ps(x, _mm256_setzero_ps()); }

template <__m256 (*F)(__m256)>
void f32_vunary_32_avx2(float* x, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 a = F(_mm256_loadu_ps(x + i));
    const __m256 b = F(_mm256_loadu_ps(x + i + 8));
    const __m256 c = F(_mm256_loadu_ps(x + i + 16));
    const __m256 d = F(_mm256_loadu_ps(x + i + 24));
    _mm256_storeu_ps(x + i, a);
    _mm256_storeu_ps(x + i + 8, b);
    _mm256_storeu_ps(x + i + 16, c);
    _mm256_storeu_ps(x + i + 24, d);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = f32_tail_mask_avx2(static_cast<int>(n - i));
    _mm256_maskstore_ps(x + i, m, F(_mm256_maskload_ps(x + i, m)));
  }
}

}  // namespace

void activation_f32_avx2(float* x, size_t n, Act act) {
  switch (act) {
    case Act::None:
      return;
    case Act::GeluErf:
      return f32_vunary_32_avx2<f32_gelu_erf_avx2>(x, n);
    case Act::GeluTanh:
      return f32_vunary_32_avx2<f32_gelu_tanh_avx2>(x, n);
    case Act::Relu:
      return f32_vunary_32_avx2<f32_relu_avx2>(x, n);
    case Act::Tanh:
      return f32_vunary_32_avx2<f32_tanh_avx2>(x, n);
  }
}

}  // namespace vitrt::kernels
