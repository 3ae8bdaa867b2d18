// SCAFFOLD: forwards to the reference until the SIMD kernel lands.
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {

void activation_f32_avx2(float* x, size_t n, Act act) {
  activation_f32_ref(x, n, act);
}

}  // namespace vitrt::kernels
