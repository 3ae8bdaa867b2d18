#include <catch2/catch.hpp>

#include <cmath>

#include "families/family_timm.h"
#include "families/family_vitpytorch.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

// D=8, 2 channels, 2x3 patches over a 4x6 image (2x2 grid), 2 layers, MLP 16,
// 3 classes; `inner` = heads * dim_head.
constexpr int64_t D = 8, C = 2, P = 2, Q = 3, PD = C * P * Q, M = 16, K = 3;

enum class Layout { Early, PreNorm, New };

struct Spec {
  Layout layout = Layout::Early;
  int64_t inner = 12;
  bool cls = true;      // false: the newest version's empty [1, 0, D] cls_token
  bool to_out = true;
  bool flat = false;    // vit-pytorch >= 1.16: cls_token [n, D], pos_embedding [tokens, D]
};

TensorMap make(const Spec& s) {
  TensorMap m;
  float seed = 0.1f;
  auto norm = [&](const std::string& p, int64_t n) {
    put(m, p + "weight", {n}, seed += 0.1f);
    put(m, p + "bias", {n}, seed += 0.1f);
  };
  auto linear = [&](const std::string& p, int64_t out, int64_t in, bool bias = true) {
    put(m, p + "weight", {out, in}, seed += 0.1f);
    if (bias) put(m, p + "bias", {out}, seed += 0.1f);
  };
  const int64_t cls = s.cls ? 1 : 0;
  put(m, "cls_token", s.flat ? std::vector<int64_t>{cls, D} : std::vector<int64_t>{1, cls, D}, seed += 0.1f);
  put(m, "pos_embedding", s.flat ? std::vector<int64_t>{4 + cls, D} : std::vector<int64_t>{1, 4 + cls, D},
      seed += 0.1f);
  if (s.layout == Layout::Early) linear("patch_to_embedding.", D, PD);
  if (s.layout == Layout::PreNorm) linear("to_patch_embedding.1.", D, PD);
  if (s.layout == Layout::New) {
    norm("to_patch_embedding.1.", PD);
    linear("to_patch_embedding.2.", D, PD);
    norm("to_patch_embedding.3.", D);
    norm("transformer.norm.", D);
  }
  // attn norm, to_qkv, to_out, ff norm, fc1, fc2 per layout.
  const char* const names[3][6] = {
      {"0.fn.norm.", "0.fn.fn.to_qkv.", "0.fn.fn.to_out.0.", "1.fn.norm.", "1.fn.fn.net.0.", "1.fn.fn.net.3."},
      {"0.norm.", "0.fn.to_qkv.", "0.fn.to_out.0.", "1.norm.", "1.fn.net.0.", "1.fn.net.3."},
      {"0.norm.", "0.to_qkv.", "0.to_out.0.", "1.net.0.", "1.net.1.", "1.net.4."}};
  const auto& n = names[int(s.layout)];
  for (int i = 0; i < 2; ++i) {
    const std::string p = "transformer.layers." + std::to_string(i) + ".";
    norm(p + n[0], D);
    linear(p + n[1], 3 * s.inner, D, false);
    if (s.to_out) linear(p + n[2], D, s.inner);
    norm(p + n[3], D);
    linear(p + n[4], M, D);
    linear(p + n[5], D, M);
  }
  if (s.layout == Layout::New) {
    linear("mlp_head.", K, D);
  } else {
    norm("mlp_head.0.", D);
    linear("mlp_head.1.", K, D);
  }
  return m;
}

HParams flags(int heads, int patch_h = P, int patch_w = Q) {
  HParams h;
  if (heads) h.heads.set(heads, "--heads");
  if (patch_h) {
    h.patch_h.set(patch_h, "--patch-size");
    h.patch_w.set(patch_w, "--patch-size");
  }
  return h;
}

// Column j of a patch Linear in (c, p, q) order is column (p, q, c) upstream.
void check_pqc_to_cpq(const std::vector<float>& cpq, const std::vector<float>& pqc, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q)
          CHECK(cpq[size_t(r * PD + (c * P + p) * Q + q)] == pqc[size_t(r * PD + (p * Q + q) * C + c)]);
}

}  // namespace

TEST_CASE("vitpytorch: early layout", "[unit]") {
  const TensorMap t = make({});
  REQUIRE(is_vitpytorch(t));
  CHECK_FALSE(is_timm_vit(t));
  const Model m = map_vitpytorch(t, flags(2));
  const Config& c = m.config;
  CHECK(c.dim == 8);
  CHECK(c.channels == 2);
  CHECK(c.patch_h == 2);
  CHECK(c.patch_w == 3);
  CHECK(c.image_h == 4);
  CHECK(c.image_w == 6);
  CHECK(c.depth == 2);
  CHECK(c.heads == 2);
  CHECK(c.head_dim == 6);  // dim_head, not dim / heads
  CHECK(c.attn_scale == Approx(1 / std::sqrt(6.0)));
  CHECK(c.mlp_dim == 16);
  CHECK(c.num_classes == 3);
  CHECK(c.ln_eps == 1e-5f);
  CHECK(c.class_token);
  CHECK(c.pooling == 0);
  CHECK(m.blocks[1].qkv.weight.shape == std::vector<int32_t>{36, 8});
  CHECK(m.blocks[1].qkv.weight.data == values(t, "transformer.layers.1.0.fn.fn.to_qkv.weight"));
  CHECK(m.blocks[1].proj.weight.shape == std::vector<int32_t>{8, 12});
  CHECK(m.blocks[0].fc2.weight.data == values(t, "transformer.layers.0.1.fn.fn.net.3.weight"));
  CHECK(m.blocks[0].norm2.weight.data == values(t, "transformer.layers.0.1.fn.norm.weight"));
  CHECK_FALSE(m.norm.weight.present());
  // mlp_head.0 normalises the pooled vector: fc_norm.
  CHECK(m.fc_norm.weight.data == values(t, "mlp_head.0.weight"));
  CHECK(m.head.weight.data == values(t, "mlp_head.1.weight"));
  CHECK(m.pos_embed.shape == std::vector<int32_t>{5, 8});

  CHECK(m.patch_embed.weight.shape == std::vector<int32_t>{8, 12});
  check_pqc_to_cpq(m.patch_embed.weight.data, values(t, "patch_to_embedding.weight"), D);
  CHECK(m.patch_embed.bias.data == values(t, "patch_to_embedding.bias"));

  HParams mean = flags(2);
  mean.pool.set(Pool::Mean, "--pool");
  CHECK(map_vitpytorch(t, mean).config.pooling == 2);  // MeanAll: the class token is averaged too
}

TEST_CASE("vitpytorch: PreNorm layout infers the channels from the patch size", "[unit]") {
  const TensorMap t = make({Layout::PreNorm, 24});
  REQUIRE(is_vitpytorch(t));
  const Model m = map_vitpytorch(t, flags(3));
  CHECK(m.config.channels == 2);
  CHECK(m.config.head_dim == 8);
  CHECK(m.blocks[0].norm1.weight.data == values(t, "transformer.layers.0.0.norm.weight"));
  CHECK(m.blocks[0].fc1.weight.data == values(t, "transformer.layers.0.1.fn.net.0.weight"));
  check_pqc_to_cpq(m.patch_embed.weight.data, values(t, "to_patch_embedding.1.weight"), D);

  // The same 12 inputs read as 1x2 patches of 6 channels.
  const Model six = map_vitpytorch(t, flags(3, 1, 2));
  CHECK(six.config.channels == 6);
  CHECK(six.config.image_h == 2);
  CHECK(six.config.image_w == 4);
}

TEST_CASE("vitpytorch: newest layout, mean pooling without a class token, no to_out", "[unit]") {
  const TensorMap t = make({Layout::New, D, false, false});
  REQUIRE(is_vitpytorch(t));
  const Model m = map_vitpytorch(t, flags(1));
  const Config& c = m.config;
  CHECK_FALSE(c.class_token);
  CHECK_FALSE(m.cls_token.present());
  CHECK(c.pooling == 2);
  CHECK(c.image_h == 4);
  CHECK(c.image_w == 6);
  CHECK(c.head_dim == 8);
  CHECK_FALSE(m.blocks[0].proj.weight.present());  // Identity
  CHECK(m.blocks[1].norm2.weight.data == values(t, "transformer.layers.1.1.net.0.weight"));
  CHECK(m.blocks[1].fc1.weight.data == values(t, "transformer.layers.1.1.net.1.weight"));
  CHECK(m.blocks[1].fc2.weight.data == values(t, "transformer.layers.1.1.net.4.weight"));
  CHECK(m.norm.weight.data == values(t, "transformer.norm.weight"));  // over all tokens, before pooling
  CHECK_FALSE(m.fc_norm.weight.present());
  CHECK(m.head.weight.data == values(t, "mlp_head.weight"));
  check_pqc_to_cpq(m.patch_embed.weight.data, values(t, "to_patch_embedding.2.weight"), D);
  // The patch LayerNorm's affine parameters follow the same reordering.
  check_pqc_to_cpq(m.patch_norm_in.weight.data, values(t, "to_patch_embedding.1.weight"), 1);
  check_pqc_to_cpq(m.patch_norm_in.bias.data, values(t, "to_patch_embedding.1.bias"), 1);
  CHECK(m.patch_norm_out.weight.data == values(t, "to_patch_embedding.3.weight"));

  HParams cls = flags(1);
  cls.pool.set(Pool::Token, "--pool");
  CHECK_THROWS_WITH(map_vitpytorch(t, cls), Catch::Contains("cls_token is empty"));
  // With a class token the newer layout keeps it, and pos_embedding covers it.
  CHECK(map_vitpytorch(make({Layout::New, D, true, false}), flags(1)).config.pooling == 0);
}

TEST_CASE("vitpytorch: 1.16+ stores cls_token and pos_embedding 2-D", "[unit]") {
  const TensorMap with_cls = make({Layout::New, D, true, true, true});
  REQUIRE(is_vitpytorch(with_cls));
  const Model m = map_vitpytorch(with_cls, flags(1));
  CHECK(m.config.class_token);
  CHECK(m.config.pooling == 0);  // pool='cls' is what keeps the class token
  CHECK(m.cls_token.data == values(with_cls, "cls_token"));
  CHECK(m.pos_embed.data == values(with_cls, "pos_embedding"));
  CHECK(m.pos_embed.shape == std::vector<int32_t>{5, int32_t(D)});
  CHECK(m.config.image_h == 4);
  CHECK(m.config.image_w == 6);

  // pool='mean': cls_token [0, D], pos_embedding the 4 patches' rows.
  const Model mean = map_vitpytorch(make({Layout::New, D, false, true, true}), flags(1));
  CHECK_FALSE(mean.config.class_token);
  CHECK(mean.config.pooling == 2);
  CHECK(mean.pos_embed.shape == std::vector<int32_t>{4, int32_t(D)});

  // The two tensors' ranks must agree.
  TensorMap mixed = with_cls;
  put(mixed, "pos_embedding", {1, 5, D}, 0.5f);
  CHECK_THROWS_WITH(map_vitpytorch(mixed, flags(1)), Catch::Contains("as the cls_token [1, 8] is"));
  TensorMap two = with_cls;
  put(two, "cls_token", {2, D}, 0.5f);
  CHECK_THROWS_WITH(map_vitpytorch(two, flags(1)), Catch::Contains("got [2, 8]"));
  // num_classes=0 builds no mlp_head at all.
  TensorMap headless = with_cls;
  headless.erase("mlp_head.weight");
  headless.erase("mlp_head.bias");
  CHECK_THROWS_WITH(map_vitpytorch(headless, flags(1)), Catch::Contains("no classifier head (mlp_head"));
}

TEST_CASE("vitpytorch: asks for what the weights cannot tell", "[unit]") {
  const TensorMap t = make({});
  CHECK_THROWS_WITH(map_vitpytorch(t, flags(2, 0)), Catch::Contains("pass --patch-size"));
  CHECK_THROWS_WITH(map_vitpytorch(t, flags(0)), Catch::Contains("--heads"));
  CHECK_THROWS_WITH(map_vitpytorch(t, flags(5)), Catch::Contains("heads*dim_head"));
  CHECK_THROWS_WITH(map_vitpytorch(t, flags(2, 5, 5)), Catch::Contains("does not divide"));
  HParams three = flags(2);
  three.channels.set(3, "--channels");
  CHECK_THROWS_WITH(map_vitpytorch(t, three), Catch::Contains("channel count 3 (from --channels)"));
  // to_out is dropped only for heads == 1 and dim_head == dim.
  CHECK_THROWS_WITH(map_vitpytorch(make({Layout::PreNorm, 12, true, false}), flags(2)), Catch::Contains("no to_out"));
  TensorMap extra = t;
  put(extra, "transformer.layers.0.0.fn.fn.to_qkv.bias", {36}, 1.f);
  CHECK_THROWS_WITH(map_vitpytorch(extra, flags(2)), Catch::Contains("to_qkv.bias"));
}

TEST_CASE("vitpytorch: detection", "[unit]") {
  // The post-norm family shares the top-level names, not the layer names.
  TensorMap other;
  put(other, "pos_embedding", {1, 5, D}, 0.1f);
  put(other, "transformer.0.attention.qkv.weight", {3 * D, D}, 0.2f);
  CHECK_FALSE(is_vitpytorch(other));
  CHECK(is_vitpytorch(make({Layout::PreNorm})));
}

TEST_CASE("vitpytorch: a tensor of the wrong rank or size is an error, never a crash", "[unit]") {
  check_wrong_shapes(make({}), [](const TensorMap& m) { map_vitpytorch(m, flags(2)); });
  check_wrong_shapes(make({Layout::PreNorm, 24}), [](const TensorMap& m) { map_vitpytorch(m, flags(3)); });
  check_wrong_shapes(make({Layout::New, D, false, false}), [](const TensorMap& m) { map_vitpytorch(m, flags(1)); });
  check_wrong_shapes(make({Layout::New, D, true, false, true}),
                     [](const TensorMap& m) { map_vitpytorch(m, flags(1)); });
}
