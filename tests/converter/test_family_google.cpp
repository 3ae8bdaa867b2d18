#include <catch2/catch.hpp>

#include "convert.h"
#include "families/family_google.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

// flax ViT: D=6, 2 heads of 3, 2 channels, 2x3 patches, a 4x6 image (2x2
// grid), depth 1, MLP 10, pre_logits 5, 4 classes.
constexpr int64_t D = 6, H = 2, E = 3, C = 2, P = 2, Q = 3, M = 10, R = 5, K = 4;

TensorMap tiny_flax(const std::string& root = "", bool cls = true) {
  TensorMap m;
  float s = 0.1f;
  put(m, root + "embedding/kernel", {P, Q, C, D}, s += 0.1f);
  put(m, root + "embedding/bias", {D}, s += 0.1f);
  if (cls) put(m, root + "cls", {1, 1, D}, s += 0.1f);
  put(m, root + "Transformer/posembed_input/pos_embedding", {1, 4 + int64_t(cls), D}, s += 0.1f);
  const std::string b = root + "Transformer/encoderblock_0/";
  for (const char* n : {"LayerNorm_0/", "LayerNorm_2/"}) {
    put(m, b + n + "scale", {D}, s += 0.1f);
    put(m, b + n + "bias", {D}, s += 0.1f);
  }
  for (const char* n : {"query/", "key/", "value/"}) {
    put(m, b + "MultiHeadDotProductAttention_1/" + n + "kernel", {D, H, E}, s += 0.1f);
    put(m, b + "MultiHeadDotProductAttention_1/" + n + "bias", {H, E}, s += 0.1f);
  }
  put(m, b + "MultiHeadDotProductAttention_1/out/kernel", {H, E, D}, s += 0.1f);
  put(m, b + "MultiHeadDotProductAttention_1/out/bias", {D}, s += 0.1f);
  put(m, b + "MlpBlock_3/Dense_0/kernel", {D, M}, s += 0.1f);
  put(m, b + "MlpBlock_3/Dense_0/bias", {M}, s += 0.1f);
  put(m, b + "MlpBlock_3/Dense_1/kernel", {M, D}, s += 0.1f);
  put(m, b + "MlpBlock_3/Dense_1/bias", {D}, s += 0.1f);
  put(m, root + "Transformer/encoder_norm/scale", {D}, s += 0.1f);
  put(m, root + "Transformer/encoder_norm/bias", {D}, s += 0.1f);
  put(m, root + "pre_logits/kernel", {D, R}, s += 0.1f);
  put(m, root + "pre_logits/bias", {R}, s += 0.1f);
  put(m, root + "head/kernel", {R, K}, s += 0.1f);
  put(m, root + "head/bias", {K}, s += 0.1f);
  return m;
}

}  // namespace

TEST_CASE("google: maps a flax ViT, transposing every kernel", "[unit]") {
  const TensorMap t = tiny_flax();
  REQUIRE(is_google_vit(t));
  HParams hp;
  hp.image_h.set(4, "--image-size");
  hp.image_w.set(6, "--image-size");
  const Model m = map_google_vit(t, hp);
  const Config& c = m.config;
  CHECK(c.dim == D);
  CHECK(c.heads == H);
  CHECK(c.head_dim == E);
  CHECK(c.channels == C);
  CHECK(c.patch_h == P);
  CHECK(c.patch_w == Q);
  CHECK(c.mlp_dim == M);
  CHECK(c.num_classes == K);
  CHECK(c.mlp_activation == 2);  // GeluTanh
  CHECK(c.ln_eps == 1e-6f);
  CHECK(c.attn_scale == Approx(1 / std::sqrt(3.0)));
  CHECK(c.pooling == 0);
  CHECK(m.pre_logits_act == 4);  // Tanh

  // Patch kernel [P, Q, C, D] -> [D, (c, p, q)].
  const auto k = values(t, "embedding/kernel");
  for (int64_t d = 0; d < D; ++d)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q)
          CHECK(m.patch_embed.weight.data[size_t(d * C * P * Q + (ch * P + p) * Q + q)] ==
                k[size_t(((p * Q + q) * C + ch) * D + d)]);
  // q|k|v: row (which * D + h * E + e), column d = kernel[d, h, e].
  const std::string a = "Transformer/encoderblock_0/MultiHeadDotProductAttention_1/";
  const Block& b = m.blocks.at(0);
  REQUIRE(b.qkv.weight.shape == std::vector<int32_t>{3 * D, D});
  const char* names[] = {"query/", "key/", "value/"};
  for (int w = 0; w < 3; ++w) {
    const auto kw = values(t, a + names[w] + "kernel"), bw = values(t, a + names[w] + "bias");
    for (int64_t h = 0; h < H; ++h)
      for (int64_t e = 0; e < E; ++e) {
        CHECK(b.qkv.bias.data[size_t(w * D + h * E + e)] == bw[size_t(h * E + e)]);
        for (int64_t d = 0; d < D; ++d)
          CHECK(b.qkv.weight.data[size_t((w * D + h * E + e) * D + d)] == kw[size_t((d * H + h) * E + e)]);
      }
  }
  // out [H, E, D] -> [D, (h, e)]; Dense [in, out] -> [out, in].
  const auto ko = values(t, a + "out/kernel");
  for (int64_t d = 0; d < D; ++d)
    for (int64_t i = 0; i < H * E; ++i) CHECK(b.proj.weight.data[size_t(d * H * E + i)] == ko[size_t(i * D + d)]);
  const auto k0 = values(t, "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel");
  for (int64_t o = 0; o < M; ++o)
    for (int64_t i = 0; i < D; ++i) CHECK(b.fc1.weight.data[size_t(o * D + i)] == k0[size_t(i * M + o)]);
  CHECK(b.norm1.weight.data == values(t, "Transformer/encoderblock_0/LayerNorm_0/scale"));
  CHECK(m.head.weight.shape == std::vector<int32_t>{K, R});
}

TEST_CASE("google: 'gap' models, optimizer-state prefix, pooling flags", "[unit]") {
  HParams hp;
  hp.image_h.set(4, "--image-size");
  hp.image_w.set(6, "--image-size");
  const TensorMap gap = tiny_flax("", false);
  const Model m = map_google_vit(gap, hp);
  CHECK_FALSE(m.config.class_token);
  CHECK(m.config.pooling == 1);  // mean over the (patch-only) tokens
  HParams cls = hp;
  cls.pool.set(Pool::Token, "--pool");
  CHECK_THROWS_WITH(map_google_vit(gap, cls), Catch::Contains("classifier='gap'"));

  const TensorMap opt = tiny_flax("opt/target/");
  REQUIRE(is_google_vit(opt));
  CHECK(map_google_vit(opt, hp).blocks.size() == 1);
  TensorMap extra = tiny_flax();
  put(extra, "Transformer/encoderblock_0/unknown", {1}, 0.f);
  CHECK_THROWS_WITH(map_google_vit(extra, hp), Catch::Contains("unknown"));
}

TEST_CASE("google: the vit_jax preprocessing unless flags say otherwise", "[unit]") {
  const TensorMap flax = tiny_flax();
  Conversion c = convert(parse_options({"ViT.npz", "-o", "x.vitrt"}), flax);
  CHECK(c.model.preprocess.mean == std::vector<float>(size_t(C), 0.5f));
  CHECK(c.model.preprocess.std == std::vector<float>(size_t(C), 0.5f));
  CHECK(c.model.preprocess.resize == 1);         // ResizeMode::Stretch
  CHECK(c.model.preprocess.interpolation == 0);  // Interpolation::Bilinear
  // Noted as the family's defaults, not vitrt's (ImageNet statistics).
  REQUIRE(c.notes.size() == 1);
  CHECK_THAT(c.notes[0], Catch::Contains("resize stretch, interpolation bilinear, mean 0.5 std 0.5 "
                                         "(the family's default preprocessing)"));
  CHECK_THAT(c.notes[0], !Catch::Contains("ImageNet"));

  c = convert(parse_options({"ViT.npz", "-o", "x.vitrt", "--mean", "0.25", "--resize", "crop"}), flax);
  CHECK(c.model.preprocess.mean == std::vector<float>(size_t(C), 0.25f));
  CHECK(c.model.preprocess.std == std::vector<float>(size_t(C), 0.5f));
  CHECK(c.model.preprocess.resize == 0);
}

TEST_CASE("google: a tensor of the wrong rank or size is an error, never a crash", "[unit]") {
  TensorMap t = tiny_flax();
  HParams hp;
  hp.image_h.set(4, "--image-size");
  hp.image_w.set(6, "--image-size");
  check_wrong_shapes(t, [&](const TensorMap& m) { map_google_vit(m, hp); });
  // A 0-d pre_logits/kernel used to be indexed unchecked.
  put(t, "pre_logits/kernel", {}, 0.5f);
  CHECK_THROWS_WITH(map_google_vit(t, hp), Catch::Contains("'pre_logits/kernel' has shape [], expected 2 dimensions"));
}
