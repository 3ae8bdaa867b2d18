// Op interface of the forward pass. Every op has a portable reference
// (kernels/ref/); SIMD kernel sets (kernels/x86/, one translation unit per
// op and ISA, each built with its own flags) implement the same signatures
// and are chosen at run time by CPU feature detection (select.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace vitrt::kernels {

// Values match vitrt.schema.Activation.
enum class Act : uint8_t { None = 0, GeluErf = 1, GeluTanh = 2, Relu = 3, Tanh = 4 };

// What a GEMM does with each result: y = act(acc + bias), or with
// `accumulate` y += acc + bias (act is then None: the residual add).
// bias may be null.
struct Epilogue {
  const float* bias;
  Act act;
  bool accumulate;
};

// Linear weights [n, k] computed in fp32: F32 or IEEE-half elements, in
// one of two element orders (schema WeightLayout):
// - RowMajor: element (j, p) at j * k + p.
// - Panel16: [ceil(n/16)][k][16], element (j, p) at ((j/16) * k + p) * 16 + j%16,
//   zero padded to whole panels: the broadcast-x GEMM kernels' order.
enum class WeightFormat : uint8_t { F32RowMajor, F16RowMajor, F32Panel16, F16Panel16 };
constexpr int kPanelN = 16;
struct FloatWeights {
  const void* data;  // at output channel n0 of the call (n0 a multiple of kPanelN)
  WeightFormat format;
};

// Floats of per-task scratch a float GEMM may use with k inputs (F16 weights
// converted, RowMajor ones reordered, a few panels at a time). The x86
// kernels block up to 4 panels; elsewhere one panel keeps MCU arenas small.
#if defined(__x86_64__)
constexpr int kGemmScratchCols = 64;
#else
constexpr int kGemmScratchCols = 16;
#endif
constexpr size_t gemm_scratch_floats(int k) { return size_t(kGemmScratchCols) * size_t(k); }

// y[i, j] = epilogue(sum_k x[i, k] * W[j, k]) for i < m, j < n. x is [m, k]
// contiguous, y has row stride ldy; columns >= n of y are never written.
using GemmFn = void (*)(const float* x, int m, int k, const FloatWeights& w, int n,
                        const Epilogue& e, float* y, int ldy, float* scratch);

// LayerNorm over the last dim of [rows, dim]; y may equal x; beta may be null.
using LayerNormFn = void (*)(const float* x, float* y, int rows, int dim, const float* gamma,
                             const float* beta, float eps);

// Query rows [row_begin, row_end) of softmax(scale * q k^T) v, every head.
// qkv is [tokens, 3 * heads * head_dim] (q | k | v, head-major), out is
// [tokens, heads * head_dim]; scratch holds attention_scratch_floats(): on
// x86 a tile of kAttnTileRows score rows plus one head's keys reordered;
// elsewhere (the reference) one score row.
constexpr int kAttnTileRows = 16;
// The bf16 attention (below) on x86: K and V of a head and a tile of Q in
// bf16, a tile of fp32 scores and of bf16 probabilities.
constexpr size_t attention_bf16_scratch_floats(int tokens, int head_dim) {
  const size_t tp = size_t(tokens + 15) / 16 * 16, tp32 = size_t(tokens + 31) / 32 * 32;
  const size_t hd32 = size_t(head_dim + 31) / 32 * 32, hd16 = size_t(head_dim + 15) / 16 * 16;
  return tp * hd32 / 2 + tp32 * hd16 / 2 + 8 * hd32 + 16 * tp + 8 * tp32 + 16;
}
constexpr size_t attention_scratch_floats(int tokens, int head_dim) {
#if defined(__x86_64__)
  const size_t f32 = size_t(kAttnTileRows + head_dim + 16) * size_t((tokens + 15) / 16 * 16);
  const size_t bf16 = attention_bf16_scratch_floats(tokens, head_dim);
  return f32 > bf16 ? f32 : bf16;
#else
  return (void)head_dim, size_t(tokens);
#endif
}
using AttentionFn = void (*)(const float* qkv, float* out, float* scratch, int tokens, int heads,
                             int head_dim, float scale, int row_begin, int row_end);

// In-place elementwise activation.
using ActivationFn = void (*)(float* x, size_t n, Act act);

// Output channels [oc_begin, oc_end) of a 2-D convolution over one image:
// y[o, i, j] = bias[o] + sum_{c,p,q} w[o, c, p, q] * x[c, i*stride + p - pad, j*stride + q - pad],
// x zero outside [h, w], then max(0, .) when relu. x is [cin, h, w], w is
// [cout, cin, kh, kw], y is [cout, oh, ow]; bias may be null.
using Conv2dFn = void (*)(const float* x, int cin, int h, int w, const float* weight,
                          const float* bias, int kh, int kw, int stride, int pad, float* y, int oh,
                          int ow, int oc_begin, int oc_end, bool relu);

// Symmetric int8 quantization of each row of x [m, k]: scales[i] =
// static_scale when > 0, else max|x[i]| / 127 (1 for a zero row); q[i, p] =
// round-half-away(x[i, p] / scales[i]) clamped to [-127, 127]. Every kernel
// set gives the same bytes as the reference.
using QuantizeFn = void (*)(const float* x, int m, int k, float static_scale, int8_t* q,
                            float* scales);

// Int8 weights of output channels [n0, n0 + n), n0 a multiple of
// kQs8TileN: `data` points at the Blocked16x4 tile row of n0 (schema
// WeightLayout: [ceil(N/16)][ceil(K/4)][16][4], zero padded); scales and
// sums at n0.
constexpr int kQs8TileN = 16, kQs8TileK = 4;
struct Qs8Weights {
  const int8_t* data;
  const float* scales;
  const int32_t* sums;  // sum_k W[j, k], for kernels that compute u8 x s8
};
// y[i, j] = epilogue(float(acc) * (x_scales[i] * w.scales[j])), where
// acc = sum_k xq[i, k] * W[j, k] in int32 (exact: |acc| <= 127^2 * 65536).
using GemmQs8Fn = void (*)(const int8_t* xq, const float* x_scales, int m, int k,
                           const Qs8Weights& w, int n, const Epilogue& e, float* y, int ldy);

// One kernel set: a name (VITRT_KERNELS, vitrt_set_kernels) and its ops.
struct Ops {
  const char* name;
  GemmFn gemm;
  LayerNormFn layernorm;
  AttentionFn attention;
  // Attention with bf16 operands (q, k, v and the probabilities rounded to
  // bf16, sums and softmax in fp32) for int8 models, whose int8 Linears
  // already round more coarsely; null when the set has none.
  AttentionFn attention_bf16;
  ActivationFn activation;
  Conv2dFn conv2d;
  QuantizeFn quantize_qs8;
  GemmQs8Fn gemm_qs8;
  // gemm also needs gemm_scratch_floats(k) with F32 Panel16 weights (which
  // the native kernels read in place; XNNPACK packs them).
  bool f32_panel_scratch = false;
};

// The fastest kernel set this build and CPU support.
const Ops& default_ops();
// The set called `name`, or null when unknown or not supported here; then
// *why (if given) says which (a static string).
const Ops* find_ops(const char* name, const char** why);
// Every kernel set this build has, fastest first, supported or not:
// names[0..count) (static strings); returns count.
int kernel_set_names(const char* const** names);

// Portable references.
void gemm_f32_ref(const float* x, int m, int k, const FloatWeights& w, int n, const Epilogue& e,
                  float* y, int ldy, float* scratch);
void layernorm_f32_ref(const float* x, float* y, int rows, int dim, const float* gamma,
                       const float* beta, float eps);
void softmax_f32_ref(float* x, int n);
void attention_f32_ref(const float* qkv, float* out, float* scratch, int tokens, int heads,
                       int head_dim, float scale, int row_begin, int row_end);
void gelu_erf_f32_ref(float* x, size_t n);
void gelu_tanh_f32_ref(float* x, size_t n);
void relu_f32_ref(float* x, size_t n);
void tanh_f32_ref(float* x, size_t n);
void activation_f32_ref(float* x, size_t n, Act act);
void conv2d_f32_ref(const float* x, int cin, int h, int w, const float* weight, const float* bias,
                    int kh, int kw, int stride, int pad, float* y, int oh, int ow, int oc_begin,
                    int oc_end, bool relu);
void quantize_f32_qs8_ref(const float* x, int m, int k, float static_scale, int8_t* q,
                          float* scales);
void gemm_qs8_ref(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                  int n, const Epilogue& e, float* y, int ldy);

// IEEE half bits to float (exact), for kernels without F16C.
float half_to_float(uint16_t h);

}  // namespace vitrt::kernels
