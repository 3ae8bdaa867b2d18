#include "kernels/kernels.h"

namespace vitrt::kernels {
namespace {

// Each dot product keeps kLanes partial sums so the compiler can hold them in
// SIMD registers without -ffast-math (the summation order is fixed in the
// source, not reassociated by the compiler).
constexpr int kLanes = 8;
// Tile of y per inner loop: 2 rows of x by 4 rows of w. Measured fastest of
// {2,4} x {2,4} x {4,8} lanes at -O3 with SSE2 only (DeiT-Ti ~0.25 s).
constexpr int kRows = 2, kCols = 4;

// An R x C tile of y: R rows of x against C rows of w, reusing every load.
template <int R, int C>
void tile(const float* x, int k, const float* w, const float* bias, float* y, int ldy,
          bool accumulate) {
  float acc[R][C][kLanes] = {};
  const int kv = k - k % kLanes;
  for (int p = 0; p < kv; p += kLanes)
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c)
        for (int l = 0; l < kLanes; ++l) acc[r][c][l] += x[r * k + p + l] * w[c * k + p + l];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float sum = 0.f;
      for (int l = 0; l < kLanes; ++l) sum += acc[r][c][l];
      for (int p = kv; p < k; ++p) sum += x[r * k + p] * w[c * k + p];
      if (bias) sum += bias[c];
      float& out = y[r * ldy + c];
      out = accumulate ? out + sum : sum;
    }
  }
}

template <int R>
void row_block(const float* x, int k, const float* w, const float* bias, int n, float* y, int ldy,
               bool accumulate) {
  int j = 0;
  for (; j + kCols <= n; j += kCols)
    tile<R, kCols>(x, k, w + j * k, bias ? bias + j : nullptr, y + j, ldy, accumulate);
  for (; j < n; ++j) tile<R, 1>(x, k, w + j * k, bias ? bias + j : nullptr, y + j, ldy, accumulate);
}

}  // namespace

void gemm_f32_ref(const float* x, int m, int k, const float* w, const float* bias, int n, float* y,
                  int ldy, bool accumulate) {
  int i = 0;
  for (; i + kRows <= m; i += kRows)
    row_block<kRows>(x + i * k, k, w, bias, n, y + i * ldy, ldy, accumulate);
  for (; i < m; ++i) row_block<1>(x + i * k, k, w, bias, n, y + i * ldy, ldy, accumulate);
}

}  // namespace vitrt::kernels
