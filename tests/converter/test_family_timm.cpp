#include <catch2/catch.hpp>

#include <cstring>

#include "convert.h"
#include "families/family_timm.h"
#include "tensor_maps.h"
#include "families/timm_arch.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

// timm ViT with D=8, 2 channels, 2x2 patches, a 4x4 image (2x2 grid), depth 2,
// MLP 16, 3 classes, class token, final norm.
constexpr int64_t D = 8, C = 2, P = 2, M = 16, K = 3;

TensorMap tiny_vit() {
  TensorMap m;
  float seed = 0.1f;
  put(m, "patch_embed.proj.weight", {D, C, P, P}, seed += 0.1f);
  put(m, "patch_embed.proj.bias", {D}, seed += 0.1f);
  put(m, "cls_token", {1, 1, D}, seed += 0.1f);
  put(m, "pos_embed", {1, 5, D}, seed += 0.1f);
  for (int i = 0; i < 2; ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    for (const char* n : {"norm1.", "norm2."}) {
      put(m, p + n + "weight", {D}, seed += 0.1f);
      put(m, p + n + "bias", {D}, seed += 0.1f);
    }
    put(m, p + "attn.qkv.weight", {3 * D, D}, seed += 0.1f);
    put(m, p + "attn.qkv.bias", {3 * D}, seed += 0.1f);
    put(m, p + "attn.proj.weight", {D, D}, seed += 0.1f);
    put(m, p + "attn.proj.bias", {D}, seed += 0.1f);
    put(m, p + "mlp.fc1.weight", {M, D}, seed += 0.1f);
    put(m, p + "mlp.fc1.bias", {M}, seed += 0.1f);
    put(m, p + "mlp.fc2.weight", {D, M}, seed += 0.1f);
    put(m, p + "mlp.fc2.bias", {D}, seed += 0.1f);
  }
  put(m, "norm.weight", {D}, seed += 0.1f);
  put(m, "norm.bias", {D}, seed += 0.1f);
  put(m, "head.weight", {K, D}, seed += 0.1f);
  put(m, "head.bias", {K}, seed += 0.1f);
  return m;
}

// y = W x + b for a Linear in the runtime's [out, in] layout.
std::vector<float> forward(const Linear& l, const std::vector<float>& x) {
  const size_t out = size_t(l.weight.shape[0]), in = size_t(l.weight.shape[1]);
  std::vector<float> y(out);
  for (size_t o = 0; o < out; ++o) {
    double s = l.bias.present() ? l.bias.data[o] : 0.0;
    for (size_t i = 0; i < in; ++i) s += double(l.weight.data[o * in + i]) * x[i];
    y[o] = float(s);
  }
  return y;
}

}  // namespace

TEST_CASE("timm: maps a tiny ViT", "[unit]") {
  const TensorMap t = tiny_vit();
  REQUIRE(is_timm_vit(t));
  Model m = map_timm_vit(t, heads(2));
  const Config& c = m.config;
  CHECK(c.dim == 8);
  CHECK(c.channels == 2);
  CHECK(c.patch_h == 2);
  CHECK(c.image_h == 4);
  CHECK(c.image_w == 4);
  CHECK(c.depth == 2);
  CHECK(c.heads == 2);
  CHECK(c.head_dim == 4);
  CHECK(c.attn_scale == 0.5f);
  CHECK(c.mlp_dim == 16);
  CHECK(c.num_classes == 3);
  CHECK(c.ln_eps == 1e-6f);
  CHECK(c.class_token);
  CHECK_FALSE(c.dist_token);
  CHECK(c.pooling == 0);
  CHECK_FALSE(c.pos_embed_patches_only);

  // Conv kernel [D, C, P, Q] is already (c, p, q) order: a plain reshape.
  CHECK(m.patch_embed.weight.shape == std::vector<int32_t>{8, 8});
  const std::vector<float> conv = values(t, "patch_embed.proj.weight");
  for (int d = 0; d < D; ++d)
    for (int ch = 0; ch < C; ++ch)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < P; ++q)
          CHECK(m.patch_embed.weight.data[size_t(d * 8 + ch * 4 + p * 2 + q)] ==
                conv[size_t(((d * C + ch) * P + p) * P + q)]);
  // timm's fused qkv is already q|k|v, head-major.
  CHECK(m.blocks[1].qkv.weight.shape == std::vector<int32_t>{24, 8});
  CHECK(m.blocks[1].qkv.weight.data == values(t, "blocks.1.attn.qkv.weight"));
  CHECK(m.blocks[1].qkv.bias.data == values(t, "blocks.1.attn.qkv.bias"));
  CHECK(m.cls_token.shape == std::vector<int32_t>{8});
  CHECK(m.pos_embed.shape == std::vector<int32_t>{5, 8});
  CHECK(m.pos_embed.data == values(t, "pos_embed"));
  CHECK(m.norm.weight.data == values(t, "norm.weight"));
  CHECK_FALSE(m.fc_norm.weight.present());
  CHECK(m.head.weight.shape == std::vector<int32_t>{3, 8});
  CHECK(count_params(m) == int64_t(8 * 8 + 8 + 8 + 5 * 8 + 2 * (4 * 8 + 24 * 8 + 24 + 64 + 8 + 128 + 16 + 128 + 8) +
                                   16 + 24 + 3));
}

TEST_CASE("timm: LayerScale is folded into proj and fc2", "[unit]") {
  TensorMap t = tiny_vit();
  put(t, "blocks.0.ls1.gamma", {D}, -0.4f);
  put(t, "blocks.0.ls2.gamma", {D}, 0.7f);
  Model m = map_timm_vit(t, heads(2));
  const std::vector<float> g1 = values(t, "blocks.0.ls1.gamma"), g2 = values(t, "blocks.0.ls2.gamma");
  const std::vector<float> w = values(t, "blocks.0.attn.proj.weight"), b = values(t, "blocks.0.attn.proj.bias");
  const std::vector<float> x = fill(D, -0.2f);
  // Reference: gamma * (W x + b) straight from the checkpoint values.
  std::vector<float> folded = forward(m.blocks[0].proj, x);
  for (size_t o = 0; o < size_t(D); ++o) {
    double s = b[o];
    for (size_t i = 0; i < size_t(D); ++i) s += double(w[o * D + i]) * x[i];
    CHECK(folded[o] == Approx(g1[o] * s).epsilon(1e-5));
  }
  const std::vector<float> w2 = values(t, "blocks.0.mlp.fc2.weight");
  CHECK(m.blocks[0].fc2.weight.data[3 * M + 5] == Approx(g2[3] * w2[3 * M + 5]));
  CHECK(m.blocks[0].fc2.bias.data[6] == Approx(g2[6] * values(t, "blocks.0.mlp.fc2.bias")[6]));
  CHECK(m.blocks[1].proj.weight.data == values(t, "blocks.1.attn.proj.weight"));  // block 1 has none
}

TEST_CASE("timm: pooling, tokens and position embedding variants", "[unit]") {
  SECTION("fc_norm means mean pooling") {
    TensorMap t = tiny_vit();
    t["fc_norm.weight"] = t.at("norm.weight");
    t["fc_norm.bias"] = t.at("norm.bias");
    t.erase("norm.weight");
    t.erase("norm.bias");
    Model m = map_timm_vit(t, heads(2));
    CHECK(m.config.pooling == 1);
    CHECK(m.fc_norm.weight.present());
    CHECK_FALSE(m.norm.weight.present());
  }
  SECTION("--pool mean keeps the all-token norm") {
    HParams h = heads(4);
    h.pool.set(Pool::Mean, "--pool");
    Model m = map_timm_vit(tiny_vit(), h);
    CHECK(m.config.pooling == 1);
    CHECK(m.norm.weight.present());
  }
  SECTION("no class token") {
    TensorMap t = tiny_vit();
    t.erase("cls_token");
    put(t, "pos_embed", {1, 4, D}, 0.3f);
    Model m = map_timm_vit(t, heads(2));
    CHECK_FALSE(m.config.class_token);
    CHECK(m.config.pooling == 1);
    CHECK(m.config.image_h == 4);
    HParams h = heads(2);
    h.pool.set(Pool::Token, "--pool");
    CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("no cls_token"));
  }
  SECTION("no_embed_class") {
    TensorMap t = tiny_vit();
    put(t, "pos_embed", {1, 4, D}, 0.3f);
    Model m = map_timm_vit(t, heads(2));
    CHECK(m.config.pos_embed_patches_only);
    CHECK(m.pos_embed.shape == std::vector<int32_t>{4, 8});
  }
  SECTION("distilled DeiT") {
    TensorMap t = tiny_vit();
    put(t, "dist_token", {1, 1, D}, 0.6f);
    put(t, "pos_embed", {1, 6, D}, 0.3f);
    put(t, "head_dist.weight", {K, D}, 0.2f);
    put(t, "head_dist.bias", {K}, 0.1f);
    Model m = map_timm_vit(t, heads(2));
    CHECK(m.config.dist_token);
    CHECK(m.config.pooling == 0);
    CHECK(m.dist_token.data == values(t, "dist_token"));
    CHECK(m.head_dist.weight.data == values(t, "head_dist.weight"));
    HParams h = heads(2);
    h.pool.set(Pool::Mean, "--pool");
    CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("distilled"));
  }
}

TEST_CASE("timm: rejects what it cannot map faithfully", "[unit]") {
  TensorMap t = tiny_vit();
  CHECK_THROWS_WITH(map_timm_vit(t, HParams{}), Catch::StartsWith("cannot infer the number of attention heads"));
  CHECK_THROWS_WITH(map_timm_vit(t, heads(3)), Catch::Contains("does not divide"));

  TensorMap extra = tiny_vit();
  put(extra, "blocks.0.attn.q_norm.weight", {4}, 1.0f);
  put(extra, "reg_token", {1, 4, D}, 1.0f);
  CHECK_THROWS_WITH(map_timm_vit(extra, heads(2)),
                    Catch::Contains("does not understand") && Catch::Contains("blocks.0.attn.q_norm.weight [4]") &&
                        Catch::Contains("reg_token"));

  TensorMap headless = tiny_vit();
  headless.erase("head.weight");
  headless.erase("head.bias");
  CHECK_THROWS_WITH(map_timm_vit(headless, heads(2)), Catch::Contains("no classifier head"));

  TensorMap half_norm = tiny_vit();
  half_norm.erase("norm.bias");
  CHECK_THROWS_WITH(map_timm_vit(half_norm, heads(2)), Catch::Contains("norm.bias"));

  TensorMap bad_shape = tiny_vit();
  put(bad_shape, "blocks.1.mlp.fc2.weight", {D, M + 1}, 0.1f);
  CHECK_THROWS_WITH(map_timm_vit(bad_shape, heads(2)), Catch::Contains("blocks.1.mlp.fc2.weight"));

}

TEST_CASE("timm: hyperparameters that contradict the weights", "[unit]") {
  const TensorMap t = tiny_vit();
  CHECK_THROWS_WITH(map_timm_vit(t, arch_hparams("deit_small_patch16_224", "--arch deit_small_patch16_224")),
                    Catch::Contains("embedding dim 384 (from --arch deit_small_patch16_224) contradicts") &&
                        Catch::Contains("which have 8"));
  HParams h = heads(2);
  h.patch_h.set(4, "--patch-size");
  CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("patch height 4 (from --patch-size)"));
  h = heads(2);
  h.image_h.set(5, "--image-size");
  h.image_w.set(5, "--image-size");
  CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("not divisible"));
  h = heads(2);
  h.dist_token.set(true, "--arch x");
  CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("distillation token"));
  h = heads(2);
  h.num_classes.set(1000, "cfg.json");
  CHECK_THROWS_WITH(map_timm_vit(t, h), Catch::Contains("num_classes 1000"));
}

TEST_CASE("finish_model: preprocessing and labels", "[unit]") {
  Model m = map_timm_vit(tiny_vit(), heads(2));  // 2 channels, 3 classes
  std::vector<std::string> notes;
  HParams h;
  CHECK_THROWS_WITH(finish_model(m, h, notes), Catch::Contains("pass --mean and --std"));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("ImageNet"));

  notes.clear();
  h.mean.set({0.5f}, "--mean");
  h.std.set({0.25f, 0.5f}, "--std");
  h.crop_pct.set(1.0f, "cfg");
  h.labels.set({"a", "b", "c"}, "--labels l.txt");
  finish_model(m, h, notes);
  // One note, naming exactly the values nothing gave.
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("resize crop, interpolation bicubic (vitrt's defaults, as timm's)"));
  CHECK_THAT(notes[0], !Catch::Contains("crop_pct ") && !Catch::Contains("mean/std") && !Catch::Contains("mean 0"));
  notes.clear();
  h.resize.set(0, "--resize");
  h.interpolation.set(0, "--interpolation");
  finish_model(m, h, notes);
  CHECK(notes.empty());
  CHECK(m.preprocess.mean == std::vector<float>{0.5f, 0.5f});
  CHECK(m.preprocess.std == std::vector<float>{0.25f, 0.5f});
  CHECK(m.preprocess.crop_pct == 1.0f);
  CHECK(m.labels.size() == 3);

  h.std.set({0.1f, 0.2f, 0.3f}, "--std");
  CHECK_THROWS_WITH(finish_model(m, h, notes), Catch::Contains("3 values") && Catch::Contains("2 channels"));
  h.std.set({0.1f}, "--std");
  h.labels.set({"a"}, "--labels l.txt");
  CHECK_THROWS_WITH(finish_model(m, h, notes), Catch::Contains("1 labels (from --labels l.txt)"));
}

TEST_CASE("timm: a tensor of the wrong rank or size is an error, never a crash", "[unit]") {
  TensorMap t = tiny_vit();
  put(t, "pre_logits.fc.weight", {3, 8}, 0.2f);  // the optional pre_logits layer too
  put(t, "pre_logits.fc.bias", {3}, 0.3f);
  put(t, "head.weight", {3, 3}, 0.4f);
  check_wrong_shapes(t, [](const TensorMap& m) { map_timm_vit(m, heads(2)); });
}
