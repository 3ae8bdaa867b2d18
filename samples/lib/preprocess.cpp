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
#include "resample.h"

namespace vitrt::tools {
namespace {

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
  return {crop_h, crop_w, img.channels,
          resample::resize_planes(img.data.data(), img.channels, img.height, img.width, out_h, out_w, interpolation,
                                  top, left, crop_h, crop_w)};
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
