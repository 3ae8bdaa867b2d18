// vitrt-run --attention-map: the patch map from recorded attention, against
// maps worked out by hand (last block) and by explicit matrix products
// (rollout), and the PNG it writes.
#include <catch2/catch.hpp>

#include <stb/stb_image.h>

#include <cstdio>
#include <string>
#include <vector>

#include "attention_map.h"

namespace vt = vitrt::tools;

namespace {

using Matrix = std::vector<std::vector<double>>;

// Feeds `heads` [t, t] matrices of one block to the recorder, as the runtime would.
void feed(vt::AttentionRecorder& r, int block, int prefix, const std::vector<Matrix>& heads) {
  const int t = int(heads[0].size());
  for (size_t h = 0; h < heads.size(); ++h) {
    std::vector<float> probs;
    for (const auto& row : heads[h]) probs.insert(probs.end(), row.begin(), row.end());
    const vitrt_attention_event e{block, int(h), int(heads.size()), t, prefix, probs.data()};
    vt::AttentionRecorder::record(&r, &e);
  }
}

Matrix mul(const Matrix& a, const Matrix& b) {
  Matrix c(a.size(), std::vector<double>(b[0].size(), 0.0));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < b.size(); ++k)
      for (size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}

}  // namespace

TEST_CASE("attention map: class token row of the last block, heads averaged", "[unit]") {
  // cls + 2x2 patches; head 0 looks at patch 0, head 1 at patch 3 and cls.
  const Matrix h0 = {{0.2, 0.8, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}};
  const Matrix h1 = {{0.5, 0, 0, 0, 0.5}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}};
  vt::AttentionRecorder r;
  feed(r, 0, 1, {h1, h1});  // an earlier block: ignored by the last-block map
  feed(r, 1, 1, {h0, h1});
  const std::vector<float> map = r.patch_map(vt::AttentionMode::LastBlock, 2, 2);
  // Head mean of row 0 over the patches: 0.4, 0, 0, 0.25 -> normalised.
  REQUIRE(map.size() == 4);
  CHECK(map[0] == Approx(0.4 / 0.65));
  CHECK(map[1] == Approx(0.0).margin(1e-7));
  CHECK(map[2] == Approx(0.0).margin(1e-7));
  CHECK(map[3] == Approx(0.25 / 0.65));
  CHECK_THROWS_WITH(r.patch_map(vt::AttentionMode::LastBlock, 3, 2), Catch::Contains("patch grid"));
  CHECK_THROWS_WITH(vt::AttentionRecorder().patch_map(vt::AttentionMode::Rollout, 2, 2),
                    Catch::Contains("no attention"));
}

TEST_CASE("attention map: rollout multiplies 0.5 A + 0.5 I through the blocks", "[unit]") {
  // No class token (mean pooling): the query is the mean of all tokens.
  const Matrix a = {{0.1, 0.2, 0.3, 0.4}, {0.25, 0.25, 0.25, 0.25}, {0.7, 0.1, 0.1, 0.1}, {0, 0, 0.5, 0.5}};
  const Matrix b = {{0.4, 0.3, 0.2, 0.1}, {0, 1, 0, 0}, {0.1, 0.1, 0.1, 0.7}, {0.3, 0.3, 0.2, 0.2}};
  vt::AttentionRecorder r;
  feed(r, 0, 0, {a});
  feed(r, 1, 0, {b});
  auto with_residual = [](const Matrix& m) {
    Matrix out = m;
    for (size_t i = 0; i < m.size(); ++i)
      for (size_t j = 0; j < m.size(); ++j) out[i][j] = 0.5 * m[i][j] + (i == j ? 0.5 : 0.0);
    return out;
  };
  const Matrix rolled = mul(with_residual(b), with_residual(a));  // last block first
  std::vector<double> want(4, 0.0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) want[size_t(j)] += rolled[size_t(i)][size_t(j)] / 4;
  const std::vector<float> map = r.patch_map(vt::AttentionMode::Rollout, 2, 2);
  for (int j = 0; j < 4; ++j) CHECK(map[size_t(j)] == Approx(want[size_t(j)]));
}

TEST_CASE("attention map: the PNG blends the map over the input", "[unit]") {
  vitrt_info info{};
  info.image_h = 8;
  info.image_w = 6;
  info.channels = 1;
  info.mean[0] = 0.5f;
  info.std[0] = 0.25f;
  const std::vector<float> input(48, 0.f);  // de-normalised: grey 0.5 everywhere
  const std::vector<float> map = {1, 0, 0, 0, 0, 0};  // 2x3 grid, top-left hot
  const std::string path = "attention_map_test.png";
  vt::write_attention_png(path, map, 2, 3, input.data(), info);
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &n, 3);
  REQUIRE(px);
  CHECK(w == 6 * 38);  // zoomed so the shorter side is >= 224
  CHECK(h == 8 * 38);
  // Half grey 0.5, half jet: dark red (0.5, 0, 0) at the top-left cell's
  // peak, dark blue (0, 0, 0.5) at the cold bottom-right one.
  CHECK(int(px[0]) == 128);  // 255 * (0.25 + 0.25)
  CHECK(int(px[1]) == 64);
  CHECK(int(px[2]) == 64);
  const size_t last = (size_t(h) * w - 1) * 3;
  CHECK(int(px[last]) == 64);
  CHECK(int(px[last + 2]) == 128);
  stbi_image_free(px);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(vt::write_attention_png("/nonexistent/dir/x.png", map, 2, 3, input.data(), info),
                    Catch::Contains("cannot write"));
}
