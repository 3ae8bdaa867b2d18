// The host's half of preprocessing: decoding, and handing the pixels to the
// runtime's vitrt_preprocess (whose own tests are tests/runtime/
// test_preprocess.cpp; the pixel-exact comparisons with PyTorch/PIL and
// torchvision are check_samples.py and check_torchvision.py).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <stb/stb_image_write.h>

#include "aligned_buffer.h"
#include "preprocess.h"
#include "random_model.h"

namespace vt = vitrt::tools;

namespace {

// Written to the system temp directory so a run from the source tree leaves no files.
std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / ("vitrt_samples_test_" + name)).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// A PNG of `channels` (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) made by stb_image_write.
std::vector<uint8_t> png(int h, int w, int channels, const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> out;
  stbi_write_png_to_func(
      [](void* ctx, void* data, int size) {
        auto* o = static_cast<std::vector<uint8_t>*>(ctx);
        o->insert(o->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
      },
      &out, w, h, channels, pixels.data(), w * channels);
  return out;
}

// An opened random-weight model with the given preprocessing.
struct OpenModel {
  explicit OpenModel(vitrt::conv::Model model) : bytes(vitrt::conv::write_model(model)), file(bytes.size()) {
    std::memcpy(file.data(), bytes.data(), bytes.size());
    REQUIRE(vitrt_open(&m, file.data(), file.size()) == VITRT_OK);
  }
  std::vector<uint8_t> bytes;
  vt::AlignedBuffer file;
  vitrt_model m{};
};

}  // namespace

TEST_CASE("images decode to 8-bit RGB: grey repeated, alpha dropped", "[unit][preprocess]") {
  const std::vector<uint8_t> grey = {0, 7, 128, 255, 9, 200};
  const std::vector<uint8_t> g_png = png(2, 3, 1, grey);
  const vt::Image g = vt::decode_image(g_png.data(), g_png.size(), "grey.png");
  REQUIRE((g.height == 2 && g.width == 3 && g.channels == VITRT_PIXELS_RGB));
  for (int i = 0; i < 6; ++i)
    CHECK((g.pixels[3 * i] == grey[i] && g.pixels[3 * i + 1] == grey[i] && g.pixels[3 * i + 2] == grey[i]));
  const std::vector<uint8_t> rgba = {255, 128, 0, 9};
  const std::vector<uint8_t> a_png = png(1, 1, 4, rgba);
  CHECK(vt::decode_image(a_png.data(), a_png.size(), "rgba.png").pixels == std::vector<uint8_t>{255, 128, 0});
}

TEST_CASE("image loading reports unreadable files", "[unit][preprocess]") {
  CHECK_THROWS_WITH(vt::load_image("/nonexistent.png"), Catch::Contains("no such file"));
  CHECK_THROWS_WITH(vt::load_image(write_temp("empty.png", "")), Catch::Contains("empty"));
  CHECK_THROWS_WITH(vt::load_image(write_temp("junk.png", "definitely not an image")),
                    Catch::Contains("not a PNG or JPEG file"));
  // A PNG signature followed by garbage: stb's reason is in the message.
  CHECK_THROWS_WITH(vt::load_image(write_temp("bad.png", "\x89PNG\r\n\x1a\n garbage")),
                    Catch::Contains("PNG decode failed: ") && Catch::Contains("bad.png"));
}

TEST_CASE("preprocess applies the model's recorded transform", "[unit][preprocess]") {
  vitrt::conv::Model model = vitrt::test::RandomModel().make(3, 4, 8, 5);
  model.preprocess.resize = VITRT_RESIZE_STRETCH;
  model.preprocess.mean = {0.5f, 0.25f, 0.f};
  model.preprocess.std = {0.5f, 0.25f, 2.f};
  OpenModel om(model);
  const vt::Image img{4, 8, VITRT_PIXELS_RGB, std::vector<uint8_t>(4 * 8 * 3, 255)};
  const std::vector<float> x = vt::preprocess(&om.m, img);
  REQUIRE(x.size() == 3 * 4 * 8);
  CHECK(x[0] == 1.f);
  CHECK(x[32] == 3.f);
  CHECK(x[64] == 0.5f);
}

TEST_CASE("preprocess errors carry the runtime's message", "[unit][preprocess]") {
  vitrt::conv::Model model = vitrt::test::RandomModel().make(2, 4, 4, 5);  // no image makes its input
  model.preprocess.mean = {0.f, 0.f};
  model.preprocess.std = {1.f, 1.f};
  OpenModel om(model);
  const vt::Image img{4, 4, VITRT_PIXELS_RGB, std::vector<uint8_t>(4 * 4 * 3, 0)};
  CHECK_THROWS_WITH(vt::preprocess(&om.m, img), Catch::Contains("preprocessing: ") && Catch::Contains("2 channels"));
}
