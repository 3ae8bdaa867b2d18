#include <catch2/catch.hpp>

#include "families/mapper_util.h"
#include "families/pos_embed.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

TEST_CASE("pos_embed: bicubic antialiased resampling matches torch", "[unit]") {
  // One prefix row, then a 2x2 grid of [0, 1; 2, 3] in channel 0 and its
  // negation in channel 1 -> 3x3. Expected values from
  // F.interpolate(mode='bicubic', antialias=True, align_corners=False).
  Tensor pos{{5, 2}, {7.f, -7.f, 0.f, -0.f, 1.f, -1.f, 2.f, -2.f, 3.f, -3.f}};
  const Tensor r = resample_pos_embed(pos, 1, 2, 2, 3, 3);
  REQUIRE(r.shape == std::vector<int32_t>{10, 2});
  CHECK(r.data[0] == 7.f);
  CHECK(r.data[1] == -7.f);
  const float up[9] = {-0.19736797f, 0.36842138f, 0.93421096f, 0.93421072f, 1.5f,
                       2.0657897f,   2.0657899f,  2.6315792f,  3.1973689f};
  for (int t = 0; t < 9; ++t) {
    CHECK(r.data[size_t(2 + 2 * t)] == Approx(up[t]).margin(1e-6));
    CHECK(r.data[size_t(3 + 2 * t)] == Approx(-up[t]).margin(1e-6));
  }
  // Downscaling (the filter widens): 4x4 arange -> 2x3, no prefix.
  Tensor ramp{{16, 1}, {}};
  for (int i = 0; i < 16; ++i) ramp.data.push_back(float(i));
  const Tensor d = resample_pos_embed(ramp, 0, 4, 4, 2, 3);
  const float down[6] = {2.5370386f, 3.8471074f, 5.1571760f, 9.8428230f, 11.152892f, 12.462962f};
  for (int t = 0; t < 6; ++t) CHECK(d.data[size_t(t)] == Approx(down[t]).margin(1e-5));
}

TEST_CASE("pos_embed: take_pos_embed resamples only when the geometry asks", "[unit]") {
  TensorMap t;
  put(t, "pos", {1, 5, 3}, 0.2f);
  HParams hp;
  TensorPool same(t);
  ImageGeometry g = resolve_geometry(hp, 5, 1, 4, 4);
  CHECK(take_pos_embed(same, "pos", 3, g, 1, 4, 4).data == values(t, "pos"));
  hp.image_h.set(12, "--image-size");
  hp.image_w.set(16, "--image-size");
  g = resolve_geometry(hp, 5, 1, 4, 4);
  REQUIRE(g.pos_grid == 2);
  TensorPool pool(t);
  const Tensor r = take_pos_embed(pool, "pos", 3, g, 1, 4, 4);
  CHECK(r.shape == std::vector<int32_t>{13, 3});  // cls + 3x4 grid
  const std::vector<float> src = values(t, "pos");
  CHECK(std::vector<float>(r.data.begin(), r.data.begin() + 3) == std::vector<float>(src.begin(), src.begin() + 3));
}
