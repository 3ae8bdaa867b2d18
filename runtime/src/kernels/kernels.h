// Op interface of the forward pass. Each kernel family has a portable fp32
// reference (kernels/ref/); SIMD variants (AVX2, AVX-512, NEON, Helium) go
// one translation unit each and are picked at run time by select_ops().
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace vitrt::kernels {

// Values match vitrt.schema.Activation.
enum class Act : uint8_t { None = 0, GeluErf = 1, GeluTanh = 2, Relu = 3, Tanh = 4 };

// y[i, j] (+)= sum_k x[i, k] * w[j, k] + bias[j] for i < m, j < n.
// x is [m, k] contiguous, w is [n, k] row-major, y has row stride ldy;
// bias may be null. accumulate adds to y instead of overwriting it.
using GemmFn = void (*)(const float* x, int m, int k, const float* w, const float* bias, int n,
                        float* y, int ldy, bool accumulate);
// LayerNorm over the last dim of [rows, dim]; y may equal x; beta may be null.
using LayerNormFn = void (*)(const float* x, float* y, int rows, int dim, const float* gamma,
                             const float* beta, float eps);
// Heads [head_begin, head_end) of softmax(scale * q k^T) v. qkv is
// [tokens, 3 * heads * head_dim] (q | k | v, head-major), out is
// [tokens, heads * head_dim], scratch holds `tokens` floats.
using AttentionFn = void (*)(const float* qkv, float* out, float* scratch, int tokens, int heads,
                             int head_dim, float scale, int head_begin, int head_end);
// In-place elementwise activation.
using ActivationFn = void (*)(float* x, size_t n, Act act);

struct Ops {
  GemmFn gemm;
  LayerNormFn layernorm;
  AttentionFn attention;
  ActivationFn activation;
};

// The fastest kernels this build and CPU support.
const Ops& select_ops();

// Portable references.
void gemm_f32_ref(const float* x, int m, int k, const float* w, const float* bias, int n, float* y,
                  int ldy, bool accumulate);
void layernorm_f32_ref(const float* x, float* y, int rows, int dim, const float* gamma,
                       const float* beta, float eps);
void softmax_f32_ref(float* x, int n);
void attention_f32_ref(const float* qkv, float* out, float* scratch, int tokens, int heads,
                       int head_dim, float scale, int head_begin, int head_end);
void gelu_erf_f32_ref(float* x, size_t n);
void gelu_tanh_f32_ref(float* x, size_t n);
void relu_f32_ref(float* x, size_t n);
void tanh_f32_ref(float* x, size_t n);
void activation_f32_ref(float* x, size_t n, Act act);

}  // namespace vitrt::kernels
