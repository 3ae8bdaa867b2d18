#include "kernels/kernels.h"

namespace vitrt::kernels {
namespace {

// First and one-past-last output index o with 0 <= o * stride + offset < in,
// i.e. the outputs whose input tap is inside the image (not zero padding).
void valid_range(int in, int out, int stride, int offset, int* begin, int* end) {
  int b = 0;
  while (b < out && b * stride + offset < 0) ++b;
  int e = out;
  while (e > b && (e - 1) * stride + offset >= in) --e;
  *begin = b;
  *end = e;
}

}  // namespace

// Direct convolution, one output plane at a time: the plane starts at the
// bias, then every (input channel, kernel tap) adds a shifted, strided copy
// of its input plane scaled by one weight. The padding never materialises:
// each tap only touches the output rows and columns whose input is inside.
void conv2d_f32_ref(const float* x, int cin, int h, int w, const float* weight, const float* bias,
                    int kh, int kw, int stride, int pad, float* y, int oh, int ow, int oc_begin,
                    int oc_end, bool relu) {
  const size_t plane = static_cast<size_t>(oh) * ow;
  for (int o = oc_begin; o < oc_end; ++o) {
    float* yo = y + o * plane;
    const float b = bias ? bias[o] : 0.f;
    for (size_t i = 0; i < plane; ++i) yo[i] = b;
    const float* wo = weight + static_cast<size_t>(o) * cin * kh * kw;
    for (int c = 0; c < cin; ++c) {
      const float* xc = x + static_cast<size_t>(c) * h * w;
      for (int p = 0; p < kh; ++p) {
        int i0, i1;
        valid_range(h, oh, stride, p - pad, &i0, &i1);
        for (int q = 0; q < kw; ++q) {
          int j0, j1;
          valid_range(w, ow, stride, q - pad, &j0, &j1);
          const float wv = wo[(c * kh + p) * kw + q];
          for (int i = i0; i < i1; ++i) {
            const float* xr = xc + static_cast<size_t>(i * stride + p - pad) * w;
            float* yr = yo + static_cast<size_t>(i) * ow;
            for (int j = j0; j < j1; ++j) yr[j] += wv * xr[j * stride + q - pad];
          }
        }
      }
    }
    if (relu)
      for (size_t i = 0; i < plane; ++i) yo[i] = yo[i] > 0.f ? yo[i] : 0.f;
  }
}

}  // namespace vitrt::kernels
