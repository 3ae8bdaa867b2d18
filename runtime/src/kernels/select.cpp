#include "kernels.h"

namespace vitrt::kernels {

namespace {
constexpr Ops kRefOps = {gemm_f32_ref, layernorm_f32_ref, attention_f32_ref, activation_f32_ref,
                         conv2d_f32_ref, gemm_f16w_f32_ref, quantize_f32_qs8_ref,
                         gemm_qs8_ref};
}  // namespace

// Only the portable kernels exist so far; CPU feature checks go here.
const Ops& select_ops() { return kRefOps; }

}  // namespace vitrt::kernels
