#include "preprocess.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

bool starts_with(const uint8_t* p, size_t n, const char* magic, size_t len) {
  return n >= len && std::memcmp(p, magic, len) == 0;
}

// Formats stb_image could read (but this build does not), named in the error.
const char* other_format(const uint8_t* p, size_t n) {
  if (starts_with(p, n, "BM", 2)) return "BMP";
  if (starts_with(p, n, "GIF8", 4)) return "GIF";
  if (starts_with(p, n, "8BPS", 4)) return "PSD";
  if (starts_with(p, n, "#?RADIANCE", 10) || starts_with(p, n, "#?RGBE", 6)) return "HDR";
  if (starts_with(p, n, "\x53\x80\xf6\x34", 4)) return "PIC";
  if (starts_with(p, n, "II*\0", 4) || starts_with(p, n, "MM\0*", 4)) return "TIFF";
  if (n >= 12 && starts_with(p, n, "RIFF", 4) && std::memcmp(p + 8, "WEBP", 4) == 0) return "WebP";
  if (n >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7') return "PNM (PBM/PGM/PPM)";
  return nullptr;
}

}  // namespace

ImageFormat sniff_image(const uint8_t* data, size_t size, std::string* other) {
  if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::Png;
  if (starts_with(data, size, "\xff\xd8\xff", 3)) return ImageFormat::Jpeg;
  const char* name = other_format(data, size);
  if (other) *other = name ? name : "";
  return ImageFormat::Other;
}

// stb_image 2.27 trusts a DHT segment's 16 code counts: a sum above 256
// overruns its 256-entry Huffman tables. So walk every marker segment as stb
// does (by its length; scans up to the next marker, as progressive files put
// DHT between scans) and check each table before stb sees it. The walk also
// finds truncated files, which stb decodes "successfully" with the missing
// part grey: like PIL, a file that ends before its EOI marker is an error.
std::string jpeg_structure_error(const uint8_t* p, size_t n) {
  static const char* const kTruncated = "truncated: no end-of-image marker";
  size_t i = 2;  // after SOI
  while (i + 1 < n) {
    if (p[i] != 0xFF) {  // entropy-coded data: on to the next 0xFF
      const void* ff = std::memchr(p + i, 0xFF, n - i);
      if (!ff) return kTruncated;
      i = size_t(static_cast<const uint8_t*>(ff) - p);
      continue;
    }
    const uint8_t m = p[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    // Stuffed 0xFF, RSTn, TEM, SOI carry no length.
    if (m == 0x00 || (m >= 0xD0 && m <= 0xD8) || m == 0x01) {
      i += 2;
      continue;
    }
    if (m == 0xD9) return "";  // EOI
    if (i + 4 > n) return kTruncated;
    const size_t len = size_t(p[i + 2]) << 8 | p[i + 3];
    if (len < 2) return "marker segment shorter than its length field";
    if (i + 2 + len > n) return kTruncated;
    const size_t end = i + 2 + len;
    if (m == 0xC4) {
      for (size_t t = i + 4; t < end;) {
        if (end - t < 17) return "truncated Huffman table";
        const int cls = p[t] >> 4, id = p[t] & 15;
        size_t codes = 0;
        for (int k = 1; k <= 16; ++k) codes += p[t + k];
        if (cls > 1 || id > 3) return "Huffman table class/id out of range";
        if (codes > 256) return "Huffman table with " + std::to_string(codes) + " codes (at most 256)";
        if (end - t - 17 < codes) return "truncated Huffman table";
        t += 17 + codes;
      }
    }
    i += 2 + len;
  }
  return kTruncated;
}

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

PlanarImage decode_image(const uint8_t* data, size_t size, const std::string& name, int channels) {
  const std::string what = "image '" + name + "': ";
  if (size > size_t(std::numeric_limits<int>::max())) throw std::runtime_error(what + "file too large");
  std::string other;
  const ImageFormat format = sniff_image(data, size, &other);
  if (format == ImageFormat::Other)
    throw std::runtime_error(what + (other.empty() ? "not a PNG or JPEG file"
                                                   : other + " is not supported, only PNG and JPEG"));
  if (format == ImageFormat::Jpeg) {
    const std::string bad = jpeg_structure_error(data, size);
    if (!bad.empty()) throw std::runtime_error(what + "corrupt JPEG (" + bad + ")");
  }
  // The header's size, before stb allocates for it: a few bytes may declare
  // gigapixels.
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(data, int(size), &w, &h, &n))
    throw std::runtime_error(what + "cannot decode (" + stbi_failure_reason() + ")");
  if (w < 1 || h < 1) throw std::runtime_error(what + "has no pixels");
  if (w > kMaxImageSide || h > kMaxImageSide || int64_t(w) * h > kMaxImagePixels)
    throw std::runtime_error(what + std::to_string(w) + "x" + std::to_string(h) + " pixels, above the limit (" +
                             std::to_string(kMaxImageSide) + " a side, " + std::to_string(kMaxImagePixels >> 20) +
                             " Mpixels)");
  // Always decode to RGB: stb replicates grey, expands palettes, drops alpha.
  int dw = 0, dh = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, int(size), &dw, &dh, &n, 3),
                                                  &stbi_image_free);
  if (!pixels) throw std::runtime_error(what + "cannot decode (" + stbi_failure_reason() + ")");
  if (dw != w || dh != h) throw std::runtime_error(what + "decoded size differs from its header");
  return to_planar(pixels.get(), h, w, 3, channels);
}

PlanarImage load_image(const std::string& path, int channels) {
  const AlignedBuffer file = read_file(path, "image");
  return decode_image(file.data(), file.size(), path, channels);
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
  if (img.height < 1 || img.width < 1) throw std::runtime_error("image has no pixels");
  if (spec.height < 1 || spec.width < 1 || spec.channels < 1 || spec.channels > 4 || !(spec.crop_pct > 0))
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
