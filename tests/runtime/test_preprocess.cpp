// vitrt_preprocess and vitrt_resize: the geometry (resized size, centre-crop
// offsets, padding) against vitrt_resize of the whole image plus an explicit
// crop, pixel formats, strides, normalisation, scratch and argument checks.
// Values against torchvision itself: tests/samples/check_torchvision.py.
#include <catch2/catch.hpp>

#include <stdint.h>

#include <cmath>
#include <string>
#include <vector>

#include "tiny_model.h"

using namespace vitrt::test;

namespace {

// Smallest patch dividing `side` with at most 16 patches along it.
int32_t patch_for(int32_t side) {
  for (int32_t p = 1;; ++p)
    if (side % p == 0 && side / p <= 16) return p;
}

// An opened tiny model recording the given preprocessing.
struct Opened {
  Opened(int32_t h, int32_t w, int32_t channels, int32_t resize, int32_t interp, float crop_pct,
         std::vector<float> mean = {}, std::vector<float> std = {}) {
    TinyOptions o;
    o.image_h = h, o.image_w = w, o.channels = channels;
    o.patch_h = patch_for(h), o.patch_w = patch_for(w);
    vitrt::conv::Model model = make_tiny(o, 5);
    model.preprocess.resize = resize;
    model.preprocess.interpolation = interp;
    model.preprocess.crop_pct = crop_pct;
    model.preprocess.mean = mean.empty() ? std::vector<float>(channels, 0.f) : mean;
    model.preprocess.std = std.empty() ? std::vector<float>(channels, 1.f) : std;
    file = Aligned(vitrt::conv::write_model(model));
    REQUIRE(vitrt_open(&m, file.data(), file.size()) == VITRT_OK);
    count = size_t(channels) * h * w;
  }
  // vitrt_preprocess with exactly the queried scratch; REQUIREs success.
  std::vector<float> run(const std::vector<uint8_t>& px, int32_t h, int32_t w, int32_t format, size_t stride = 0) {
    std::vector<uint8_t> scratch(vitrt_preprocess_scratch_size(&m, h, w, format));
    REQUIRE(!scratch.empty());
    std::vector<float> out(count);
    const vitrt_status s =
        vitrt_preprocess(&m, px.data(), h, w, format, stride, scratch.data(), scratch.size(), out.data(), count);
    INFO(vitrt_last_error(&m));
    REQUIRE(s == VITRT_OK);
    return out;
  }
  Aligned file{1};
  vitrt_model m;
  size_t count;
};

std::vector<uint8_t> pattern(int32_t h, int32_t w, int32_t format, uint32_t seed) {
  std::vector<uint8_t> px(size_t(h) * w * format);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 2654435761u + seed * 97u) >> 13);
  return px;
}

// vitrt_resize of the whole image to out_h x out_w, then the model-sized
// window at (top, left), zero outside: what torchvision's Resize +
// CenterCrop give, the geometry computed by the test.
std::vector<float> resized_window(const std::vector<float>& planes, int32_t c, int32_t h, int32_t w, int32_t out_h,
                                  int32_t out_w, int32_t top, int32_t left, int32_t mh, int32_t mw,
                                  int32_t interp) {
  std::vector<float> full(size_t(c) * out_h * out_w);
  std::vector<uint8_t> scratch(vitrt_resize_scratch_size(h, w, out_h, out_w, interp));
  REQUIRE(vitrt_resize(planes.data(), c, h, w, full.data(), out_h, out_w, interp, scratch.data(), scratch.size()) ==
          VITRT_OK);
  std::vector<float> win(size_t(c) * mh * mw, 0.f);
  for (int32_t k = 0; k < c; ++k)
    for (int32_t y = 0; y < mh; ++y)
      for (int32_t x = 0; x < mw; ++x) {
        const int32_t sy = y + top, sx = x + left;
        if (sy >= 0 && sy < out_h && sx >= 0 && sx < out_w)
          win[(size_t(k) * mh + y) * mw + x] = full[(size_t(k) * out_h + sy) * out_w + sx];
      }
  return win;
}

// Interleaved RGB bytes -> planar floats / 255, as the runtime reads them.
std::vector<float> planar(const std::vector<uint8_t>& px, int32_t h, int32_t w, int32_t c) {
  std::vector<float> out(px.size());
  for (size_t i = 0; i < size_t(h) * w; ++i)
    for (int32_t k = 0; k < c; ++k) out[k * size_t(h) * w + i] = px[i * c + k] / 255.0f;
  return out;
}

}  // namespace

TEST_CASE("preprocess: shorter-side resize and centre crop as timm / torchvision", "[unit][preprocess]") {
  struct Case {
    int32_t h, w, mh, mw, mode;
    float crop;
    int32_t out_h, out_w, top, left;
  };
  const int32_t crop = VITRT_RESIZE_SHORTER_SIDE_CROP, stretch = VITRT_RESIZE_STRETCH;
  const Case cases[] = {
      {30, 40, 16, 16, crop, 0.875f, 18, 24, 1, 4},   // floor(16 / 0.875) = 18, int(18 * 40 / 30) = 24
      {50, 26, 16, 16, crop, 0.875f, 34, 18, 9, 1},   // int(18 * 50 / 26) = int(34.6)
      {16, 16, 16, 16, crop, 0.8f, 20, 20, 2, 2},     // 16 / 0.8f is 19.99999976; timm's 0.8 gives 20
      {16, 16, 16, 16, crop, 0.84f, 19, 19, 2, 2},    // round(1.5) = 2
      {16, 16, 16, 16, crop, 0.76f, 21, 21, 2, 2},    // round(2.5) = 2: half to even
      {16, 16, 16, 16, crop, 0.68f, 23, 23, 4, 4},    // round(3.5) = 4
      {10, 10, 8, 16, crop, 1.f, 8, 8, 0, -4},        // non-square model: the shorter side; zero padding
      {10, 30, 8, 16, crop, 1.f, 8, 24, 0, 4},
      {30, 40, 12, 20, stretch, 0.875f, 12, 20, 0, 0},
      {7, 300, 8, 8, crop, 0.9f, 8, 342, 0, 167},     // extreme aspect: upscale one way, downscale the other
  };
  for (const Case& c : cases) {
    for (const int32_t interp : {VITRT_INTERP_BILINEAR, VITRT_INTERP_BICUBIC}) {
      INFO(c.h << "x" << c.w << " -> " << c.mh << "x" << c.mw << " crop_pct " << c.crop << " interp " << interp);
      Opened om(c.mh, c.mw, 3, c.mode, interp, c.crop);
      const std::vector<uint8_t> px = pattern(c.h, c.w, 3, 1);
      const std::vector<float> want =
          resized_window(planar(px, c.h, c.w, 3), 3, c.h, c.w, c.out_h, c.out_w, c.top, c.left, c.mh, c.mw, interp);
      CHECK(om.run(px, c.h, c.w, VITRT_PIXELS_RGB) == want);
    }
  }
}

TEST_CASE("preprocess: normalises per channel, resizing to the same size is exact", "[unit][preprocess]") {
  Opened om(3, 5, 3, VITRT_RESIZE_STRETCH, VITRT_INTERP_BICUBIC, 1.f, {0.5f, 0.25f, 0.f}, {0.5f, 0.25f, 2.f});
  const std::vector<uint8_t> px = pattern(3, 5, 3, 2);
  const std::vector<float> x = om.run(px, 3, 5, VITRT_PIXELS_RGB);
  const float mean[3] = {0.5f, 0.25f, 0.f}, std[3] = {0.5f, 0.25f, 2.f};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 15; ++i) CHECK(x[c * 15 + i] == (px[i * 3 + c] / 255.0f - mean[c]) / std[c]);
}

TEST_CASE("preprocess: gray repeats, RGBA ignores alpha, 1-channel models take PIL's L", "[unit][preprocess]") {
  const int32_t h = 4, w = 6;
  const std::vector<uint8_t> rgba = pattern(h, w, 4, 3);
  std::vector<uint8_t> rgb, gray;
  for (size_t i = 0; i < size_t(h) * w; ++i) {
    rgb.insert(rgb.end(), {rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]});
    gray.push_back(rgba[4 * i]);
  }
  Opened rgb_model(h, w, 3, VITRT_RESIZE_STRETCH, VITRT_INTERP_BILINEAR, 1.f);
  CHECK(rgb_model.run(rgba, h, w, VITRT_PIXELS_RGBA) == rgb_model.run(rgb, h, w, VITRT_PIXELS_RGB));
  const std::vector<float> g3 = rgb_model.run(gray, h, w, VITRT_PIXELS_GRAY);
  for (size_t i = 0; i < size_t(h) * w; ++i)
    for (int c = 0; c < 3; ++c) CHECK(g3[c * h * w + i] == gray[i] / 255.0f);

  Opened gray_model(h, w, 1, VITRT_RESIZE_STRETCH, VITRT_INTERP_BILINEAR, 1.f);
  const std::vector<float> l = gray_model.run(rgb, h, w, VITRT_PIXELS_RGB);
  CHECK(gray_model.run(rgba, h, w, VITRT_PIXELS_RGBA) == l);
  for (size_t i = 0; i < size_t(h) * w; ++i) {
    // PIL: L = R * 299/1000 + G * 587/1000 + B * 114/1000, to the nearest 8-bit level.
    const double exact = (299.0 * rgb[3 * i] + 587.0 * rgb[3 * i + 1] + 114.0 * rgb[3 * i + 2]) / 1000.0;
    const double got = l[i] * 255.0;
    CHECK(got == Approx(double(int64_t(got + 0.5))).margin(1e-4));
    CHECK(std::abs(got - exact) <= 0.5 + 1e-3);
  }
  const std::vector<float> g1 = gray_model.run(gray, h, w, VITRT_PIXELS_GRAY);
  for (size_t i = 0; i < size_t(h) * w; ++i) CHECK(g1[i] == gray[i] / 255.0f);
}

TEST_CASE("preprocess: rows row_stride bytes apart", "[unit][preprocess]") {
  const int32_t h = 9, w = 7;
  Opened om(8, 8, 3, VITRT_RESIZE_SHORTER_SIDE_CROP, VITRT_INTERP_BICUBIC, 0.875f);
  for (const int32_t format : {VITRT_PIXELS_GRAY, VITRT_PIXELS_RGB, VITRT_PIXELS_RGBA}) {
    const std::vector<uint8_t> packed = pattern(h, w, format, 4);
    const size_t row = size_t(w) * format, stride = row + 5;
    std::vector<uint8_t> strided((h - 1) * stride + row, 0xEE);  // padding the runtime must skip
    for (int32_t y = 0; y < h; ++y)
      std::copy(packed.begin() + y * row, packed.begin() + (y + 1) * row, strided.begin() + y * stride);
    const std::vector<float> want = om.run(packed, h, w, format);
    CHECK(om.run(packed, h, w, format, row) == want);
    CHECK(om.run(strided, h, w, format, stride) == want);
  }
}

TEST_CASE("preprocess: a constant image stays constant through any resize", "[unit][preprocess]") {
  for (const int32_t interp : {VITRT_INTERP_BILINEAR, VITRT_INTERP_BICUBIC}) {
    Opened om(12, 12, 1, VITRT_RESIZE_STRETCH, interp, 1.f);
    for (const auto& [h, w] : {std::pair<int32_t, int32_t>{1, 1}, {3, 2}, {25, 30}, {400, 3}, {12, 12}}) {
      const std::vector<uint8_t> px(size_t(h) * w, 160);
      for (const float v : om.run(px, h, w, VITRT_PIXELS_GRAY)) CHECK(v == Approx(160 / 255.f).margin(1e-6));
    }
  }
}

TEST_CASE("preprocess: scratch of any alignment, exactly the queried size", "[unit][preprocess]") {
  Opened om(16, 16, 3, VITRT_RESIZE_SHORTER_SIDE_CROP, VITRT_INTERP_BICUBIC, 0.875f);
  const int32_t h = 31, w = 45;
  const std::vector<uint8_t> px = pattern(h, w, 3, 6);
  const std::vector<float> want = om.run(px, h, w, VITRT_PIXELS_RGB);
  const size_t need = vitrt_preprocess_scratch_size(&om.m, h, w, VITRT_PIXELS_RGB);
  // The scratch does not grow with the image's area: tables and a few rows.
  CHECK(need < size_t(h) * w * 4);
  std::vector<uint8_t> buf(need + 8);
  std::vector<float> out(om.count);
  for (size_t shift = 0; shift < 8; ++shift) {
    REQUIRE(vitrt_preprocess(&om.m, px.data(), h, w, VITRT_PIXELS_RGB, 0, buf.data() + shift, need, out.data(),
                             out.size()) == VITRT_OK);
    CHECK(out == want);
  }
  CHECK(vitrt_preprocess(&om.m, px.data(), h, w, VITRT_PIXELS_RGB, 0, buf.data(), need - 1, out.data(),
                         out.size()) == VITRT_ERR_ARENA_TOO_SMALL);
  CHECK_THAT(vitrt_last_error(&om.m), Catch::Contains("scratch has " + std::to_string(need - 1) + " bytes"));
}

TEST_CASE("preprocess: argument checks", "[unit][preprocess]") {
  Opened om(8, 8, 3, VITRT_RESIZE_SHORTER_SIDE_CROP, VITRT_INTERP_BICUBIC, 0.875f);
  vitrt_model* m = &om.m;
  const std::vector<uint8_t> px(10 * 10 * 4, 1);
  std::vector<uint8_t> scratch(1 << 16);
  std::vector<float> out(om.count);
  auto call = [&](const uint8_t* p, int32_t h, int32_t w, int32_t format, size_t stride, void* s, float* o,
                  size_t count) { return vitrt_preprocess(m, p, h, w, format, stride, s, scratch.size(), o, count); };
  auto error = [&] { return std::string(vitrt_last_error(m)); };

  CHECK(call(px.data(), 10, 10, 3, 0, scratch.data(), out.data(), out.size()) == VITRT_OK);
  CHECK(call(nullptr, 10, 10, 3, 0, scratch.data(), out.data(), out.size()) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK_THAT(error(), Catch::Contains("NULL"));
  CHECK(call(px.data(), 10, 10, 3, 0, nullptr, out.data(), out.size()) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK(call(px.data(), 10, 10, 3, 0, scratch.data(), nullptr, out.size()) == VITRT_ERR_INVALID_ARGUMENT);
  for (const auto& [h, w] : {std::pair<int32_t, int32_t>{0, 10}, {10, 0}, {-1, 10}, {VITRT_MAX_PIXELS_SIDE + 1, 1}}) {
    CHECK(call(px.data(), h, w, 3, 0, scratch.data(), out.data(), out.size()) == VITRT_ERR_INVALID_ARGUMENT);
    CHECK_THAT(error(), Catch::Contains("sides must be 1..65536"));
    CHECK(vitrt_preprocess_scratch_size(m, h, w, 3) == 0);
  }
  for (const int32_t format : {0, 2, 5}) {
    CHECK(call(px.data(), 10, 10, format, 0, scratch.data(), out.data(), out.size()) == VITRT_ERR_INVALID_ARGUMENT);
    CHECK_THAT(error(), Catch::Contains("pixel format " + std::to_string(format)));
    CHECK(vitrt_preprocess_scratch_size(m, 10, 10, format) == 0);
  }
  CHECK(call(px.data(), 10, 10, 3, 29, scratch.data(), out.data(), out.size()) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK_THAT(error(), Catch::Contains("row_stride 29 is below width * format (30)"));
  // Rows so far apart that the image would wrap the address space.
  CHECK(call(px.data(), 10, 10, 3, SIZE_MAX / 4, scratch.data(), out.data(), out.size()) ==
        VITRT_ERR_INVALID_ARGUMENT);
  CHECK_THAT(error(), Catch::Contains("does not fit the address space"));
  CHECK(call(px.data(), 10, 10, 3, 0, scratch.data(), out.data(), out.size() - 1) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK_THAT(error(), Catch::Contains("out must be 192 floats (3x8x8 NCHW)"));

  // No handle, or one that is not open.
  CHECK(vitrt_preprocess(nullptr, px.data(), 10, 10, 3, 0, scratch.data(), scratch.size(), out.data(),
                         out.size()) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK(vitrt_preprocess_scratch_size(nullptr, 10, 10, 3) == 0);
  vitrt_model closed;
  CHECK(vitrt_open(&closed, px.data(), 4) != VITRT_OK);
  CHECK(vitrt_preprocess(&closed, px.data(), 10, 10, 3, 0, scratch.data(), scratch.size(), out.data(),
                         out.size()) == VITRT_ERR_STATE);
  CHECK(vitrt_preprocess_scratch_size(&closed, 10, 10, 3) == 0);
}

TEST_CASE("preprocess: models other than 1 or 3 channels are refused", "[unit][preprocess]") {
  Opened om(4, 4, 2, VITRT_RESIZE_STRETCH, VITRT_INTERP_BICUBIC, 1.f);
  const std::vector<uint8_t> px(4 * 4 * 3, 0);
  std::vector<uint8_t> scratch(1 << 12);
  std::vector<float> out(om.count);
  CHECK(vitrt_preprocess_scratch_size(&om.m, 4, 4, 3) == 0);
  CHECK(vitrt_preprocess(&om.m, px.data(), 4, 4, 3, 0, scratch.data(), scratch.size(), out.data(), out.size()) ==
        VITRT_ERR_UNSUPPORTED);
  CHECK_THAT(vitrt_last_error(&om.m), Catch::Contains("this model takes 2 channels"));
}

TEST_CASE("resize: torch's antialiased weights, identity, constants", "[unit][preprocess]") {
  // Bilinear 4 -> 2 with antialias: the triangle widens to 2 pixels, so
  // output 0 weighs inputs 0..2 as 3/7, 3/7, 1/7 and output 1 inputs 1..3 as
  // 1/7, 3/7, 3/7 (torch: [0.7143, 2.2857]).
  const float row[4] = {0, 1, 2, 3};
  float out[2];
  std::vector<uint8_t> scratch(vitrt_resize_scratch_size(1, 4, 1, 2, VITRT_INTERP_BILINEAR));
  REQUIRE(vitrt_resize(row, 1, 1, 4, out, 1, 2, VITRT_INTERP_BILINEAR, scratch.data(), scratch.size()) == VITRT_OK);
  CHECK(out[0] == Approx(5.0 / 7).epsilon(1e-6));
  CHECK(out[1] == Approx(16.0 / 7).epsilon(1e-6));

  std::vector<float> planes(2 * 9 * 13);
  for (size_t i = 0; i < planes.size(); ++i) planes[i] = float((i * 37) % 101) / 100.f;
  for (const int32_t interp : {VITRT_INTERP_BILINEAR, VITRT_INTERP_BICUBIC}) {
    std::vector<float> same(planes.size());
    scratch.resize(vitrt_resize_scratch_size(9, 13, 9, 13, interp));
    REQUIRE(vitrt_resize(planes.data(), 2, 9, 13, same.data(), 9, 13, interp, scratch.data(), scratch.size()) ==
            VITRT_OK);
    CHECK(same == planes);
    const std::vector<float> flat(7 * 11, 0.625f);
    for (const auto& [oh, ow] : {std::pair<int32_t, int32_t>{3, 2}, {25, 30}, {11, 1}}) {
      std::vector<float> r(size_t(oh) * ow);
      scratch.resize(vitrt_resize_scratch_size(7, 11, oh, ow, interp));
      REQUIRE(vitrt_resize(flat.data(), 1, 7, 11, r.data(), oh, ow, interp, scratch.data(), scratch.size()) ==
              VITRT_OK);
      for (const float v : r) CHECK(v == Approx(0.625f).margin(1e-6));
    }
  }
}

TEST_CASE("resize: argument checks", "[unit][preprocess]") {
  const float in[16] = {};
  float out[16];
  std::vector<uint8_t> scratch(1 << 12);
  const size_t n = scratch.size();
  CHECK(vitrt_resize_scratch_size(4, 4, 2, 2, 2) == 0);
  CHECK(vitrt_resize_scratch_size(0, 4, 2, 2, VITRT_INTERP_BICUBIC) == 0);
  CHECK(vitrt_resize_scratch_size(4, 4, VITRT_MAX_PIXELS_SIDE + 1, 2, VITRT_INTERP_BICUBIC) == 0);
  CHECK(vitrt_resize(in, 1, 4, 4, out, 2, 2, 2, scratch.data(), n) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK(vitrt_resize(nullptr, 1, 4, 4, out, 2, 2, VITRT_INTERP_BICUBIC, scratch.data(), n) ==
        VITRT_ERR_INVALID_ARGUMENT);
  CHECK(vitrt_resize(in, 1, 4, 4, nullptr, 2, 2, VITRT_INTERP_BICUBIC, scratch.data(), n) ==
        VITRT_ERR_INVALID_ARGUMENT);
  CHECK(vitrt_resize(in, 1, 4, 4, out, 2, 2, VITRT_INTERP_BICUBIC, nullptr, n) == VITRT_ERR_INVALID_ARGUMENT);
  CHECK(vitrt_resize(in, 0, 4, 4, out, 2, 2, VITRT_INTERP_BICUBIC, scratch.data(), n) ==
        VITRT_ERR_INVALID_ARGUMENT);
  const size_t need = vitrt_resize_scratch_size(4, 4, 2, 2, VITRT_INTERP_BICUBIC);
  CHECK(vitrt_resize(in, 1, 4, 4, out, 2, 2, VITRT_INTERP_BICUBIC, scratch.data(), need - 1) ==
        VITRT_ERR_ARENA_TOO_SMALL);
  CHECK(vitrt_resize(in, 1, 4, 4, out, 2, 2, VITRT_INTERP_BICUBIC, scratch.data(), need) == VITRT_OK);
}
