// One Linear of the model, y (+)= x W^T + b, dispatched by weight dtype:
// F32 weights through the fp32 GEMM, F16 weights converted to fp32 block by
// block, I8 weights against int8-quantized inputs (docs/quantization.md).
// Work is split over output features across st.threads tasks.
#pragma once

#include "kernels/kernels.h"
#include "state.h"

namespace vitrt {
namespace schema {
struct Linear;
}

// Arena bytes of kQuantX, kQuantScales and kWeightScratch for this model
// (0 for the dtypes it does not use); `b` is one of those three.
uint64_t linear_buffer_bytes(const State& st, Buffer b);

// m rows of x [m, in] into y [m, out] (row stride out); accumulate adds.
void run_linear(const State& st, const kernels::Ops& ops, const schema::Linear& l, const float* x,
                int m, float* y, bool accumulate);

}  // namespace vitrt
