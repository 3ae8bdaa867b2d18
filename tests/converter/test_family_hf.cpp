#include <catch2/catch.hpp>

#include "families/family_hf.h"
#include "families/family_postnorm.h"
#include "families/family_timm.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

constexpr int64_t D = 8, M = 12, K = 3;

// ViT with 2x2 patches of 2 channels, a 2x2 grid, depth 2, in HF or
// jeonsworld naming.
TensorMap tiny(bool hf, const std::string& root) {
  TensorMap m;
  float s = 0.1f;
  auto lin = [&](const std::string& p, int64_t out, int64_t in) {
    put(m, p + "weight", {out, in}, s += 0.1f);
    put(m, p + "bias", {out}, s += 0.1f);
  };
  auto norm = [&](const std::string& p) {
    put(m, p + "weight", {D}, s += 0.1f);
    put(m, p + "bias", {D}, s += 0.1f);
  };
  const std::string patch = root + (hf ? "embeddings.patch_embeddings.projection." : "embeddings.patch_embeddings.");
  put(m, patch + "weight", {D, 2, 2, 2}, s += 0.1f);
  put(m, patch + "bias", {D}, s += 0.1f);
  put(m, root + "embeddings.cls_token", {1, 1, D}, s += 0.1f);
  put(m, root + "embeddings.position_embeddings", {1, 5, D}, s += 0.1f);
  for (int i = 0; i < 2; ++i) {
    const std::string p = root + "encoder.layer." + std::to_string(i) + ".";
    norm(p + (hf ? "layernorm_before." : "attention_norm."));
    for (const char* n : {"query.", "key.", "value."}) lin(p + (hf ? "attention.attention." : "attn.") + n, D, D);
    lin(p + (hf ? "attention.output.dense." : "attn.out."), D, D);
    norm(p + (hf ? "layernorm_after." : "ffn_norm."));
    lin(p + (hf ? "intermediate.dense." : "ffn.fc1."), M, D);
    lin(p + (hf ? "output.dense." : "ffn.fc2."), D, M);
  }
  norm(root + (hf ? "layernorm." : "encoder.encoder_norm."));
  lin(hf ? "classifier." : "head.", K, D);
  return m;
}

}  // namespace

TEST_CASE("hf: fuses query/key/value, default eps 1e-12, bare prefix", "[unit]") {
  for (const std::string root : {"vit.", ""}) {
    const TensorMap t = tiny(true, root);
    REQUIRE(is_hf_vit(t));
    CHECK_FALSE(is_jeonsworld_vit(t));
    CHECK_FALSE(is_timm_vit(t));
    const Model m = map_hf_vit(t, heads(2));
    const Config& c = m.config;
    CHECK(c.image_h == 4);
    CHECK(c.head_dim == 4);
    CHECK(c.ln_eps == 1e-12f);
    CHECK(c.mlp_activation == 1);  // GeluErf
    CHECK(c.pooling == 0);
    const std::string a = root + "encoder.layer.1.attention.attention.";
    std::vector<float> w, b;
    for (const char* n : {"query.", "key.", "value."}) {
      const auto wn = values(t, a + n + "weight"), bn = values(t, a + n + "bias");
      w.insert(w.end(), wn.begin(), wn.end());
      b.insert(b.end(), bn.begin(), bn.end());
    }
    CHECK(m.blocks.at(1).qkv.weight.shape == std::vector<int32_t>{3 * D, D});
    CHECK(m.blocks[1].qkv.weight.data == w);
    CHECK(m.blocks[1].qkv.bias.data == b);
    CHECK(m.blocks[1].fc2.weight.data == values(t, root + "encoder.layer.1.output.dense.weight"));
    CHECK(m.head.weight.data == values(t, "classifier.weight"));
  }
  HParams config = heads(2);
  config.ln_eps.set(1e-5f, "config.json");
  CHECK(map_hf_vit(tiny(true, "vit."), config).config.ln_eps == 1e-5f);
  CHECK_THROWS_WITH(map_hf_vit(tiny(true, "vit."), HParams{}), Catch::Contains("--heads"));
  TensorMap pooled = tiny(true, "vit.");
  put(pooled, "vit.pooler.dense.weight", {D, D}, 0.f);
  CHECK_THROWS_WITH(map_hf_vit(pooled, heads(2)), Catch::Contains("vit.pooler.dense.weight"));
}

TEST_CASE("jeonsworld: same layout, eps 1e-6", "[unit]") {
  const TensorMap t = tiny(false, "transformer.");
  REQUIRE(is_jeonsworld_vit(t));
  CHECK_FALSE(is_hf_vit(t));
  CHECK_FALSE(is_postnorm_vit(t));
  const Model m = map_jeonsworld_vit(t, heads(4));
  CHECK(m.config.ln_eps == 1e-6f);
  CHECK(m.config.heads == 4);
  CHECK(m.blocks.at(0).proj.weight.data == values(t, "transformer.encoder.layer.0.attn.out.weight"));
  CHECK(m.norm.weight.data == values(t, "transformer.encoder.encoder_norm.weight"));
  HParams mean = heads(4);
  mean.pool.set(Pool::Mean, "--pool");
  CHECK_THROWS_WITH(map_jeonsworld_vit(t, mean), Catch::Contains("class token"));
}

TEST_CASE("hf, jeonsworld: a tensor of the wrong rank or size is an error, never a crash", "[unit]") {
  check_wrong_shapes(tiny(true, "vit."), [](const TensorMap& m) { map_hf_vit(m, heads(2)); });
  check_wrong_shapes(tiny(false, "transformer."), [](const TensorMap& m) { map_jeonsworld_vit(m, heads(4)); });
}
