// One Linear of the model, y = act(x W^T + b) or y += x W^T + b, dispatched
// by weight dtype: F32 and F16 weights through the float GEMM (computed in
// fp32), I8 weights against int8-quantized inputs (docs/quantization.md).
// Work is split over output features across st.threads tasks.
#pragma once

#include "kernels/kernels.h"
#include "state.h"

namespace vitrt {
namespace schema {
struct Linear;
struct Norm;
}

// Which Linear of the model, for the observer: "<group>[.<index>][.<leaf>]",
// e.g. {"blocks", 3, "fc1"}, {"pre_logits", 0, nullptr}, {"head", -1, nullptr}.
struct LinearId {
  const char* group;
  int32_t index;  // -1 = none
  const char* leaf;
};

// Arena bytes of kQuantX, kQuantScales, kWeightScratch and kObserved for this
// model (0 when unused); `b` is one of those four.
uint64_t linear_buffer_bytes(const State& st, Buffer b);

// A LayerNorm in front of the Linear (pre-norm blocks): x is normalized
// into `normed` [m, in] in the Linear's own parallel pass and, for I8
// weights, each few rows are quantized right after, while still in L1.
struct PreNorm {
  const schema::Norm* norm;
  float eps;
  float* normed;
};

// m rows of x [m, in] into y [m, out] (row stride out) with st.ops;
// accumulate adds (act must then be None). Reports the Linear to
// st.observer, if any, once it has run (before the activation), with the
// normalized rows as its input when there is a PreNorm.
void run_linear(const State& st, const schema::Linear& l, LinearId id, const float* x, int m,
                float* y, bool accumulate, kernels::Act act = kernels::Act::None,
                const PreNorm* pre = nullptr);

}  // namespace vitrt
