#include "preprocess.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include <stb/stb_image.h>

#include "aligned_buffer.h"
#include "stb_limits.h"

namespace vitrt::tools {
namespace {

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

namespace {

// What the walk has seen defined so far: Huffman tables (DC, AC), quantization
// tables, and the frame's components (id -> quantization table).
struct JpegTables {
  bool dc[4] = {}, ac[4] = {}, quant[4] = {};
  bool frame = false, progressive = false;
  int components = 0;
  uint8_t id[4] = {}, tq[4] = {};

  std::string dht(const uint8_t* p, size_t t, size_t end) {
    while (t < end) {
      if (end - t < 17) return "truncated Huffman table";
      const int cls = p[t] >> 4, tid = p[t] & 15;
      size_t codes = 0;
      for (int k = 1; k <= 16; ++k) codes += p[t + k];
      if (cls > 1 || tid > 3) return "Huffman table class/id out of range";
      if (codes > 256) return "Huffman table with " + std::to_string(codes) + " codes (at most 256)";
      if (end - t - 17 < codes) return "truncated Huffman table";
      (cls ? ac : dc)[tid] = true;
      t += 17 + codes;
    }
    return "";
  }
  std::string dqt(const uint8_t* p, size_t t, size_t end) {
    while (t < end) {
      const int precision = p[t] >> 4, tid = p[t] & 15;
      if (precision > 1 || tid > 3) return "quantization table precision/id out of range";
      const size_t size = 1 + 64 * size_t(precision + 1);
      if (end - t < size) return "truncated quantization table";
      quant[tid] = true;
      t += size;
    }
    return "";
  }
  std::string sof(const uint8_t* p, size_t i, size_t len, uint8_t marker) {
    if (len < 8) return "truncated frame header";
    const int n = p[i + 9];
    if (n < 1 || n > 4) return "frame with " + std::to_string(n) + " components";
    if (len < 8 + 3 * size_t(n)) return "truncated frame header";
    frame = true;
    progressive = marker == 0xC2;
    components = n;
    for (int c = 0; c < n; ++c) {
      id[c] = p[i + 10 + 3 * c];
      tq[c] = p[i + 12 + 3 * c];
      if (tq[c] > 3) return "quantization table id out of range";
    }
    return "";
  }
  // Every table a scan will use must be defined before it: stb_image would
  // read its uninitialised tables otherwise (garbage pixels, and bit counts
  // that go negative in its Huffman decoder).
  std::string sos(const uint8_t* p, size_t i, size_t len) const {
    if (!frame) return "scan before the frame header";
    if (len < 6) return "truncated scan header";
    const int n = p[i + 4];
    if (n < 1 || n > 4 || len < 6 + 2 * size_t(n)) return "bad scan header";
    const size_t after = i + 5 + 2 * size_t(n);
    const int ss = p[after], ah = p[after + 2] >> 4;
    for (int s = 0; s < n; ++s) {
      const uint8_t cid = p[i + 5 + 2 * s], td = p[i + 6 + 2 * s] >> 4, ta = p[i + 6 + 2 * s] & 15;
      int c = 0;
      while (c < components && id[c] != cid) ++c;
      if (c == components) return "scan names a component the frame lacks";
      if (!quant[tq[c]]) return "quantization table " + std::to_string(tq[c]) + " used before it is defined";
      const bool uses_dc = !progressive || (ss == 0 && ah == 0), uses_ac = !progressive || ss > 0;
      if ((uses_dc && (td > 3 || !dc[td])) || (uses_ac && (ta > 3 || !ac[ta])))
        return "scan uses a Huffman table that is not defined";
    }
    return "";
  }
};

}  // namespace

// stb_image 2.27 trusts a DHT segment's 16 code counts: a sum above 256
// overruns its 256-entry Huffman tables. So walk every marker segment as stb
// does (by its length; scans up to the next marker, as progressive files put
// DHT between scans) and check each table before stb sees it. The walk also
// finds truncated files, which stb decodes "successfully" with the missing
// part grey: like PIL, a file that ends before its EOI marker is an error.
std::string jpeg_structure_error(const uint8_t* p, size_t n) {
  static const char* const kTruncated = "truncated: no end-of-image marker";
  JpegTables tables;
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
    std::string bad;
    if (m == 0xC4) bad = tables.dht(p, i + 4, i + 2 + len);
    else if (m == 0xDB) bad = tables.dqt(p, i + 4, i + 2 + len);
    else if (m >= 0xC0 && m <= 0xC2) bad = tables.sof(p, i, len, m);
    else if (m == 0xDA) bad = tables.sos(p, i, len);
    if (!bad.empty()) return bad;
    i += 2 + len;
  }
  return kTruncated;
}

Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
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
  // stb's reasons ("bad IHDR len") do not say which decoder gave up.
  const std::string failed = what + (format == ImageFormat::Png ? "PNG" : "JPEG") + " decode failed: ";
  // The header's size, before stb allocates for it: a few bytes may declare
  // gigapixels.
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(data, int(size), &w, &h, &n)) throw std::runtime_error(failed + stbi_failure_reason());
  if (w < 1 || h < 1) throw std::runtime_error(what + "has no pixels");
  if (w > kMaxImageSide || h > kMaxImageSide || int64_t(w) * h > max_pixels)
    throw std::runtime_error(what + std::to_string(w) + "x" + std::to_string(h) + " pixels, above the limit (" +
                             std::to_string(kMaxImageSide) + " a side, " + std::to_string(max_pixels >> 20) +
                             " Mpixels)");
  // No stb buffer beyond twice what these pixels can need (4 channels of 16
  // bits and PNG's filter bytes) plus twice the file.
  const size_t sample = stbi_is_16_bit_from_memory(data, int(size)) ? 2 : 1;
  const size_t raw = size_t(h) * (1 + size_t(w) * 4 * sample);
  const StbAllocationLimit limit(2 * raw + 2 * size + (size_t{1} << 20));
  // Always decode to RGB: stb replicates grey, expands palettes, drops alpha.
  int dw = 0, dh = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, int(size), &dw, &dh, &n, 3),
                                                  &stbi_image_free);
  if (!pixels && limit.refused())
    throw std::runtime_error(failed + "it needs more memory than its " + std::to_string(w) + "x" + std::to_string(h) +
                             " pixels can (a chunk longer than the file, or a decompression bomb)");
  if (!pixels) throw std::runtime_error(failed + stbi_failure_reason());
  if (dw != w || dh != h) throw std::runtime_error(what + "decoded size differs from its header");
  return {h, w, VITRT_PIXELS_RGB, std::vector<uint8_t>(pixels.get(), pixels.get() + size_t(h) * w * 3)};
}

Image load_image(const std::string& path) {
  const AlignedBuffer file = read_file(path, "image");
  return decode_image(file.data(), file.size(), path);
}

std::vector<float> preprocess(vitrt_model* m, const Image& img) {
  vitrt_info info;
  if (vitrt_get_info(m, &info) != VITRT_OK) throw std::logic_error("preprocess: model not open");
  // Size 0 (invalid arguments): vitrt_preprocess then says which.
  const size_t need = vitrt_preprocess_scratch_size(m, img.height, img.width, img.channels);
  std::vector<uint8_t> scratch(std::max<size_t>(need, 1));
  std::vector<float> x(size_t(info.channels) * info.image_h * info.image_w);
  const vitrt_status status = vitrt_preprocess(m, img.pixels.data(), img.height, img.width, img.channels, 0,
                                               scratch.data(), scratch.size(), x.data(), x.size());
  if (status != VITRT_OK)
    throw std::runtime_error(std::string("preprocessing: ") + vitrt_last_error(m));
  return x;
}

}  // namespace vitrt::tools
