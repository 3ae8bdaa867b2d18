// fp32 GEMM over F32 or F16 weights in RowMajor or Panel16 order: dot
// products over rows for RowMajor, 16 running sums per panel for Panel16.
// F16 weights are converted into `scratch` first, a few rows or one panel
// at a time; F32 ones are read in place.
#include <string.h>

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
// F16 RowMajor weight rows converted per step (a multiple of kCols).
constexpr int kScratchRows = 4;

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

// y (+)= x w^T + bias over row-major fp32 w [n, k].
void gemm_rows(const float* x, int m, int k, const float* w, const float* bias, int n, float* y,
               int ldy, bool accumulate) {
  int i = 0;
  for (; i + kRows <= m; i += kRows)
    row_block<kRows>(x + i * k, k, w, bias, n, y + i * ldy, ldy, accumulate);
  for (; i < m; ++i) row_block<1>(x + i * k, k, w, bias, n, y + i * ldy, ldy, accumulate);
}

// y (+)= x w^T + bias over one fp32 panel ([k][16], columns j < n valid):
// 16 running sums per row, each summed in k order.
void gemm_panel(const float* x, int m, int k, const float* panel, const float* bias, int n,
                float* y, int ldy, bool accumulate) {
  for (int i = 0; i < m; ++i) {
    float acc[kPanelN] = {};
    const float* xi = x + size_t(i) * k;
    for (int p = 0; p < k; ++p)
      for (int l = 0; l < kPanelN; ++l) acc[l] += xi[p] * panel[size_t(p) * kPanelN + l];
    float* yi = y + size_t(i) * ldy;
    for (int l = 0; l < n; ++l) {
      const float v = bias ? acc[l] + bias[l] : acc[l];
      yi[l] = accumulate ? yi[l] + v : v;
    }
  }
}

void halves_to_floats(const uint16_t* h, size_t count, float* f) {
  for (size_t i = 0; i < count; ++i) f[i] = half_to_float(h[i]);
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else {
    const float v = static_cast<float>(mantissa) * 0x1p-24f;  // zero, subnormal: exact
    memcpy(&bits, &v, sizeof(bits));
    bits |= sign;
  }
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

void gemm_f32_ref(const float* x, int m, int k, const FloatWeights& w, int n, const Epilogue& e,
                  float* y, int ldy, float* scratch) {
  const bool panels = w.format == WeightFormat::F32Panel16 || w.format == WeightFormat::F16Panel16;
  const int step = panels ? kPanelN : kScratchRows;
  for (int j = 0; j < n; j += step) {
    const int cols = n - j < step ? n - j : step;
    const float* bias = e.bias ? e.bias + j : nullptr;
    const size_t at = size_t(j) * k;  // both orders put column j at j * k elements
    switch (w.format) {
      case WeightFormat::F32RowMajor:
        gemm_rows(x, m, k, static_cast<const float*>(w.data) + at, bias, cols, y + j, ldy, e.accumulate);
        break;
      case WeightFormat::F16RowMajor:
        halves_to_floats(static_cast<const uint16_t*>(w.data) + at, size_t(cols) * k, scratch);
        gemm_rows(x, m, k, scratch, bias, cols, y + j, ldy, e.accumulate);
        break;
      case WeightFormat::F32Panel16:
        gemm_panel(x, m, k, static_cast<const float*>(w.data) + at, bias, cols, y + j, ldy, e.accumulate);
        break;
      case WeightFormat::F16Panel16:
        halves_to_floats(static_cast<const uint16_t*>(w.data) + at, size_t(kPanelN) * k, scratch);
        gemm_panel(x, m, k, scratch, bias, cols, y + j, ldy, e.accumulate);
        break;
    }
  }
  if (e.act != Act::None)
    for (int i = 0; i < m; ++i) activation_f32_ref(y + size_t(i) * ldy, size_t(n), e.act);
}

}  // namespace vitrt::kernels
