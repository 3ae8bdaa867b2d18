// vitrt-convert refuses what the runtime would refuse, before the work:
// hyperparameters past the runtime's limits (vitrt.h), files past
// FlatBuffers' 2 GiB, NaN/Inf weights. Checkpoints are generated here.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>

#include "convert.h"
#include "tensor_maps.h"

using namespace vitrt::conv;
using namespace vitrt::conv::test;

namespace {

constexpr int64_t D = 8, C = 3, P = 2, M = 16, K = 3;

// A timm ViT: 4x4 image of 2x2 patches, one block.
TensorMap tiny_timm() {
  TensorMap m;
  float seed = 0.f;
  put(m, "patch_embed.proj.weight", {D, C, P, P}, seed += 0.1f);
  put(m, "patch_embed.proj.bias", {D}, seed += 0.1f);
  put(m, "cls_token", {1, 1, D}, seed += 0.1f);
  put(m, "pos_embed", {1, 5, D}, seed += 0.1f);
  for (const char* n : {"blocks.0.norm1.", "blocks.0.norm2.", "norm."}) {
    put(m, std::string(n) + "weight", {D}, seed += 0.1f);
    put(m, std::string(n) + "bias", {D}, seed += 0.1f);
  }
  put(m, "blocks.0.attn.qkv.weight", {3 * D, D}, seed += 0.1f);
  put(m, "blocks.0.attn.qkv.bias", {3 * D}, seed += 0.1f);
  put(m, "blocks.0.attn.proj.weight", {D, D}, seed += 0.1f);
  put(m, "blocks.0.attn.proj.bias", {D}, seed += 0.1f);
  put(m, "blocks.0.mlp.fc1.weight", {M, D}, seed += 0.1f);
  put(m, "blocks.0.mlp.fc1.bias", {M}, seed += 0.1f);
  put(m, "blocks.0.mlp.fc2.weight", {D, M}, seed += 0.1f);
  put(m, "blocks.0.mlp.fc2.bias", {D}, seed += 0.1f);
  put(m, "head.weight", {K, D}, seed += 0.1f);
  put(m, "head.bias", {K}, seed += 0.1f);
  return m;
}

Options two_heads() {
  Options o;
  o.checkpoint = "tiny.safetensors";
  o.flags.heads.set(2, "--heads");
  return o;
}

// Sets element i of a float32 tensor in the map.
void poke(TensorMap& m, const std::string& name, size_t i, float v) {
  std::memcpy(const_cast<uint8_t*>(m.at(name).data()) + 4 * i, &v, 4);
}

}  // namespace

TEST_CASE("the tiny checkpoint converts and writes", "[unit][limits]") {
  const Conversion c = convert(two_heads(), tiny_timm());
  REQUIRE_FALSE(write_model(c.model).empty());
}

TEST_CASE("hyperparameters past the runtime's limits are refused before mapping", "[unit][limits]") {
  Options o = two_heads();
  o.flags.image_h.set(40000, "--image-size");
  o.flags.image_w.set(40000, "--image-size");
  REQUIRE_THROWS_WITH(convert(o, tiny_timm()),
                      "image height 40000 (from --image-size) is above the runtime's limit of 4096");
  o.flags.image_h.set(4000, "--image-size");
  o.flags.image_w.set(4000, "--image-size");
  o.flags.patch_h.set(2, "--patch-size");
  o.flags.patch_w.set(2, "--patch-size");
  REQUIRE_THROWS_WITH(convert(o, tiny_timm()), Catch::Contains("gives 4000000 tokens, above the runtime's limit of 4098"));
  o = two_heads();
  o.flags.depth.set(1000, "config.json");
  REQUIRE_THROWS_WITH(convert(o, tiny_timm()), "depth 1000 (from config.json) is above the runtime's limit of 128");
  o = two_heads();
  o.flags.crop_pct.set(0.01f, "--crop-pct");
  REQUIRE_THROWS_WITH(convert(o, tiny_timm()), Catch::Contains("(from --crop-pct) is outside 0.1..1"));
}

TEST_CASE("a mapped model past the runtime's limits is refused", "[unit][limits]") {
  Model m = convert(two_heads(), tiny_timm()).model;
  REQUIRE_NOTHROW(check_limits(m));
  m.config.heads = 129;
  REQUIRE_THROWS_WITH(check_limits(m), "heads 129 is outside the runtime's limits 1..128");
  m = convert(two_heads(), tiny_timm()).model;
  m.config.image_h = m.config.image_w = 256;
  m.config.patch_h = m.config.patch_w = 4;
  m.config.depth = m.config.heads = 128;
  m.config.head_dim = 1;
  REQUIRE_THROWS_WITH(check_limits(m), "depth*heads*tokens^2 275012141056 is outside the runtime's limits 1..17179869184");
  m = convert(two_heads(), tiny_timm()).model;
  m.preprocess.mean[2] = INFINITY;
  REQUIRE_THROWS_WITH(check_limits(m), "mean values must be finite");
}

TEST_CASE("a model file past 2 GiB is refused before packing", "[unit][limits]") {
  Model m = convert(two_heads(), tiny_timm()).model;
  m.pos_embed.shape = {600000, 1024};  // 2.3 GiB of fp32, declared only
  REQUIRE_THROWS_WITH(write_model(m), Catch::Contains("past the 2 GiB limit of a model file"));
}

TEST_CASE("NaN and Inf weights are refused with the tensor's name", "[unit][limits]") {
  TensorMap t = tiny_timm();
  poke(t, "blocks.0.attn.qkv.weight", 5, NAN);
  REQUIRE_THROWS_WITH(write_model(convert(two_heads(), t).model), Catch::StartsWith("blocks[0].qkv.weight: value ") &&
                                                                    Catch::EndsWith(" is NaN"));
  t = tiny_timm();
  poke(t, "norm.bias", 3, -INFINITY);
  REQUIRE_THROWS_WITH(write_model(convert(two_heads(), t).model), "norm.bias: value 3 is infinite");
  t = tiny_timm();
  poke(t, "blocks.0.mlp.fc1.weight", 0, 1e6f);
  Options o = two_heads();
  o.dtype = DType::F16;
  REQUIRE_THROWS_WITH(write_model(convert(o, t).model), Catch::Contains("beyond float16's range"));
}
