// SCAFFOLD: forwards to the reference until the SIMD kernel lands.
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {

void attention_f32_avx2(const float* qkv, float* out, float* scratch, int tokens, int heads, int head_dim, float scale, int row_begin, int row_end) {
  attention_f32_ref(qkv, out, scratch, tokens, heads, head_dim, scale, row_begin, row_end);
}

}  // namespace vitrt::kernels
