// Run-time quantization of Linear inputs to int8, one scale per row (token).
#include <math.h>

#include "kernels/kernels.h"

namespace vitrt::kernels {

void quantize_f32_qs8_ref(const float* x, int m, int k, float static_scale, int8_t* q,
                          float* scales) {
  for (int i = 0; i < m; ++i) {
    const float* row = x + static_cast<size_t>(i) * k;
    int8_t* out = q + static_cast<size_t>(i) * k;
    float scale = static_scale;
    if (!(scale > 0.f)) {
      float amax = 0.f;
      for (int p = 0; p < k; ++p) amax = fmaxf(amax, fabsf(row[p]));
      scale = amax > 0.f ? amax / 127.f : 1.f;
    }
    scales[i] = scale;
    for (int p = 0; p < k; ++p) {
      float v = roundf(row[p] / scale);  // half away from zero
      // Written so that NaN ends up in range too: the cast must not overflow.
      v = v < 127.f ? v : 127.f;
      v = v > -127.f ? v : -127.f;
      out[p] = static_cast<int8_t>(v);
    }
  }
}

}  // namespace vitrt::kernels
