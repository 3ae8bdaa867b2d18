// vitrt_open on damaged or inconsistent files, and the API's call checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/kernels.h"
#include "tiny_model.h"
#include "vitrt/vitrt.hpp"
#include "vitrt/vitrt_generated.h"

using namespace vitrt::test;
namespace s = vitrt::schema;

namespace {

std::vector<uint8_t> tiny_file(TinyOptions o = {}) { return vitrt::conv::write_model(make_tiny(o, 11)); }

vitrt_status open_status(std::vector<uint8_t> file, std::string* error) {
  Aligned bytes(file);
  vitrt_model m;
  const vitrt_status st = vitrt_open(&m, bytes.data(), bytes.size());
  *error = vitrt_last_error(&m);
  return st;
}

// A damaged file must either be refused with a message or run cleanly.
void require_graceful(const std::vector<uint8_t>& file, const std::vector<float>& image,
                      int32_t classes) {
  std::vector<float> logits;
  std::string error;
  const vitrt_status st = open_and_run(file, image, &logits, &error);
  if (st == VITRT_OK) {
    REQUIRE(logits.size() == static_cast<size_t>(classes));
  } else {
    REQUIRE_FALSE(error.empty());
  }
}

}  // namespace

TEST_CASE("writer aligns every tensor to 64 bytes", "[unit][loader]") {
  TinyOptions o;
  o.dist_token = o.patch_norm_in = o.patch_norm_out = o.labels = true;
  const auto file = tiny_file(o);
  Aligned bytes(file);
  const s::Model* m = s::GetModel(bytes.data());
  int checked = 0;
  auto check = [&](const s::Tensor* t) {
    if (!t) return;
    REQUIRE((t->data()->Data() - bytes.data()) % 64 == 0);
    ++checked;
  };
  auto check_linear = [&](const s::Linear* l) { if (l) { check(l->weight()); check(l->bias()); } };
  auto check_norm = [&](const s::Norm* n) { if (n) { check(n->weight()); check(n->bias()); } };
  check_norm(m->patch_norm_in());
  check_linear(m->patch_embed());
  check_norm(m->patch_norm_out());
  check(m->cls_token());
  check(m->dist_token());
  check(m->pos_embed());
  for (const s::Block* b : *m->blocks()) {
    check_norm(b->norm1());
    check_linear(b->qkv());
    check_linear(b->proj());
    check_norm(b->norm2());
    check_linear(b->fc1());
    check_linear(b->fc2());
  }
  check_norm(m->norm());
  check_linear(m->head());
  check_linear(m->head_dist());
  REQUIRE(checked == 6 + 3 + 2 * 12 + 6);  // stem, tokens, blocks, head
  REQUIRE(m->config()->attn_scale() == Approx(1 / 3.0));  // head_dim 9, 0 = default
}

TEST_CASE("wrong identifier, version and shape give specific errors", "[unit][loader]") {
  std::string error;
  auto file = tiny_file();
  std::memcpy(file.data() + 4, "XXXX", 4);
  REQUIRE(open_status(file, &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("VITR") != std::string::npos);

  flatbuffers::FlatBufferBuilder b;
  auto config = s::CreateConfig(b, 8, 8, 3, 4, 4, 8, 1, 1, 8, 8, 2);
  s::ModelBuilder mb(b);
  mb.add_schema_version(2);
  mb.add_config(config);
  s::FinishModelBuffer(b, mb.Finish());
  REQUIRE(open_status({b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()}, &error) ==
          VITRT_ERR_VERSION);

  auto model = make_tiny({}, 12);
  auto& w = model.blocks[1].qkv.weight;
  w.shape = {81, 26};
  w.data.resize(81 * 26);
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "blocks[1].qkv.weight: shape [81,26], expected [81,27]");

  model = make_tiny({}, 12);
  model.config.stem = 1;  // ConvStem without stem_convs
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);

  model = make_tiny({}, 12);
  model.cls_token = {};
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "cls_token: missing");

  model = make_tiny({}, 12);
  model.config.image_w = 7;  // not divisible by patch_w 2
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("divisible") != std::string::npos);
}

namespace {

// A config alone, as a hostile file can state it: no tensor is needed for
// the checks it has to fail.
std::vector<uint8_t> config_only(int32_t image, int32_t channels, int32_t patch, int32_t dim, int32_t depth,
                                 int32_t heads, int32_t mlp) {
  flatbuffers::FlatBufferBuilder b;
  auto config = s::CreateConfig(b, image, image, channels, patch, patch, dim, depth, heads, dim / heads, mlp, 2);
  s::ModelBuilder mb(b);
  mb.add_schema_version(1);
  mb.add_config(config);
  s::FinishModelBuffer(b, mb.Finish());
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

}  // namespace

TEST_CASE("config limits bound the arena and run time a small file can ask for", "[unit][loader]") {
  std::string error;
  // 16384 tokens and no per-token weight: a 2 GiB arena, minutes per run.
  REQUIRE(open_status(config_only(512, 3, 4, 8, 1, 1, 8), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "config.(tokens): 16385, expected 1..4098");
  // At the limits the config passes (the file then lacks its tensors).
  REQUIRE(open_status(config_only(256, 3, 4, 8, 1, 1, 8), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("config.") == std::string::npos);
  REQUIRE(open_status(config_only(4096, 16, 64, 8192, 1, 128, 32768), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("config.") == std::string::npos);
  // ViT-H/16 at 1024 pixels: 32 blocks of 16 heads over 4097 tokens.
  REQUIRE(open_status(config_only(1024, 3, 16, 1280, 32, 16, 5120), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error.find("config.") == std::string::npos);
  // Tiny weights, but 128 blocks of 128 heads over 4097 tokens.
  REQUIRE(open_status(config_only(256, 3, 4, 128, 128, 128, 8), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "config.(depth*heads*tokens^2): 275012141056, expected 1..17179869184");
  const struct {
    std::vector<uint8_t> file;
    const char* says;
  } over[] = {
      {config_only(4160, 3, 65, 8, 1, 1, 8), "config.image_h: 4160, expected 1..4096"},
      {config_only(130, 3, 65, 8, 1, 1, 8), "config.patch_h: 65, expected 1..64"},
      {config_only(64, 17, 4, 8, 1, 1, 8), "config.channels: 17, expected 1..16"},
      {config_only(64, 3, 4, 8200, 1, 1, 8), "config.dim: 8200, expected 1..8192"},
      {config_only(64, 3, 4, 8, 129, 1, 8), "config.depth: 129, expected 1..128"},
      {config_only(64, 3, 4, 129, 1, 129, 8), "config.heads: 129, expected 1..128"},
      {config_only(64, 3, 4, 8, 1, 1, 32769), "config.mlp_dim: 32769, expected 1..32768"},
  };
  for (const auto& o : over) {
    REQUIRE(open_status(o.file, &error) == VITRT_ERR_INVALID_MODEL);
    REQUIRE(error == o.says);
  }
}

TEST_CASE("preprocessing values the host computes with are range-checked", "[unit][loader]") {
  std::string error;
  // floor(image side / crop_pct) is an int on the host: no overflow, no NaN.
  for (float crop : {1e-30f, 0.05f, 1.5f, NAN, INFINITY}) {
    auto model = make_tiny({}, 12);
    model.preprocess.crop_pct = crop;
    INFO("crop_pct " << crop);
    REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);
    REQUIRE(error == "preprocess.crop_pct: outside 0.1..1");
  }
  auto model = make_tiny({}, 12);
  model.preprocess.crop_pct = 0.1f;
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_OK);
  model.preprocess.mean[1] = NAN;
  REQUIRE(open_status(vitrt::conv::write_model(model), &error) == VITRT_ERR_INVALID_MODEL);
  REQUIRE(error == "preprocess.mean[1]: not finite");
}

TEST_CASE("truncated files never crash", "[unit][loader]") {
  const auto model = make_tiny({}, 13);
  const auto file = vitrt::conv::write_model(model);
  const auto image = random_image(model, 14);
  const size_t step = file.size() / 500 + 1;
  for (size_t len = 0; len < file.size(); len += step) {
    INFO("length " << len);
    require_graceful({file.begin(), file.begin() + len}, image, model.config.num_classes);
  }
}

TEST_CASE("bit-flipped files never crash", "[unit][loader]") {
  TinyOptions o;
  o.labels = true;
  const auto model = make_tiny(o, 15);
  const auto file = vitrt::conv::write_model(model);
  const auto image = random_image(model, 16);
  const size_t step = file.size() / 3000 + 1;
  int refused = 0;
  for (size_t pos = 0; pos < file.size(); pos += step) {
    INFO("flipped byte " << pos);
    auto bad = file;
    bad[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
    std::vector<float> logits;
    std::string error;
    if (open_and_run(bad, image, &logits, &error) != VITRT_OK) {
      REQUIRE_FALSE(error.empty());
      ++refused;
    }
  }
  REQUIRE(refused > 0);  // the structure bytes were hit
}

TEST_CASE("API checks alignment, arena size and call order", "[unit][loader]") {
  TinyOptions o;
  o.labels = true;
  const auto model = make_tiny(o, 17);
  const auto file = vitrt::conv::write_model(model);
  const auto image = random_image(model, 18);

  Aligned shifted(file, 4);
  vitrt_model m;
  REQUIRE(vitrt_open(&m, shifted.data(), shifted.size()) == VITRT_ERR_ALIGNMENT);
  REQUIRE(vitrt_arena_size(&m) == 0);

  Aligned bytes(file);
  REQUIRE(vitrt_open(&m, bytes.data(), bytes.size()) == VITRT_OK);
  REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_ERR_STATE);
  REQUIRE(vitrt_logits(&m) == nullptr);
  const size_t need = vitrt_arena_size(&m);
  REQUIRE(need % 64 == 0);

  Aligned arena(need + 64);
  REQUIRE(vitrt_bind_arena(&m, arena.data() + 16, need) == VITRT_ERR_ALIGNMENT);
  REQUIRE(vitrt_bind_arena(&m, arena.data(), need - 64) == VITRT_ERR_ARENA_TOO_SMALL);
  REQUIRE(std::string(vitrt_last_error(&m)) ==
          "arena has " + std::to_string(need - 64) + " bytes, model needs " + std::to_string(need));
  REQUIRE(vitrt_bind_arena(&m, arena.data(), need) == VITRT_OK);
  REQUIRE(vitrt_run(&m, image.data(), image.size() - 1) == VITRT_ERR_INVALID_ARGUMENT);
  REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_OK);
  REQUIRE(vitrt_logits(&m) != nullptr);

  // More threads need more scratch: the old binding is dropped.
  REQUIRE(vitrt_set_parallel(&m, nullptr, nullptr, 2) == VITRT_ERR_INVALID_ARGUMENT);
  auto serial = [](void*, vitrt_task_fn fn, void* ctx, int n) { for (int t = n - 1; t >= 0; --t) fn(ctx, t); };
  REQUIRE(vitrt_set_parallel(&m, serial, nullptr, 4) == VITRT_OK);
  REQUIRE(vitrt_arena_size(&m) > need);
  REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_ERR_STATE);

  vitrt_info info;
  REQUIRE(vitrt_get_info(&m, &info) == VITRT_OK);
  REQUIRE(info.num_tokens == 13);
  REQUIRE(info.channels == 3);
  REQUIRE(info.std[0] == 0.25f);
  REQUIRE(std::string(vitrt_label(&m, 6)) == "class 6");
  REQUIRE(vitrt_label(&m, 7) == nullptr);
  REQUIRE(vitrt_open(nullptr, bytes.data(), bytes.size()) == VITRT_ERR_INVALID_ARGUMENT);
}

TEST_CASE("kernel sets: forcing one the CPU lacks is a clear error", "[unit][kernels]") {
  const auto model = vitrt::test::make_tiny({}, 31);
  vitrt::test::Aligned file(vitrt::conv::write_model(model));
  vitrt::Model m;
  REQUIRE(m.open(file.data(), file.size()) == VITRT_OK);
  const char* const* names;
  const int count = vitrt_kernel_sets(&names);
  REQUIRE(count >= 1);
  REQUIRE(std::string(names[count - 1]) == "ref");  // the portable set is always last and there
  std::string all;  // ctest runs the suite once per set of its own list
  for (int i = 0; i < count; ++i) all += (i ? " " : "") + std::string(names[i]);
  REQUIRE(all == VITRT_TEST_KERNEL_SETS);
  for (int i = 0; i < count; ++i) {
    const char* why = nullptr;
    const bool supported = vitrt_kernels_supported(names[i], &why) != 0;
    INFO("set " << names[i] << ": " << why);
    REQUIRE(why != nullptr);
    if (supported) {
      REQUIRE(m.set_kernels(names[i]) == VITRT_OK);
      REQUIRE(std::string(m.kernels()) == names[i]);
    } else {
      REQUIRE(m.set_kernels(names[i]) == VITRT_ERR_UNSUPPORTED);
      REQUIRE(std::string(vitrt_last_error(m.handle())).find(why) != std::string::npos);
    }
  }
  REQUIRE(m.set_kernels("sse9") == VITRT_ERR_UNSUPPORTED);
  REQUIRE(std::string(vitrt_last_error(m.handle())) ==
          "kernel set sse9: no kernel set of that name in this build (kernel sets: " + all + ")");
  REQUIRE(m.set_kernels(nullptr) == VITRT_OK);  // back to the fastest
  REQUIRE(std::string(m.kernels()) == vitrt::kernels::default_ops().name);
  REQUIRE(vitrt_kernels_supported(nullptr, nullptr) == 0);
}

TEST_CASE("kernel sets: a set needing another arena drops the binding", "[unit][kernels]") {
  const auto model = vitrt::test::make_tiny({}, 33);  // fp32 Panel16 weights
  Aligned file(vitrt::conv::write_model(model));
  const auto image = vitrt::test::random_image(model, 34);
  vitrt_model m;
  REQUIRE(vitrt_open(&m, file.data(), file.size()) == VITRT_OK);
  const char* const* names;
  const int count = vitrt_kernel_sets(&names);
  int switched = 0;
  for (int i = 0; i < count; ++i) {
    if (!vitrt_kernels_supported(names[i], nullptr)) continue;
    REQUIRE(vitrt_set_kernels(&m, nullptr) == VITRT_OK);
    const size_t need = vitrt_arena_size(&m);
    Aligned arena(need);
    REQUIRE(vitrt_bind_arena(&m, arena.data(), need) == VITRT_OK);
    REQUIRE(vitrt_set_kernels(&m, names[i]) == VITRT_OK);
    const size_t need_i = vitrt_arena_size(&m);
    INFO("set " << names[i] << ": arena " << need_i << " bytes, default " << need);
    if (need_i == need) {
      REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_OK);
      continue;
    }
    ++switched;  // e.g. xnnpack: scratch to pack fp32 weights in
    REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_ERR_STATE);
    REQUIRE(std::string(vitrt_last_error(&m)).find("vitrt_set_kernels") != std::string::npos);
    Aligned bigger(need_i);
    REQUIRE(vitrt_bind_arena(&m, bigger.data(), need_i) == VITRT_OK);
    REQUIRE(vitrt_run(&m, image.data(), image.size()) == VITRT_OK);
  }
  const bool xnnpack = vitrt_kernels_supported("xnnpack", nullptr) != 0;
  REQUIRE(switched == (xnnpack ? 1 : 0));
}

TEST_CASE("kernel sets: VITRT_KERNELS naming an unknown set makes vitrt_open fail", "[unit][kernels]") {
  const auto model = vitrt::test::make_tiny({}, 32);
  vitrt::test::Aligned file(vitrt::conv::write_model(model));
  const char* before = std::getenv("VITRT_KERNELS");  // the set under test
  const std::string saved = before ? before : "";
  setenv("VITRT_KERNELS", "sse9", 1);
  vitrt_model m;
  const vitrt_status status = vitrt_open(&m, file.data(), file.size());
  const std::string error = vitrt_last_error(&m);
  if (before) setenv("VITRT_KERNELS", saved.c_str(), 1);
  else unsetenv("VITRT_KERNELS");
  REQUIRE(status == VITRT_ERR_UNSUPPORTED);
  REQUIRE(error.rfind("VITRT_KERNELS=sse9: no kernel set of that name in this build", 0) == 0);
}
