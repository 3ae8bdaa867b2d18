// Hostile inputs to the sample tools, every one generated here: image files
// stb_image 2.27 mishandles, oversized or empty images, a model asking for
// more arena than allowed, NaN/Inf inputs and logits.
#include <catch2/catch.hpp>
#include <stb/stb_image_write.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "aligned_buffer.h"
#include "preprocess.h"
#include "random_model.h"
#include "session.h"

namespace vt = vitrt::tools;
using Bytes = std::vector<uint8_t>;

namespace {

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void png_chunk(Bytes& png, const char* type, const Bytes& data) {
  put_be32(png, uint32_t(data.size()));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  put_be32(png, crc32(png.data() + start, png.size() - start));
}

// An 8-bit RGB PNG of w x h; with `pixels`, its IDAT holds them as one
// stored (uncompressed) deflate block, else the file ends after IHDR.
Bytes png(uint32_t w, uint32_t h, bool pixels) {
  Bytes out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Bytes ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  png_chunk(out, "IHDR", ihdr);
  if (!pixels) return out;
  Bytes raw;
  for (uint32_t y = 0; y < h; ++y) {
    raw.push_back(0);  // filter: none
    for (uint32_t x = 0; x < w * 3; ++x) raw.push_back(uint8_t(40 * y + x));
  }
  Bytes z{0x78, 0x01, 0x01, uint8_t(raw.size()), uint8_t(raw.size() >> 8), uint8_t(~raw.size()),
          uint8_t(~raw.size() >> 8)};
  z.insert(z.end(), raw.begin(), raw.end());
  uint32_t a = 1, b = 0;  // adler32
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  put_be32(z, b << 16 | a);
  png_chunk(out, "IDAT", z);
  png_chunk(out, "IEND", {});
  return out;
}

// stb_image_write's deflate (defined in vitrt_host, not declared in its header).
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len, int quality);

// An 8-bit RGB PNG of w x h whose IDAT inflates to `inflated` zero bytes.
Bytes png_inflating_to(uint32_t w, uint32_t h, size_t inflated) {
  Bytes out = png(w, h, false);
  Bytes zeros(inflated, 0);
  int n = 0;
  unsigned char* z = stbi_zlib_compress(zeros.data(), int(zeros.size()), &n, 8);
  png_chunk(out, "IDAT", Bytes(z, z + n));
  std::free(z);
  png_chunk(out, "IEND", {});
  return out;
}

// A DHT segment of one table (class_id: class << 4 | id) with `codes` codes.
Bytes dht(int codes, uint8_t class_id = 0x00) {
  Bytes counts(16, 0);
  for (int k = 0; k < codes; ++k) ++counts[size_t(k % 16)];
  const size_t len = 2 + 1 + 16 + size_t(codes);
  Bytes s{0xFF, 0xC4, uint8_t(len >> 8), uint8_t(len), class_id};
  for (uint8_t c : counts) s.push_back(c);
  s.resize(s.size() + size_t(codes), 0x01);
  return s;
}

// A DQT segment defining 8-bit quantization table 0.
Bytes dqt0() {
  Bytes s{0xFF, 0xDB, 0, 67, 0x00};
  s.resize(s.size() + 64, 1);
  return s;
}

// SOI, SOF0 (baseline, 3 components) of w x h, then `rest`, then EOI.
Bytes jpeg(uint16_t w, uint16_t h, const Bytes& rest) {
  Bytes j{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, uint8_t(h >> 8), uint8_t(h), uint8_t(w >> 8), uint8_t(w), 3};
  for (uint8_t c = 1; c <= 3; ++c) j.insert(j.end(), {c, 0x11, 0});
  j.insert(j.end(), rest.begin(), rest.end());
  j.insert(j.end(), {0xFF, 0xD9});
  return j;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string decode_error(const Bytes& b) {
  try {
    vt::decode_image(b.data(), b.size(), "x");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

vt::AlignedBuffer model_file(const vitrt::conv::Model& m) {
  const Bytes bytes = vitrt::conv::write_model(m);
  vt::AlignedBuffer buf(bytes.size());
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  return buf;
}

}  // namespace

TEST_CASE("a valid PNG decodes; the file gate passes it", "[unit][hostile]") {
  const vt::Image img = vt::decode_image(png(5, 3, true).data(), png(5, 3, true).size(), "ok.png");
  REQUIRE(img.height == 3);
  REQUIRE(img.width == 5);
  REQUIRE(img.pixels[0] == 0);
  REQUIRE(img.pixels[3] == 3);  // red of pixel (0, 1)
}

TEST_CASE("only PNG and JPEG are decoded, other formats named", "[unit][hostile]") {
  // Truncated headers declaring 20000 x 20000 pixels: stb 2.27 "decodes"
  // several of them into uninitialised gigabytes; a 16-bit PGM is read past
  // its buffer.
  Bytes tga(18, 0);
  tga[2] = 2;  // uncompressed true colour
  tga[12] = 0x20, tga[13] = 0x4E, tga[14] = 0x20, tga[15] = 0x4E, tga[16] = 24;
  Bytes bmp = text("BM");
  bmp.resize(54, 0);
  bmp[14] = 40, bmp[18] = 0x20, bmp[19] = 0x4E, bmp[22] = 0x20, bmp[23] = 0x4E, bmp[26] = 1, bmp[28] = 24;
  Bytes psd = text("8BPS");
  psd.resize(26, 0);
  psd[5] = 1, psd[13] = 3, psd[16] = 0x4E, psd[17] = 0x20, psd[20] = 0x4E, psd[21] = 0x20, psd[23] = 8, psd[25] = 3;
  const struct {
    Bytes file;
    const char* says;
  } cases[] = {
      {text("P5\n2 2\n65535\n\x01"), "PNM (PBM/PGM/PPM) is not supported, only PNG and JPEG"},
      {text("P6\n20000 20000\n255\n"), "PNM (PBM/PGM/PPM) is not supported"},
      {bmp, "BMP is not supported"},
      {psd, "PSD is not supported"},
      {text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 20000 +X 20000\n"), "HDR is not supported"},
      {text("GIF89a\x20\x4E\x20\x4E"), "GIF is not supported"},
      {tga, "not a PNG or JPEG file"},
      {{}, "not a PNG or JPEG file"},
  };
  for (const auto& c : cases) {
    INFO(std::string(c.file.begin(), c.file.end()));
    REQUIRE_THAT(decode_error(c.file), Catch::Contains(c.says) && Catch::StartsWith("image 'x': "));
  }
}

TEST_CASE("stb's allocations are capped by the header's pixels: no decompression bomb, no chunk past the file",
          "[unit][hostile]") {
  // The pixels' own bytes decode.
  const Bytes exact = png_inflating_to(16, 16, 16 * (1 + 16 * 3));
  REQUIRE(vt::decode_image(exact.data(), exact.size(), "x").width == 16);
  // 8 MB of zeros for 16 x 16 pixels: stb's zlib output would grow to 8 MB.
  const Bytes bomb = png_inflating_to(16, 16, size_t(8) << 20);
  REQUIRE(bomb.size() < 100000);
  REQUIRE_THAT(decode_error(bomb), Catch::Contains("PNG decode failed: it needs more memory than its 16x16 pixels can"));
  // An IDAT chunk claiming 2 GB in a file of 100 bytes: stb allocates the
  // length before reading it.
  Bytes cut = png(16, 16, false);
  put_be32(cut, 0x7FFFFFF0u);
  cut.insert(cut.end(), {'I', 'D', 'A', 'T', 0x78, 0x01});
  REQUIRE_THAT(decode_error(cut), Catch::Contains("PNG decode failed: it needs more memory"));
}

TEST_CASE("image size is capped from the header, before decoding; empty images are refused", "[unit][hostile]") {
  // (stb itself refuses PNGs over 2^30 bytes of pixels, vaguely.)
  REQUIRE_THAT(decode_error(png(20000, 16000, false)), Catch::Contains("20000x16000 pixels, above the limit"));
  REQUIRE_THAT(decode_error(png(16384, 8192, false)), Catch::Contains("above the limit (16384 a side, 64 Mpixels)"));
  REQUIRE_THAT(decode_error(png(20000, 1, false)), Catch::Contains("above the limit"));
  REQUIRE_THAT(decode_error(jpeg(20000, 20000, {})), Catch::Contains("20000x20000 pixels, above the limit"));
  // A caller's lower cap (the fuzzer's) goes through the same check.
  const Bytes big = png(4096, 4096, false);
  REQUIRE_THROWS_WITH(vt::decode_image(big.data(), big.size(), "x", int64_t{8} << 20),
                      Catch::Contains("4096x4096 pixels, above the limit (16384 a side, 8 Mpixels)"));
  REQUIRE_FALSE(decode_error(png(0, 0, false)).empty());
  REQUIRE_FALSE(decode_error(png(4, 0, false)).empty());
  REQUIRE_FALSE(decode_error(png(5, 3, false)).empty());  // IHDR only: no pixel data
  // A direct caller's empty image never reaches the resampler.
  vt::Session s(model_file(vitrt::test::RandomModel().make(3, 8, 8, 5)), "m", 1, std::size_t(1) << 30);
  const vt::Image empty{0, 0, VITRT_PIXELS_RGB, {}};
  REQUIRE_THROWS_WITH(s.preprocess(empty), Catch::Contains("image is 0x0 pixels"));
}

TEST_CASE("JPEG Huffman tables over 256 codes never reach stb", "[unit][hostile]") {
  REQUIRE(vt::jpeg_structure_error(jpeg(8, 8, dht(256)).data(), jpeg(8, 8, dht(256)).size()).empty());
  const Bytes bad = jpeg(8, 8, dht(300));
  REQUIRE(vt::jpeg_structure_error(bad.data(), bad.size()) == "Huffman table with 300 codes (at most 256)");
  REQUIRE(decode_error(bad) == "image 'x': corrupt JPEG (Huffman table with 300 codes (at most 256))");
  // After a scan (progressive files define tables between scans): entropy
  // data with a stuffed 0xFF and a restart marker before the bad table.
  Bytes scan = dqt0();
  for (const Bytes& t : {dht(10, 0x00), dht(10, 0x10)}) scan.insert(scan.end(), t.begin(), t.end());
  scan.insert(scan.end(), {0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56});
  const Bytes bad_dht = dht(416);
  scan.insert(scan.end(), bad_dht.begin(), bad_dht.end());
  const Bytes late = jpeg(8, 8, scan);
  REQUIRE_THAT(vt::jpeg_structure_error(late.data(), late.size()), Catch::Contains("codes (at most 256)"));
  // A table running past its segment, and a bad class.
  Bytes cut = dht(10);
  cut[3] = 10;
  const Bytes cut_jpeg = jpeg(8, 8, cut);
  REQUIRE(vt::jpeg_structure_error(cut_jpeg.data(), cut_jpeg.size()) == "truncated Huffman table");
  Bytes cls = dht(10);
  cls[4] = 0x20;
  const Bytes cls_jpeg = jpeg(8, 8, cls);
  REQUIRE(vt::jpeg_structure_error(cls_jpeg.data(), cls_jpeg.size()) == "Huffman table class/id out of range");
}

TEST_CASE("a JPEG scan must not use tables that were never defined", "[unit][hostile]") {
  // stb would read its uninitialised Huffman / quantization tables (garbage
  // pixels, or a negative bit count: UB found by fuzz_image).
  auto with = [](std::initializer_list<Bytes> parts) {
    Bytes rest;
    for (const Bytes& b : parts) rest.insert(rest.end(), b.begin(), b.end());
    return jpeg(8, 8, rest);
  };
  const Bytes scan{0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0, 0x12};  // component 1, DC0 / AC0
  const Bytes ok = with({dqt0(), dht(10, 0x00), dht(10, 0x10), scan});
  REQUIRE(vt::jpeg_structure_error(ok.data(), ok.size()).empty());
  const Bytes no_ac = with({dqt0(), dht(10, 0x00), scan});
  REQUIRE(vt::jpeg_structure_error(no_ac.data(), no_ac.size()) == "scan uses a Huffman table that is not defined");
  const Bytes no_quant = with({dht(10, 0x00), dht(10, 0x10), scan});
  REQUIRE(vt::jpeg_structure_error(no_quant.data(), no_quant.size()) ==
          "quantization table 0 used before it is defined");
  const Bytes other = with({dqt0(), dht(10, 0x00), dht(10, 0x10), Bytes{0xFF, 0xDA, 0, 8, 1, 9, 0x00, 0, 63, 0}});
  REQUIRE(vt::jpeg_structure_error(other.data(), other.size()) == "scan names a component the frame lacks");
  const Bytes early{0xFF, 0xD8, 0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0, 0xFF, 0xD9};
  REQUIRE(vt::jpeg_structure_error(early.data(), early.size()) == "scan before the frame header");
  REQUIRE_THAT(decode_error(no_ac), Catch::Contains("corrupt JPEG (scan uses a Huffman table"));
}

TEST_CASE("a truncated JPEG is an error, not an image with a grey part", "[unit][hostile]") {
  // A real baseline JPEG (stb_image_write) of a 32x24 gradient.
  std::vector<uint8_t> px(32 * 24 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 7);
  Bytes full;
  stbi_write_jpg_to_func(
      [](void* ctx, void* data, int size) {
        auto* out = static_cast<Bytes*>(ctx);
        out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
      },
      &full, 32, 24, 3, px.data(), 90);
  REQUIRE(full.size() > 200);
  REQUIRE(decode_error(full).empty());
  for (size_t keep : {full.size() - 2, full.size() - 40, full.size() / 2, size_t(30)}) {
    INFO("first " << keep << " of " << full.size() << " bytes");
    const Bytes cut(full.begin(), full.begin() + std::ptrdiff_t(keep));
    REQUIRE(decode_error(cut) == "image 'x': corrupt JPEG (truncated: no end-of-image marker)");
  }
  // Bytes after EOI are not truncation.
  Bytes trailing = full;
  trailing.insert(trailing.end(), {0, 0, 0});
  REQUIRE(decode_error(trailing).empty());
}

TEST_CASE("a model needing more arena than allowed is refused", "[unit][hostile]") {
  const vitrt::conv::Model m = vitrt::test::RandomModel().make(3, 8, 8, 5);
  {
    vt::Session ok(model_file(m), "m", 1, std::size_t(1) << 30);
    REQUIRE(ok.arena_bytes() > 0);
  }
  REQUIRE_THROWS_WITH(vt::Session(model_file(m), "m", 1, 64),
                      Catch::StartsWith("model 'm' needs a") && Catch::Contains("MiB arena, above the limit"));
}

TEST_CASE("NaN or Inf in the input or the logits is an error", "[unit][hostile]") {
  vitrt::conv::Model m = vitrt::test::RandomModel().make(3, 8, 8, 5);
  {
    vt::Session s(model_file(m), "m", 1, std::size_t(1) << 30);
    std::vector<float> x(s.input_count(), 0.25f);
    REQUIRE(s.run(x.data()) != nullptr);
    x[7] = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_WITH(s.run(x.data()), "input value 7 is NaN or infinite");
    x[7] = -std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(s.run(x.data()), "input value 7 is NaN or infinite");
  }
  // Finite weights whose product overflows: every feature 1e30 after the
  // final norm, head weights 1e30.
  std::fill(m.norm.weight.data.begin(), m.norm.weight.data.end(), 0.f);
  std::fill(m.norm.bias.data.begin(), m.norm.bias.data.end(), 1e30f);
  std::fill(m.head.weight.data.begin(), m.head.weight.data.end(), 1e30f);
  vt::Session s(model_file(m), "m", 1, std::size_t(1) << 30);
  const std::vector<float> x(s.input_count(), 0.25f);
  REQUIRE_THROWS_WITH(s.run(x.data()), "inference produced a NaN or infinite logit (class 0)");
}
