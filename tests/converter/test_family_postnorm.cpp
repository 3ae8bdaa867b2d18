#include <catch2/catch.hpp>

#include <cmath>

#include "families/family_postnorm.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

// dim 6 in 2 heads of 3, 3 channels of 2x2 patches (patch_dim 12), a 2x2
// grid, depth 1, feed-forward 18, mlp_head 5, 4 classes.
constexpr int64_t D = 6, HD = 3, C = 3, P = 2, F = 18, HM = 5, K = 4;

TensorMap tiny_seed() {
  TensorMap m;
  float s = 0.1f;
  put(m, "pos_embedding", {1, 5, D}, s += 0.1f);
  put(m, "patch_to_embedding.weight", {D, C * P * P}, s += 0.1f);
  put(m, "patch_to_embedding.bias", {D}, s += 0.1f);
  put(m, "cls_token", {1, 1, D}, s += 0.1f);
  const std::string b = "transformer.0.";
  for (const char* n : {"values", "keys", "queries"}) put(m, b + "attention." + n + ".weight", {HD, HD}, s += 0.1f);
  put(m, b + "attention.fc_out.weight", {D, D}, s += 0.1f);
  put(m, b + "attention.fc_out.bias", {D}, s += 0.1f);
  for (const char* n : {"norm1.", "norm2."}) {
    put(m, b + n + "weight", {D}, s += 0.1f);
    put(m, b + n + "bias", {D}, s += 0.1f);
  }
  put(m, b + "feed_forward.0.weight", {F, D}, s += 0.1f);
  put(m, b + "feed_forward.0.bias", {F}, s += 0.1f);
  put(m, b + "feed_forward.2.weight", {D, F}, s += 0.1f);
  put(m, b + "feed_forward.2.bias", {D}, s += 0.1f);
  put(m, "mlp_head.0.weight", {HM, D}, s += 0.1f);
  put(m, "mlp_head.0.bias", {HM}, s += 0.1f);
  put(m, "mlp_head.2.weight", {K, HM}, s += 0.1f);
  put(m, "mlp_head.2.bias", {K}, s += 0.1f);
  return m;
}

}  // namespace

TEST_CASE("postnorm: block-diagonal q/k/v, (p, q, c) patches, post-norm config", "[unit]") {
  const TensorMap t = tiny_seed();
  REQUIRE(is_postnorm_vit(t));
  const Model m = map_postnorm_vit(t, heads(2));
  const Config& c = m.config;
  CHECK(c.channels == 3);  // patch_dim 12 = 3 * 2 * 2
  CHECK(c.patch_h == 2);
  CHECK(c.image_h == 4);
  CHECK(c.norm_placement == 1);
  CHECK(c.mlp_activation == 3);
  CHECK(c.ln_eps == 1e-5f);
  CHECK(c.attn_scale == Approx(1 / std::sqrt(6.0)));  // embed_dim, not head_dim
  CHECK(c.mlp_dim == F);
  CHECK_FALSE(m.norm.weight.present());
  REQUIRE(m.pre_logits.size() == 1);
  CHECK(m.pre_logits_act == 3);
  CHECK(m.head.weight.shape == std::vector<int32_t>{K, HM});

  // q rows of head h read only head h's columns, with the shared weight.
  const auto wq = values(t, "transformer.0.attention.queries.weight");
  const auto wv = values(t, "transformer.0.attention.values.weight");
  const Block& b = m.blocks.at(0);
  REQUIRE(b.qkv.weight.shape == std::vector<int32_t>{3 * D, D});
  CHECK_FALSE(b.qkv.bias.present());
  for (int64_t r = 0; r < D; ++r)
    for (int64_t k = 0; k < D; ++k) {
      const bool same_head = r / HD == k / HD;
      CHECK(b.qkv.weight.data[size_t(r * D + k)] == (same_head ? wq[size_t((r % HD) * HD + k % HD)] : 0.f));
      CHECK(b.qkv.weight.data[size_t((2 * D + r) * D + k)] == (same_head ? wv[size_t((r % HD) * HD + k % HD)] : 0.f));
    }
  // Column (p, q, c) of the seed is column (c, p, q) of vitrt.
  const auto pw = values(t, "patch_to_embedding.weight");
  for (int64_t d = 0; d < D; ++d)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < P; ++q)
          CHECK(m.patch_embed.weight.data[size_t(d * 12 + (ch * P + p) * P + q)] == pw[size_t(d * 12 + (p * P + q) * C + ch)]);
}

TEST_CASE("postnorm: patch size from the flag, heads required", "[unit]") {
  const TensorMap t = tiny_seed();
  CHECK_THROWS_WITH(map_postnorm_vit(t, HParams{}), Catch::Contains("--heads"));
  HParams hp = heads(2);
  hp.patch_h.set(1, "--patch-size");
  hp.patch_w.set(1, "--patch-size");
  const Model m = map_postnorm_vit(t, hp);  // 12 channels of 1x1 patches
  CHECK(m.config.channels == 12);
  CHECK(m.config.image_h == 2);
  hp.patch_h.set(5, "--patch-size");
  hp.patch_w.set(5, "--patch-size");
  CHECK_THROWS_WITH(map_postnorm_vit(t, hp), Catch::Contains("does not divide"));
  TensorMap lucid;  // vit-pytorch's early layout shares patch_to_embedding
  put(lucid, "patch_to_embedding.weight", {D, 12}, 0.f);
  put(lucid, "transformer.layers.0.0.fn.fn.to_qkv.weight", {3 * D, D}, 0.f);
  CHECK_FALSE(is_postnorm_vit(lucid));
}

TEST_CASE("postnorm: a tensor of the wrong rank or size is an error, never a crash", "[unit]") {
  check_wrong_shapes(tiny_seed(), [](const TensorMap& m) { map_postnorm_vit(m, heads(2)); });
}
