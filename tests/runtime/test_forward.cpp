// Whole tiny models through the runtime against reference_vit.cpp.
#include <catch2/catch.hpp>

#include <thread>

#include "quant/quantize.h"
#include "reference_vit.h"
#include "tiny_model.h"
#include "vitrt/vitrt.hpp"

using namespace vitrt::test;

namespace {

void check_against_reference(const TinyOptions& o, uint32_t seed) {
  const auto model = make_tiny(o, seed);
  const auto image = random_image(model, seed + 1);
  std::vector<float> logits;
  std::string error;
  REQUIRE(open_and_run(vitrt::conv::write_model(model), image, &logits, &error) == VITRT_OK);
  const std::vector<double> want = reference_logits(model, image);
  REQUIRE(logits.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("logit " << i);
    REQUIRE(logits[i] == Approx(want[i]).margin(1e-4).epsilon(1e-4));
  }
}

// Runs every task on its own std::thread.
void thread_pool(void*, vitrt_task_fn fn, void* ctx, int ntasks) {
  std::vector<std::thread> threads;
  for (int t = 0; t < ntasks; ++t) threads.emplace_back(fn, ctx, t);
  for (auto& t : threads) t.join();
}

}  // namespace

TEST_CASE("pre-norm ViT with class token matches the reference", "[unit][forward]") {
  check_against_reference(TinyOptions{}, 1);
}

TEST_CASE("post-norm ViT matches the reference", "[unit][forward]") {
  TinyOptions o;
  o.norm_placement = 1;
  o.final_norm = false;
  check_against_reference(o, 2);
}

TEST_CASE("mean pooling variants match the reference", "[unit][forward]") {
  TinyOptions o;
  o.pooling = 1;  // MeanPatches
  o.fc_norm = true;
  o.final_norm = false;
  o.pos_patches_only = true;
  check_against_reference(o, 3);
  o.pooling = 2;  // MeanAll
  o.class_token = false;
  o.pos_patches_only = false;
  check_against_reference(o, 4);
}

TEST_CASE("DeiT distillation token matches the reference", "[unit][forward]") {
  TinyOptions o;
  o.dist_token = true;
  check_against_reference(o, 5);
}

TEST_CASE("no proj, vit-pytorch patch norms, pre_logits and other activations", "[unit][forward]") {
  TinyOptions o;
  o.proj = false;  // heads * head_dim == dim
  o.patch_norm_in = o.patch_norm_out = true;
  o.mlp_activation = 2;  // GeluTanh
  o.pre_logits = 11;
  o.pre_logits_act = 4;  // Tanh
  check_against_reference(o, 6);
  o.mlp_activation = 3;  // Relu
  o.biases = false;
  o.pos_embed = 0;
  o.depth = 1;
  check_against_reference(o, 7);
}

TEST_CASE("threads give the same logits as one thread", "[unit][forward]") {
  TinyOptions o;
  o.dim = 40;  // enough output features to split four ways
  auto model = make_tiny(o, 8);
  const auto image = random_image(model, 9);
  for (auto dtype : {vitrt::conv::DType::F32, vitrt::conv::DType::F16, vitrt::conv::DType::I8}) {
    vitrt::conv::set_weight_dtype(model, dtype, {});
    const auto file = vitrt::conv::write_model(model);
    std::vector<float> one, many;
    std::string error;
    REQUIRE(open_and_run(file, image, &one, &error) == VITRT_OK);
    for (int threads : {2, 3, 4}) {
      INFO("dtype " << int(dtype) << ", threads " << threads);
      REQUIRE(open_and_run(file, image, &many, &error, threads, thread_pool) == VITRT_OK);
      REQUIRE(many == one);  // same tiles, same arithmetic: bitwise equal
    }
  }
}

TEST_CASE("C++ wrapper runs like the C API", "[unit][forward]") {
  const auto model = make_tiny({}, 10);
  const auto file = vitrt::conv::write_model(model);
  const auto image = random_image(model, 11);
  std::vector<float> want;
  std::string error;
  REQUIRE(open_and_run(file, image, &want, &error) == VITRT_OK);

  Aligned bytes(file);
  vitrt::Model m;
  REQUIRE(m.logits() == nullptr);
  REQUIRE(m.open(bytes.data(), bytes.size()) == VITRT_OK);
  Aligned arena(m.arena_size());
  REQUIRE(m.bind_arena(arena.data(), arena.size()) == VITRT_OK);
  REQUIRE(m.run(image.data(), image.size()) == VITRT_OK);
  REQUIRE(std::vector<float>(m.logits(), m.logits() + want.size()) == want);
  REQUIRE(m.run(image.data(), 3) == VITRT_ERR_INVALID_ARGUMENT);
  REQUIRE(std::string(m.last_error()).find("input must be") == 0);
}
