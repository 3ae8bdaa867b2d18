#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace vitrt::resample {
namespace {

// Filters of PyTorch's antialiased upsample kernels (same as PIL's).
double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double keys_cubic(double x) {  // a = -0.5
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

// Taps of one axis: window pixel j reads `count[j]` inputs from `first[j]`.
struct Axis {
  int taps = 0;
  std::vector<int> first, count;
  std::vector<float> weights;  // [window][taps]
};

// As torch's _compute_indices_weights_aa / PIL's precompute_coeffs: the
// filter widens by the downscale factor so every input pixel contributes.
Axis make_axis(int in, int out, int offset, int window, Interpolation interpolation) {
  const bool cubic = interpolation == Interpolation::Bicubic;
  const double scale = double(in) / out;
  const double filter_scale = std::max(scale, 1.0);
  const double support = (cubic ? 2.0 : 1.0) * filter_scale;

  Axis axis;
  axis.taps = int(std::ceil(support)) * 2 + 1;
  axis.first.assign(window, 0);
  axis.count.assign(window, 0);
  axis.weights.assign(size_t(window) * axis.taps, 0.f);
  std::vector<double> w(axis.taps);
  for (int j = 0; j < window; ++j) {
    const int i = j + offset;
    if (i < 0 || i >= out) continue;  // zero padding: no taps
    const double center = (i + 0.5) * scale;
    const int xmin = std::max(int(center - support + 0.5), 0);
    const int xmax = std::min(int(center + support + 0.5), in);
    double total = 0.0;
    for (int x = xmin; x < xmax; ++x) {
      const double t = (x - center + 0.5) / filter_scale;
      w[x - xmin] = cubic ? keys_cubic(t) : triangle(t);
      total += w[x - xmin];
    }
    axis.first[j] = xmin;
    axis.count[j] = xmax - xmin;
    for (int k = 0; k < xmax - xmin; ++k)
      axis.weights[size_t(j) * axis.taps + k] = float(total != 0.0 ? w[k] / total : w[k]);
  }
  return axis;
}

// Sum of taps over inputs spaced `stride` apart.
float apply(const Axis& axis, int j, const float* src, size_t stride) {
  const float* wt = &axis.weights[size_t(j) * axis.taps];
  const float* p = src + size_t(axis.first[j]) * stride;
  double acc = 0.0;
  for (int k = 0; k < axis.count[j]; ++k) acc += double(wt[k]) * p[k * stride];
  return float(acc);
}

}  // namespace

std::vector<float> resize_planes(const float* src, int channels, int in_h, int in_w, int out_h, int out_w,
                                 Interpolation interpolation, int top, int left, int crop_h, int crop_w) {
  const Axis ax = make_axis(in_w, out_w, left, crop_w, interpolation);
  const Axis ay = make_axis(in_h, out_h, top, crop_h, interpolation);
  std::vector<float> out(size_t(channels) * crop_h * crop_w);
  // Horizontal pass first, as PyTorch does; fp32 intermediate like torch's.
  std::vector<float> tmp(size_t(in_h) * crop_w);
  for (int c = 0; c < channels; ++c) {
    const float* plane = src + size_t(c) * in_h * in_w;
    for (int y = 0; y < in_h; ++y)
      for (int x = 0; x < crop_w; ++x) tmp[size_t(y) * crop_w + x] = apply(ax, x, plane + size_t(y) * in_w, 1);
    float* dst = &out[size_t(c) * crop_h * crop_w];
    for (int y = 0; y < crop_h; ++y)
      for (int x = 0; x < crop_w; ++x) dst[size_t(y) * crop_w + x] = apply(ay, y, tmp.data() + x, crop_w);
  }
  return out;
}

}  // namespace vitrt::resample
