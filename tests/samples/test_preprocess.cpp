// Properties of the preprocessing that need no reference; the pixel-exact
// comparison with PyTorch/PIL is check_samples.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "preprocess.h"

namespace vt = vitrt::tools;

namespace {

vt::PlanarImage ramp(int h, int w, int c) {
  vt::PlanarImage img{h, w, c, std::vector<float>(std::size_t(h) * w * c)};
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = float((i * 37) % 101) / 100.f;
  return img;
}

// Written to the system temp directory so a run from the source tree leaves no files.
std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / ("vitrt_samples_test_" + name)).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

}  // namespace

TEST_CASE("resizing to the same size is the identity", "[unit][preprocess]") {
  const vt::PlanarImage img = ramp(9, 13, 3);
  for (auto interp : {vt::Interpolation::Bilinear, vt::Interpolation::Bicubic})
    CHECK(vt::resize_window(img, 9, 13, interp, 0, 0, 9, 13).data == img.data);
}

TEST_CASE("resampling keeps a constant image constant", "[unit][preprocess]") {
  vt::PlanarImage img{11, 7, 1, std::vector<float>(77, 0.625f)};
  for (auto interp : {vt::Interpolation::Bilinear, vt::Interpolation::Bicubic}) {
    for (auto [oh, ow] : {std::pair{3, 2}, {25, 30}, {11, 1}}) {
      const vt::PlanarImage out = vt::resize_window(img, oh, ow, interp, 0, 0, oh, ow);
      for (float v : out.data) CHECK(v == Approx(0.625f).margin(1e-6));
    }
  }
}

TEST_CASE("window pixels outside the resized image are zero", "[unit][preprocess]") {
  vt::PlanarImage img{4, 4, 1, std::vector<float>(16, 1.f)};
  const vt::PlanarImage out = vt::resize_window(img, 4, 4, vt::Interpolation::Bilinear, -1, 0, 6, 4);
  for (int x = 0; x < 4; ++x) {
    CHECK(out.data[x] == 0.f);            // row -1
    CHECK(out.data[4 + x] == 1.f);        // row 0
    CHECK(out.data[5 * 4 + x] == 0.f);    // row 4
  }
}

TEST_CASE("centre crop offsets follow torchvision (round half to even, pad)", "[unit][preprocess]") {
  CHECK(vt::centre_crop_offset(224, 224) == 0);
  CHECK(vt::centre_crop_offset(256, 224) == 16);
  CHECK(vt::centre_crop_offset(225, 224) == 0);   // round(0.5) = 0
  CHECK(vt::centre_crop_offset(227, 224) == 2);   // round(1.5) = 2
  CHECK(vt::centre_crop_offset(229, 224) == 2);   // round(2.5) = 2
  CHECK(vt::centre_crop_offset(231, 224) == 4);   // round(3.5) = 4
  CHECK(vt::centre_crop_offset(220, 224) == -2);
  CHECK(vt::centre_crop_offset(221, 224) == -1);  // pads (224 - 221) // 2 = 1 before
}

TEST_CASE("shorter side scales to floor(size / crop_pct)", "[unit][preprocess]") {
  vitrt_info info{};
  info.image_h = info.image_w = 224;
  info.channels = 3;
  info.crop_pct = 0.875f;
  int h = 0, w = 0;
  vt::shorter_side_size(vt::spec_from_info(info), 300, 400, h, w);
  CHECK(h == 256);
  CHECK(w == 341);  // int(256 * 400 / 300)
  vt::shorter_side_size(vt::spec_from_info(info), 500, 260, h, w);
  CHECK(w == 256);
  CHECK(h == 492);  // int(256 * 500 / 260) = int(492.3)
  // 224 / 0.8f is 279.99999; timm sees 0.8 and gets 280.
  info.crop_pct = 0.8f;
  vt::shorter_side_size(vt::spec_from_info(info), 224, 224, h, w);
  CHECK(h == 280);
  // Non-square model: the shorter model side sets the scale.
  info.image_w = 448;
  info.crop_pct = 1.0f;
  vt::shorter_side_size(vt::spec_from_info(info), 100, 100, h, w);
  CHECK((h == 224 && w == 224));
}

TEST_CASE("grayscale is PIL's 8-bit luma", "[unit][preprocess]") {
  const uint8_t rgb[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 255, 255, 255, 7, 7, 7};
  const vt::PlanarImage g = vt::to_planar(rgb, 1, 6, 3, 1);
  for (int i = 0; i < 6; ++i) {
    const double exact = (299.0 * rgb[3 * i] + 587.0 * rgb[3 * i + 1] + 114.0 * rgb[3 * i + 2]) / 1000.0;
    const double got = g.data[i] * 255.0;
    CHECK(got == Approx(std::round(got)).margin(1e-4));  // an 8-bit level
    CHECK(std::abs(got - exact) <= 0.5 + 1e-3);          // the nearest one
  }
  CHECK(g.data[5] * 255.f == Approx(7.f));
}

TEST_CASE("RGBA pixels drop alpha", "[unit][preprocess]") {
  const uint8_t rgba[] = {255, 128, 0, 9};
  const vt::PlanarImage img = vt::to_planar(rgba, 1, 1, 4, 3);
  CHECK(img.data == std::vector<float>{1.f, 128 / 255.f, 0.f});
}

TEST_CASE("image loading reports unreadable files", "[unit][preprocess]") {
  CHECK_THROWS_WITH(vt::load_image("/nonexistent.png", 3), Catch::Contains("no such file"));
  CHECK_THROWS_WITH(vt::load_image(write_temp("empty.png", ""), 3), Catch::Contains("empty"));
  CHECK_THROWS_WITH(vt::load_image(write_temp("junk.png", "definitely not an image"), 3),
                    Catch::Contains("not a PNG or JPEG file"));
  // A PNG signature followed by garbage: stb's reason is in the message.
  CHECK_THROWS_WITH(vt::load_image(write_temp("bad.png", "\x89PNG\r\n\x1a\n garbage"), 3),
                    Catch::Contains("cannot decode (") && Catch::Contains("bad.png"));
  const uint8_t px[3] = {1, 2, 3};
  CHECK_THROWS_WITH(vt::to_planar(px, 1, 1, 3, 4), Catch::Contains("4 channels"));
}

TEST_CASE("preprocess normalises per channel", "[unit][preprocess]") {
  vt::PreprocessSpec spec;
  spec.height = 2;
  spec.width = 3;
  spec.channels = 3;
  spec.resize = vt::ResizeMode::Stretch;
  spec.mean[0] = 0.5f, spec.mean[1] = 0.25f, spec.mean[2] = 0.f;
  spec.std[0] = 0.5f, spec.std[1] = 0.25f, spec.std[2] = 2.f;
  const vt::PlanarImage img{2, 3, 3, std::vector<float>(18, 1.f)};
  const std::vector<float> x = vt::preprocess(img, spec);
  REQUIRE(x.size() == 18);
  CHECK(x[0] == 1.f);
  CHECK(x[6] == 3.f);
  CHECK(x[12] == 0.5f);
}
