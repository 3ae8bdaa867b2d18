// SCAFFOLD: forwards to the reference until the SIMD kernel lands.
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {

void gemm_qs8_amx(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w, int n, const Epilogue& e, float* y, int ldy) {
  gemm_qs8_ref(xq, x_scales, m, k, w, n, e, y, ldy);
}

}  // namespace vitrt::kernels
