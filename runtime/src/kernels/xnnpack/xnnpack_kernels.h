// The "xnnpack" kernel set: XNNPACK's fp32 fully-connected operator as the
// float GEMM, every other op from the best native set of the CPU (its "base").
// Built only with VITRT_WITH_XNNPACK (Debian's libxnnpack-dev, hosted Linux).
#pragma once

#include <stddef.h>

#include "kernels/kernels.h"

namespace vitrt::kernels {

// Once per process: XNNPACK's allocator hook (process-global) and cpuinfo,
// which allocates a little on the heap, so it runs at selection (find_ops),
// never in vitrt_run; `base` is the set whose other ops the xnnpack set
// uses. False when XNNPACK does not support this CPU.
bool xnnpack_init(const Ops& base);

// XNNPACK allocates from [begin, begin + bytes) on this thread until called
// again (begin null: nothing, allocations fail). Never the heap.
void xnnpack_region(void* begin, size_t bytes);
// The unused end of this thread's region, 64-byte aligned, at *at: bytes.
size_t xnnpack_region_left(void** at);

// The set xnnpack_init was given.
const Ops& xnnpack_base();

// GemmFn: F32 weights through XNNPACK, the rest (F16 weights, k too small
// for the scratch) by the base set's gemm.
void gemm_f32_xnnpack(const float* x, int m, int k, const FloatWeights& w, int n,
                      const Epilogue& e, float* y, int ldy, float* scratch);

}  // namespace vitrt::kernels
