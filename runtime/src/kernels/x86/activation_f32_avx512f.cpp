// Elementwise activations, AVX-512: 4 vectors per step so the exp/div
// latencies of independent lanes overlap, then single vectors, then one
// masked tail (never reads or writes past n).
#include "kernels/x86/vmath_avx512f.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

template <__m512 (*F)(__m512)>
void f32_vunary_64_avx512f(float* x, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 a = F(_mm512_loadu_ps(x + i));
    const __m512 b = F(_mm512_loadu_ps(x + i + 16));
    const __m512 c = F(_mm512_loadu_ps(x + i + 32));
    const __m512 d = F(_mm512_loadu_ps(x + i + 48));
    _mm512_storeu_ps(x + i, a);
    _mm512_storeu_ps(x + i + 16, b);
    _mm512_storeu_ps(x + i + 32, c);
    _mm512_storeu_ps(x + i + 48, d);
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, F(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = f32_tail_mask_avx512f(static_cast<int>(n - i));
    _mm512_mask_storeu_ps(x + i, m, F(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace

void activation_f32_avx512f(float* x, size_t n, Act act) {
  switch (act) {
    case Act::None:
      return;
    case Act::GeluErf:
      return f32_vunary_64_avx512f<f32_gelu_erf_avx512f>(x, n);
    case Act::GeluTanh:
      return f32_vunary_64_avx512f<f32_gelu_tanh_avx512f>(x, n);
    case Act::Relu:
      return f32_vunary_64_avx512f<f32_relu_avx512f>(x, n);
    case Act::Tanh:
      return f32_vunary_64_avx512f<f32_tanh_avx512f>(x, n);
  }
}

}  // namespace vitrt::kernels
