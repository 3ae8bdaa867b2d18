#include <math.h>

#include "kernels/kernels.h"

namespace vitrt::kernels {

void layernorm_f32_ref(const float* x, float* y, int rows, int dim, const float* gamma,
                       const float* beta, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * dim;
    float* yr = y + static_cast<size_t>(r) * dim;
    // Two passes (mean, then centred variance): the one-pass formula loses
    // precision when |mean| >> std, common in ViT residual streams.
    float mean = 0.f;
    for (int i = 0; i < dim; ++i) mean += xr[i];
    mean /= static_cast<float>(dim);
    float var = 0.f;
    for (int i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<float>(dim);
    const float inv = 1.f / sqrtf(var + eps);
    for (int i = 0; i < dim; ++i) {
      const float v = (xr[i] - mean) * inv * gamma[i];
      yr[i] = beta ? v + beta[i] : v;
    }
  }
}

}  // namespace vitrt::kernels
