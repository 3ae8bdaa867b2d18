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
// Output channels [oc_begin, oc_end) of a 2-D convolution over one image:
// y[o, i, j] = bias[o] + sum_{c,p,q} w[o, c, p, q] * x[c, i*stride + p - pad, j*stride + q - pad],
// x zero outside [h, w], then max(0, .) when relu. x is [cin, h, w], w is
// [cout, cin, kh, kw], y is [cout, oh, ow]; bias may be null.
using Conv2dFn = void (*)(const float* x, int cin, int h, int w, const float* weight,
                          const float* bias, int kh, int kw, int stride, int pad, float* y, int oh,
                          int ow, int oc_begin, int oc_end, bool relu);

// gemm with fp16 weights (IEEE half bits, w [n, k] row-major), computed in
// fp32: the weights are converted kF16ScratchRows rows at a time into
// `scratch` (kF16ScratchRows * k floats), then multiplied in fp32.
constexpr int kF16ScratchRows = 4;
using GemmF16Fn = void (*)(const float* x, int m, int k, const uint16_t* w, const float* bias,
                           int n, float* y, int ldy, bool accumulate, float* scratch);
// Symmetric int8 quantization of each row of x [m, k]: scales[i] =
// static_scale when > 0, else max|x[i]| / 127 (1 for a zero row); q[i, p] =
// round-half-away(x[i, p] / scales[i]) clamped to [-127, 127].
using QuantizeFn = void (*)(const float* x, int m, int k, float static_scale, int8_t* q,
                            float* scales);
// Int8 weights of output channels [n0, n0 + n), n0 a multiple of
// kQs8TileN: `data` points at the Blocked16x4 tile row of n0 (schema
// WeightLayout: [ceil(N/16)][ceil(K/4)][16][4]); scales and sums at n0.
constexpr int kQs8TileN = 16, kQs8TileK = 4;
struct Qs8Weights {
  const int8_t* data;
  const float* scales;
  const int32_t* sums;  // sum_k W[j, k], for kernels that compute u8 x s8
};
// y[i, j] (+)= float(acc) * (x_scales[i] * w.scales[j]) + bias[j], where
// acc = sum_k xq[i, k] * W[j, k] in int32 (exact: |acc| <= 127^2 * 65536).
using GemmQs8Fn = void (*)(const int8_t* xq, const float* x_scales, int m, int k,
                           const Qs8Weights& w, const float* bias, int n, float* y, int ldy,
                           bool accumulate);

struct Ops {
  GemmFn gemm;
  LayerNormFn layernorm;
  AttentionFn attention;
  ActivationFn activation;
  Conv2dFn conv2d;
  GemmF16Fn gemm_f16w;
  QuantizeFn quantize_qs8;
  GemmQs8Fn gemm_qs8;
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
void conv2d_f32_ref(const float* x, int cin, int h, int w, const float* weight, const float* bias,
                    int kh, int kw, int stride, int pad, float* y, int oh, int ow, int oc_begin,
                    int oc_end, bool relu);
void gemm_f16w_f32_ref(const float* x, int m, int k, const uint16_t* w, const float* bias, int n,
                       float* y, int ldy, bool accumulate, float* scratch);
void quantize_f32_qs8_ref(const float* x, int m, int k, float static_scale, int8_t* q,
                          float* scales);
void gemm_qs8_ref(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                  const float* bias, int n, float* y, int ldy, bool accumulate);

}  // namespace vitrt::kernels
