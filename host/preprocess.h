// Image -> model input, matching the timm/torchvision evaluation transform
// on float images:
//   decode (stb_image, PNG and JPEG only) -> RGB, or PIL-style 'L' for 1-channel models
//   -> float / 255
//   -> resize = F.interpolate(mode, align_corners=False, antialias=True)
//   -> centre crop (ShorterSideCrop) -> (x - mean) / std, NCHW.
// ShorterSideCrop scales the image's shorter side to floor(S / crop_pct)
// with S = min(model height, model width) (timm's img_size for square
// models), then crops the model size, zero-padding like torchvision if the
// crop is wider than the resized image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resample.h"
#include "vitrt/vitrt.h"

namespace vitrt::tools {

enum class ResizeMode { ShorterSideCrop = 0, Stretch = 1 };   // schema ResizeMode
using resample::Interpolation;                                // schema Interpolation

struct PreprocessSpec {
  int height = 0, width = 0, channels = 3;
  ResizeMode resize = ResizeMode::ShorterSideCrop;
  Interpolation interpolation = Interpolation::Bicubic;
  double crop_pct = 0.875;
  float mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
};

PreprocessSpec spec_from_info(const vitrt_info& info);

// Planar float image, values in [0, 1].
struct PlanarImage {
  int height = 0, width = 0, channels = 0;
  std::vector<float> data;  // [channels][height][width]
};

// Decoded interleaved 8-bit pixels -> planar [0, 1] floats with `channels`
// (3: RGB, alpha dropped; 1: PIL's 'L' luma). `src_channels` is 3 or 4.
PlanarImage to_planar(const uint8_t* pixels, int height, int width, int src_channels, int channels);

// Images are untrusted (cameras, disks): only PNG and JPEG are decoded, and
// only up to these sizes, checked from the header before decoding.
constexpr int kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t{64} << 20;  // 64 Mpixels: 768 MiB as planar RGB floats

enum class ImageFormat { Png, Jpeg, Other };
// By magic bytes; for Other, `other` (if given) gets a name stb_image would
// have known the format by ("BMP", "TIFF", ...), or "".
ImageFormat sniff_image(const uint8_t* data, size_t size, std::string* other = nullptr);

// Why stb_image must not see this JPEG, or "" when its structure is sound:
// Huffman tables of at most 256 codes, in bounds, class/id in range; every
// marker segment inside the file, which ends with an EOI marker.
std::string jpeg_structure_error(const uint8_t* data, size_t size);

// Decodes PNG or JPEG bytes to `channels`; `name` labels errors. Throws for
// other formats, oversized or empty images and corrupt files.
PlanarImage decode_image(const uint8_t* data, size_t size, const std::string& name, int channels);

// decode_image of a file's contents.
PlanarImage load_image(const std::string& path, int channels);

// Antialiased resampling (resample.h) of `img` to a virtual `out_h` x `out_w`
// image, returning only the window starting at (top, left) of size
// crop_h x crop_w; window pixels outside the resized image are 0 (like
// torchvision's CenterCrop padding).
PlanarImage resize_window(const PlanarImage& img, int out_h, int out_w, Interpolation interpolation,
                          int top, int left, int crop_h, int crop_w);

// torchvision CenterCrop offset of a `crop` window in `size` pixels
// (negative: the window is larger and gets zero padding).
int centre_crop_offset(int size, int crop);

// Resized size of ShorterSideCrop (torchvision Resize(int) semantics).
void shorter_side_size(const PreprocessSpec& spec, int in_h, int in_w, int& out_h, int& out_w);

// The full transform; returns NCHW [1, channels, height, width].
std::vector<float> preprocess(const PlanarImage& img, const PreprocessSpec& spec);

}  // namespace vitrt::tools
