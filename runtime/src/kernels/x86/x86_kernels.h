// x86-64 kernels, one translation unit per op and ISA. The file suffix picks
// the compiler flags (runtime/CMakeLists.txt); select.cpp calls a kernel only
// when cpu_x86() reports every feature its flags assume.
#pragma once

#include "kernels/kernels.h"

namespace vitrt::kernels {

// What the CPU and the OS offer (cpuid + xgetbv; AMX also needs the OS's
// per-process permission, asked through the platform layer).
struct CpuX86 {
  bool avx2, fma, f16c;                               // _avx2.cpp
  bool avx_vnni;                                      // _avxvnni.cpp (+ avx2)
  bool avx512f, avx512bw, avx512vl, avx512dq;         // _avx512f.cpp (+ avx2)
  bool avx512_vnni;                                   // _avx512vnni.cpp
  bool avx512_bf16;                                   // _avx512bf16.cpp, _amx.cpp
  bool amx_tile, amx_int8, amx_bf16;                  // _amx.cpp (+ avx512vnni)
  bool os_ymm, os_zmm, os_amx;  // XCR0 state enabled; os_amx: permission granted
};
const CpuX86& cpu_x86();

// fp32 GEMM (GemmFn), F32/F16 weights in either WeightFormat.
void gemm_f32_avx512f(const float* x, int m, int k, const FloatWeights& w, int n,
                      const Epilogue& e, float* y, int ldy, float* scratch);
void gemm_f32_avx2(const float* x, int m, int k, const FloatWeights& w, int n, const Epilogue& e,
                   float* y, int ldy, float* scratch);

// int8 GEMM (GemmQs8Fn) over Blocked16x4 weights.
void gemm_qs8_amx(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                  int n, const Epilogue& e, float* y, int ldy);
void gemm_qs8_avx512vnni(const int8_t* xq, const float* x_scales, int m, int k,
                         const Qs8Weights& w, int n, const Epilogue& e, float* y, int ldy);
void gemm_qs8_avxvnni(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                      int n, const Epilogue& e, float* y, int ldy);
void gemm_qs8_avx2(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                   int n, const Epilogue& e, float* y, int ldy);

// Per-row int8 quantization (QuantizeFn), byte-identical to the reference.
void quantize_f32_qs8_avx512f(const float* x, int m, int k, float static_scale, int8_t* q,
                              float* scales);
void quantize_f32_qs8_avx2(const float* x, int m, int k, float static_scale, int8_t* q,
                           float* scales);

// Attention (AttentionFn), LayerNorm (LayerNormFn), activations (ActivationFn).
void attention_f32_avx512f(const float* qkv, float* out, float* scratch, int tokens, int heads,
                           int head_dim, float scale, int row_begin, int row_end);
// bf16 attention (kernels.h, Ops::attention_bf16): AMX-BF16 tiles, or
// AVX512-BF16 dot products (the same arithmetic).
void attention_bf16_amx(const float* qkv, float* out, float* scratch, int tokens, int heads,
                        int head_dim, float scale, int row_begin, int row_end);
void attention_bf16_avx512bf16(const float* qkv, float* out, float* scratch, int tokens,
                               int heads, int head_dim, float scale, int row_begin, int row_end);
void attention_f32_avx2(const float* qkv, float* out, float* scratch, int tokens, int heads,
                        int head_dim, float scale, int row_begin, int row_end);
void layernorm_f32_avx512f(const float* x, float* y, int rows, int dim, const float* gamma,
                           const float* beta, float eps);
void layernorm_f32_avx2(const float* x, float* y, int rows, int dim, const float* gamma,
                        const float* beta, float eps);
void activation_f32_avx512f(float* x, size_t n, Act act);
void activation_f32_avx2(float* x, size_t n, Act act);

}  // namespace vitrt::kernels
