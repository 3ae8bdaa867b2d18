// Image -> model input: decoding here (stb_image, PNG and JPEG only, to
// 8-bit RGB), the transform in the runtime (vitrt_preprocess in vitrt.h:
// the model's recorded resize, crop, interpolation, mean and std, as
// timm/torchvision on float tensors), the code devices use too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

// Decoded 8-bit pixels, interleaved (HWC); channels is a VITRT_PIXELS_* format.
struct Image {
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Images are untrusted (cameras, disks): only PNG and JPEG are decoded, and
// only up to these sizes, checked from the header before decoding.
constexpr int kMaxImageSide = 16384;
constexpr int64_t kMaxImagePixels = int64_t{64} << 20;  // 64 Mpixels: 192 MiB decoded

enum class ImageFormat { Png, Jpeg, Other };
// By magic bytes; for Other, `other` (if given) gets a name stb_image would
// have known the format by ("BMP", "TIFF", ...), or "".
ImageFormat sniff_image(const uint8_t* data, size_t size, std::string* other = nullptr);

// Why stb_image must not see this JPEG, or "" when its structure is sound:
// Huffman tables of at most 256 codes, in bounds, class/id in range; every
// Huffman and quantization table a scan uses defined before it; every marker
// segment inside the file, which ends with an EOI marker.
std::string jpeg_structure_error(const uint8_t* data, size_t size);

// Decodes PNG or JPEG bytes to RGB (stb replicates grey, expands
// palettes, drops alpha); `name` labels errors. Throws for other formats,
// images above max_pixels (or kMaxImageSide a side), empty images and
// corrupt files.
Image decode_image(const uint8_t* data, size_t size, const std::string& name,
                   int64_t max_pixels = kMaxImagePixels);

// decode_image of a file's contents.
Image load_image(const std::string& path);

// vitrt_preprocess of `img` for the opened model `m`: NCHW [1, C, H, W];
// throws std::runtime_error with vitrt_last_error.
std::vector<float> preprocess(vitrt_model* m, const Image& img);

}  // namespace vitrt::tools
