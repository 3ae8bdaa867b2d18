// SCAFFOLD: forwards to the reference until the SIMD kernel lands.
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {

void quantize_f32_qs8_avx512f(const float* x, int m, int k, float static_scale, int8_t* q, float* scales) {
  quantize_f32_qs8_ref(x, m, k, static_scale, q, scales);
}

}  // namespace vitrt::kernels
