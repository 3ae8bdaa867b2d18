// SCAFFOLD: forwards to the reference until the SIMD kernel lands.
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {

void gemm_f32_avx2(const float* x, int m, int k, const FloatWeights& w, int n, const Epilogue& e, float* y, int ldy, float* scratch) {
  gemm_f32_ref(x, m, k, w, n, e, y, ldy, scratch);
}

}  // namespace vitrt::kernels
