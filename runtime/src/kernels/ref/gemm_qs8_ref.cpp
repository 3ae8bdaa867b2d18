// Int8 x int8 -> int32 GEMM over Blocked16x4 weights, dequantized to fp32.
// Portable and plain: it reads W[j, k] through the layout's index formula,
// so it documents the layout the SIMD kernels read tile by tile.
#include "kernels/kernels.h"

namespace vitrt::kernels {

void gemm_qs8_ref(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                  int n, const Epilogue& e, float* y, int ldy) {
  const size_t k_blocks = static_cast<size_t>((k + kQs8TileK - 1) / kQs8TileK);
  for (int j = 0; j < n; ++j) {
    // W[j, p] = lane[(p / 4) * 64 + p % 4]: tile row j / 16, lane j % 16 of
    // every [16][4] block along k.
    const int8_t* lane = w.data + (static_cast<size_t>(j / kQs8TileN) * k_blocks * kQs8TileN +
                                   j % kQs8TileN) * kQs8TileK;
    for (int i = 0; i < m; ++i) {
      const int8_t* x = xq + static_cast<size_t>(i) * k;
      int32_t acc = 0;
      for (int p = 0; p < k; ++p)
        acc += int32_t{x[p]} * lane[(p / kQs8TileK) * (kQs8TileN * kQs8TileK) + p % kQs8TileK];
      float v = static_cast<float>(acc) * (x_scales[i] * w.scales[j]);
      if (e.bias) v += e.bias[j];
      float& out = y[static_cast<size_t>(i) * ldy + j];
      out = e.accumulate ? out + v : v;
    }
  }
  if (e.act != Act::None)
    for (int i = 0; i < m; ++i) activation_f32_ref(y + size_t(i) * ldy, size_t(n), e.act);
}

}  // namespace vitrt::kernels
