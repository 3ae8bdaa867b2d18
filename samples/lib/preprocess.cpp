#include "preprocess.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>

#include <stb/stb_image.h>

#include "aligned_buffer.h"

namespace vitrt::tools {
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

// Float -> the decimal the converter was given (0.8f -> 0.8, not
// 0.800000011920929), so floor(224 / crop_pct) is 280 as in timm, not 279.
double shortest_decimal(float v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf - 1, v);
  *res.ptr = '\0';
  return std::strtod(buf, nullptr);
}

}  // namespace

PreprocessSpec spec_from_info(const vitrt_info& info) {
  PreprocessSpec spec;
  spec.height = info.image_h;
  spec.width = info.image_w;
  spec.channels = info.channels;
  spec.resize = info.resize_mode == 1 ? ResizeMode::Stretch : ResizeMode::ShorterSideCrop;
  spec.interpolation = info.interpolation == 0 ? Interpolation::Bilinear : Interpolation::Bicubic;
  spec.crop_pct = shortest_decimal(info.crop_pct);
  for (int c = 0; c < 4; ++c) {
    spec.mean[c] = info.mean[c];
    spec.std[c] = info.std[c];
  }
  return spec;
}

PlanarImage to_planar(const uint8_t* pixels, int height, int width, int src_channels, int channels) {
  if (channels != 1 && channels != 3)
    throw std::runtime_error("models with " + std::to_string(channels) + " channels take no images");
  PlanarImage img{height, width, channels, {}};
  const size_t plane = size_t(height) * width;
  img.data.resize(plane * channels);
  for (size_t i = 0; i < plane; ++i) {
    const uint8_t* px = pixels + i * src_channels;
    if (channels == 3) {
      for (int c = 0; c < 3; ++c) img.data[c * plane + i] = px[c] / 255.0f;
    } else {
      // PIL's fixed-point L = 299/1000 R + 587/1000 G + 114/1000 B, rounded
      // to 8 bits as models trained on PIL 'L' images saw it.
      const uint32_t l = (px[0] * 19595u + px[1] * 38470u + px[2] * 7471u + 0x8000u) >> 16;
      img.data[i] = l / 255.0f;
    }
  }
  return img;
}

PlanarImage load_image(const std::string& path, int channels) {
  const AlignedBuffer file = read_file(path, "image");
  if (file.size() > size_t(std::numeric_limits<int>::max())) throw std::runtime_error("image '" + path + "': file too large");
  int w = 0, h = 0, n = 0;
  // Always decode to RGB: stb replicates grey, expands palettes, drops alpha.
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(file.data(), int(file.size()), &w, &h, &n, 3), &stbi_image_free);
  if (!pixels) throw std::runtime_error("image '" + path + "': cannot decode (" + stbi_failure_reason() + ")");
  return to_planar(pixels.get(), h, w, 3, channels);
}

PlanarImage resize_window(const PlanarImage& img, int out_h, int out_w, Interpolation interpolation,
                          int top, int left, int crop_h, int crop_w) {
  const Axis ax = make_axis(img.width, out_w, left, crop_w, interpolation);
  const Axis ay = make_axis(img.height, out_h, top, crop_h, interpolation);
  PlanarImage out{crop_h, crop_w, img.channels, std::vector<float>(size_t(img.channels) * crop_h * crop_w)};
  // Horizontal pass first, as PyTorch does; fp32 intermediate like torch's.
  std::vector<float> tmp(size_t(img.height) * crop_w);
  for (int c = 0; c < img.channels; ++c) {
    const float* src = &img.data[size_t(c) * img.height * img.width];
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < crop_w; ++x) tmp[size_t(y) * crop_w + x] = apply(ax, x, src + size_t(y) * img.width, 1);
    float* dst = &out.data[size_t(c) * crop_h * crop_w];
    for (int y = 0; y < crop_h; ++y)
      for (int x = 0; x < crop_w; ++x) dst[size_t(y) * crop_w + x] = apply(ay, y, tmp.data() + x, crop_w);
  }
  return out;
}

int centre_crop_offset(int size, int crop) {
  if (size < crop) return -((crop - size) / 2);  // torchvision pads (crop - size) // 2 before
  // int(round(d / 2.0)) in Python rounds halves to even.
  const int d = size - crop, half = d / 2;
  return (d % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

void shorter_side_size(const PreprocessSpec& spec, int in_h, int in_w, int& out_h, int& out_w) {
  // timm: scale = floor(img_size / crop_pct). For non-square models the
  // shorter model side plays img_size; the crop then zero-pads if needed.
  const int scale = int(std::floor(std::min(spec.height, spec.width) / spec.crop_pct));
  const int shorter = std::min(in_h, in_w), longer = std::max(in_h, in_w);
  const int scaled_long = int(double(int64_t(scale) * longer) / shorter);
  out_h = in_h <= in_w ? scale : scaled_long;
  out_w = in_h <= in_w ? scaled_long : scale;
}

std::vector<float> preprocess(const PlanarImage& img, const PreprocessSpec& spec) {
  if (img.channels != spec.channels) throw std::logic_error("preprocess: channel mismatch");
  if (spec.height < 1 || spec.width < 1 || !(spec.crop_pct > 0))
    throw std::runtime_error("model has an invalid preprocessing spec");
  int out_h = spec.height, out_w = spec.width;
  if (spec.resize == ResizeMode::ShorterSideCrop) shorter_side_size(spec, img.height, img.width, out_h, out_w);
  if (out_h < 1 || out_w < 1) throw std::runtime_error("image too small to resize");
  PlanarImage x = resize_window(img, out_h, out_w, spec.interpolation, centre_crop_offset(out_h, spec.height),
                                centre_crop_offset(out_w, spec.width), spec.height, spec.width);
  const size_t plane = size_t(spec.height) * spec.width;
  for (int c = 0; c < spec.channels; ++c)
    for (size_t i = 0; i < plane; ++i) x.data[c * plane + i] = (x.data[c * plane + i] - spec.mean[c]) / spec.std[c];
  return std::move(x.data);
}

}  // namespace vitrt::tools
