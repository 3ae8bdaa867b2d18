// MoCo v3 mapper: sin-cos formula, ConvStem and projector BatchNorm folding,
// encoder selection, detection. End-to-end numbers: fixtures_mocov3.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "families/families.h"
#include "families/family_mocov3.h"
#include "families/sincos.h"
#include "tensor_maps.h"
#include "families/timm_arch.h"

using namespace vitrt::conv;

namespace {

constexpr int64_t D = 16, M = 32;  // ConvStem channels 2, 4, 8, 16; patch 16

void put(TensorMap& m, const std::string& name, std::vector<int64_t> shape, std::vector<float> v = {}) {
  const int64_t n = checked_numel(shape);
  if (v.empty())
    for (int64_t i = 0; i < n; ++i) v.push_back(0.3f + 0.01f * float(i % 89) - 0.004f * float(i % 5));
  REQUIRE(int64_t(v.size()) == n);
  auto bytes = std::make_shared<std::vector<uint8_t>>(v.size() * 4);
  std::memcpy(bytes->data(), v.data(), bytes->size());
  m[name] = RawTensor{RawDType::F32, std::move(shape), bytes, 0, bytes->size()};
}

void put_bn(TensorMap& m, const std::string& p, int64_t n, bool affine = true) {
  put(m, p + "running_mean", {n}, std::vector<float>(size_t(n), 0.5f));
  put(m, p + "running_var", {n}, std::vector<float>(size_t(n), 3.99999f));  // + eps 1e-5 = 4
  if (affine) {
    put(m, p + "weight", {n}, std::vector<float>(size_t(n), 3.f));
    put(m, p + "bias", {n}, std::vector<float>(size_t(n), 1.f));
  }
  auto counter = std::make_shared<std::vector<uint8_t>>(8, 0);
  m[p + "num_batches_tracked"] = RawTensor{RawDType::I64, {}, counter, 0, 8};
}

// A vit_conv-style encoder (image 32: 2x2 grid) under `prefix`, with the
// pretraining projector head when `projector`, else a 5-class Linear.
void put_encoder(TensorMap& m, const std::string& prefix, bool projector) {
  int64_t in = 3;
  for (int l = 0; l < 4; ++l) {
    const int64_t out = D / 8 << l;
    put(m, prefix + "patch_embed.proj." + std::to_string(3 * l) + ".weight", {out, in, 3, 3});
    put_bn(m, prefix + "patch_embed.proj." + std::to_string(3 * l + 1) + ".", out);
    in = out;
  }
  put(m, prefix + "patch_embed.proj.12.weight", {D, D, 1, 1});
  put(m, prefix + "patch_embed.proj.12.bias", {D});
  put(m, prefix + "cls_token", {1, 1, D});
  put(m, prefix + "pos_embed", {1, 5, D}, sincos_2d_pos_embed(2, 2, int(D)));
  for (const char* n : {"norm1.", "norm2."}) {
    put(m, prefix + "blocks.0." + n + "weight", {D});
    put(m, prefix + "blocks.0." + n + "bias", {D});
  }
  put(m, prefix + "blocks.0.attn.qkv.weight", {3 * D, D});
  put(m, prefix + "blocks.0.attn.qkv.bias", {3 * D});
  put(m, prefix + "blocks.0.attn.proj.weight", {D, D});
  put(m, prefix + "blocks.0.attn.proj.bias", {D});
  put(m, prefix + "blocks.0.mlp.fc1.weight", {M, D});
  put(m, prefix + "blocks.0.mlp.fc1.bias", {M});
  put(m, prefix + "blocks.0.mlp.fc2.weight", {D, M});
  put(m, prefix + "blocks.0.mlp.fc2.bias", {D});
  put(m, prefix + "norm.weight", {D});
  put(m, prefix + "norm.bias", {D});
  if (projector) {
    put(m, prefix + "head.0.weight", {24, D});
    put_bn(m, prefix + "head.1.", 24);
    put(m, prefix + "head.3.weight", {24, 24});
    put_bn(m, prefix + "head.4.", 24);
    put(m, prefix + "head.6.weight", {8, 24});
    put_bn(m, prefix + "head.7.", 8, /*affine=*/false);
  } else {
    put(m, prefix + "head.weight", {5, D});
    put(m, prefix + "head.bias", {5});
  }
}

TensorMap pretraining() {
  TensorMap m;
  put_encoder(m, "base_encoder.", true);
  put_encoder(m, "momentum_encoder.", true);
  put(m, "predictor.0.weight", {24, 8});
  put_bn(m, "predictor.1.", 24);
  put(m, "predictor.3.weight", {8, 24});
  return m;
}

HParams heads(int n) {
  HParams hp;
  hp.heads.set(n, "--heads");
  return hp;
}

}  // namespace

TEST_CASE("mocov3: sin-cos position embedding follows vits.py", "[mocov3]") {
  // grid 2 x 3, dim 8: patch row m has a = m / 2, b = m % 2 (meshgrid 'ij' of (w, h)).
  const std::vector<float> pos = sincos_2d_pos_embed(2, 3, 8);
  REQUIRE(pos.size() == 7 * 8);
  for (int i = 0; i < 8; ++i) CHECK(pos[size_t(i)] == 0.f);  // class token
  for (int m = 0; m < 6; ++m) {
    const double a = m / 2, b = m % 2;
    const float* row = &pos[size_t(1 + m) * 8];
    for (int k = 0; k < 2; ++k) {
      const double w = std::pow(10000.0, -k / 2.0);
      CHECK(row[k] == Approx(std::sin(a * w)));
      CHECK(row[2 + k] == Approx(std::cos(a * w)));
      CHECK(row[4 + k] == Approx(std::sin(b * w)));
      CHECK(row[6 + k] == Approx(std::cos(b * w)));
    }
  }
  CHECK_THROWS_WITH(sincos_2d_pos_embed(2, 2, 6), Catch::Contains("divisible by 4"));
}

TEST_CASE("mocov3: pretraining checkpoint keeps base_encoder, folds every BatchNorm", "[mocov3]") {
  const TensorMap t = pretraining();
  REQUIRE(find_family("", t, "ck").name == std::string("mocov3"));
  const Model m = map_mocov3_vit(t, heads(2));
  const Config& c = m.config;
  CHECK(c.stem == 1);
  CHECK((c.patch_h == 16 && c.image_h == 32 && c.image_w == 32 && c.channels == 3));
  CHECK((c.dim == D && c.depth == 1 && c.num_classes == 8 && c.pos_embed == 2 && c.pooling == 0));
  REQUIRE(m.stem_convs.size() == 4);
  for (const Conv2d& cv : m.stem_convs) CHECK((cv.stride == 2 && cv.padding == 1 && cv.relu));
  // BN: scale gamma / sqrt(var + eps) = 3 / 2, shift beta - mean * scale = 0.25.
  const Tensor& w0 = m.stem_convs[0].weight;
  CHECK(w0.shape == std::vector<int32_t>{2, 3, 3, 3});
  CHECK(w0.data[5] == Approx(1.5 * (0.3 + 0.01 * 5 - 0.004 * 0)));
  CHECK(m.stem_convs[0].bias.data[1] == Approx(0.25));
  CHECK(m.patch_embed.weight.shape == std::vector<int32_t>{int32_t(D), int32_t(D)});
  // Projector: two hidden Linears + ReLU, the last one's BN without affine.
  REQUIRE(m.pre_logits.size() == 2);
  CHECK(m.pre_logits_act == 3);
  CHECK(m.pre_logits[1].bias.data[0] == Approx(0.25));
  CHECK(m.head.weight.data[0] == Approx(0.3 / 2));
  CHECK(m.head.bias.data[0] == Approx(-0.5 / 2));
  CHECK(m.pos_embed.data == sincos_2d_pos_embed(2, 2, int(D)));
}

TEST_CASE("mocov3: linear-classification checkpoint, image size and pos_embed checks", "[mocov3]") {
  TensorMap t;
  put_encoder(t, "", false);
  REQUIRE(is_mocov3_vit(t));
  HParams hp = heads(4);
  hp.image_h.set(48, "--image-size");
  hp.image_w.set(64, "--image-size");
  const Model m = map_mocov3_vit(t, hp);
  CHECK((m.config.num_classes == 5 && m.pre_logits.empty()));
  CHECK(m.pos_embed.shape == std::vector<int32_t>{13, int32_t(D)});
  CHECK(m.pos_embed.data == sincos_2d_pos_embed(3, 4, int(D)));

  t.erase("pos_embed");  // vitrt regenerates it: only the image size is missing
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(4)), Catch::Contains("pass --image-size"));
  CHECK(map_mocov3_vit(t, hp).pos_embed.data == sincos_2d_pos_embed(3, 4, int(D)));

  std::vector<float> learned = sincos_2d_pos_embed(2, 2, int(D));
  learned[D + 3] += 1e-3f;
  put(t, "pos_embed", {1, 5, D}, learned);
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(4)), Catch::Contains("differs from MoCo v3's fixed 2-D sin-cos"));

  HParams conv_small = arch_hparams("vit_conv_small", "--arch vit_conv_small");
  CHECK((*conv_small.depth == 11 && *conv_small.heads == 12 && *conv_small.interpolation == 0));
  put(t, "pos_embed", {1, 5, D}, sincos_2d_pos_embed(2, 2, int(D)));
  CHECK_THROWS_WITH(map_mocov3_vit(t, conv_small), Catch::Contains("contradicts"));
}

TEST_CASE("mocov3: detection and stray tensors", "[mocov3]") {
  TensorMap timm;
  put(timm, "patch_embed.proj.weight", {D, 3, 16, 16});
  put(timm, "pos_embed", {1, 5, D});  // learned: not the sin-cos formula
  CHECK_FALSE(is_mocov3_vit(timm));
  put(timm, "pos_embed", {1, 5, D}, sincos_2d_pos_embed(2, 2, int(D)));
  CHECK(is_mocov3_vit(timm));

  TensorMap t = pretraining();
  put(t, "queue", {8, 4});
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(2)), Catch::Contains("unexpected tensor queue"));
  t = pretraining();
  put(t, "base_encoder.head.9.bias", {8});
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(2)), Catch::Contains("head.9.bias"));
}

TEST_CASE("mocov3: a tensor of the wrong rank or size is an error, never a crash", "[mocov3]") {
  // A 0-d head.weight used to be indexed unchecked.
  TensorMap t;
  put_encoder(t, "", false);
  put(t, "head.weight", {});
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(4)), Catch::Contains("tensor 'head.weight' has shape [], expected [*, 16]"));
  // Zero channels used to divide by zero when folding a BatchNorm.
  t = pretraining();
  test::put(t, "base_encoder.head.0.weight", {0, D}, 0.1f);
  for (const char* n : {"running_mean", "running_var", "weight", "bias"})
    test::put(t, std::string("base_encoder.head.1.") + n, {0}, 0.1f);
  CHECK_THROWS_WITH(map_mocov3_vit(t, heads(2)), Catch::Contains("channel count 0 is out of range"));

  t.clear();
  put_encoder(t, "", false);
  test::check_wrong_shapes(t, [](const TensorMap& m) { map_mocov3_vit(m, heads(4)); });
  test::check_wrong_shapes(pretraining(), [](const TensorMap& m) { map_mocov3_vit(m, heads(2)); });
}
