#include <math.h>

#include "kernels/kernels.h"

namespace vitrt::kernels {

void softmax_f32_ref(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.f;
  for (int i = 0; i < n; ++i) {
    x[i] = expf(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

namespace {

// Same fixed-lane trick as the GEMM so the q.k loop vectorizes.
float dot(const float* a, const float* b, int n) {
  constexpr int kLanes = 4;
  float acc[kLanes] = {};
  const int nv = n - n % kLanes;
  for (int i = 0; i < nv; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  float sum = 0.f;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  for (int i = nv; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

void attention_f32_ref(const float* qkv, float* out, float* scratch, int tokens, int heads,
                       int head_dim, float scale, int row_begin, int row_end) {
  const size_t inner = static_cast<size_t>(heads) * head_dim;
  const size_t stride = 3 * inner;
  for (int h = 0; h < heads; ++h) {
    const float* q = qkv + static_cast<size_t>(h) * head_dim;
    const float* k = q + inner;
    const float* v = k + inner;
    for (int i = row_begin; i < row_end; ++i) {
      const float* qi = q + i * stride;
      for (int j = 0; j < tokens; ++j) scratch[j] = scale * dot(qi, k + j * stride, head_dim);
      softmax_f32_ref(scratch, tokens);
      float* o = out + i * inner + static_cast<size_t>(h) * head_dim;
      for (int d = 0; d < head_dim; ++d) o[d] = 0.f;
      for (int j = 0; j < tokens; ++j) {
        const float p = scratch[j];
        const float* vj = v + j * stride;
        for (int d = 0; d < head_dim; ++d) o[d] += p * vj[d];
      }
    }
  }
}

}  // namespace vitrt::kernels
