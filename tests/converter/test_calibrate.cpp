// --calib / --report pieces on known data: input ranges and static scales,
// the agreement statistics, image discovery and the option checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "quant/calibrate.h"
#include "options.h"
#include "quant/quantize.h"
#include "quant/report.h"

using namespace vitrt::conv;
namespace fs = std::filesystem;

namespace {

Model two_block_model() {
  Model m;
  auto lin = [](Linear& l) {
    l.weight.shape = {2, 2};
    l.weight.data.assign(4, 0.5f);
  };
  lin(m.patch_embed);
  m.blocks.resize(2);
  for (Block& b : m.blocks)
    for (Linear* l : {&b.qkv, &b.proj, &b.fc1, &b.fc2}) lin(*l);
  m.blocks[1].proj = Linear{};  // identity: absent
  lin(m.head);
  return m;
}

vitrt_linear_event event(const char* name, const std::vector<float>& x) {
  return {name, 1, int32_t(x.size()), 0, x.data(), nullptr};
}

}  // namespace

TEST_CASE("named_linears uses the runtime's names, in run order, skipping absent Linears", "[unit][calib]") {
  Model m = two_block_model();
  std::vector<std::string> names;
  for (auto& [name, l] : named_linears(m)) names.push_back(name);
  REQUIRE(names == std::vector<std::string>{"patch_embed", "blocks.0.qkv", "blocks.0.proj", "blocks.0.fc1",
                                            "blocks.0.fc2", "blocks.1.qkv", "blocks.1.fc1", "blocks.1.fc2", "head"});
}

TEST_CASE("static input scales are max |input| / 127 over every observed run", "[unit][calib]") {
  REQUIRE(static_input_scale(2.54f) == Approx(0.02f));
  REQUIRE(static_input_scale(127.f) == 1.f);
  REQUIRE(static_input_scale(0.f) == 1.f);  // all-zero inputs, as per token

  Model m = two_block_model();
  set_weight_dtype(m, DType::I8, {"blocks.1"});  // blocks.1 stays fp32: no static scale
  InputRanges ranges;
  const std::vector<float> a{0.5f, -3.5f, 1.f}, b{2.f, 3.f}, zero{0.f, 0.f};
  for (const auto& [name, l] : named_linears(m)) {
    const auto e = event(name.c_str(), a);
    InputRanges::observe(&ranges, &e);
  }
  const auto e = event("blocks.0.fc1", b);  // a second image: smaller maximum
  InputRanges::observe(&ranges, &e);
  const auto z = event("head", zero);
  InputRanges::observe(&ranges, &z);
  REQUIRE(ranges.absmax().at("blocks.0.fc1") == 3.5f);
  set_input_scales(m, ranges);
  REQUIRE(m.patch_embed.input_scale == Approx(3.5f / 127));
  REQUIRE(m.blocks[0].fc1.input_scale == Approx(3.5f / 127));
  REQUIRE(m.head.input_scale == Approx(3.5f / 127));
  REQUIRE(m.blocks[1].qkv.input_scale == 0.f);
  REQUIRE(m.blocks[1].fc2.input_scale == 0.f);

  InputRanges partial;
  const auto only = event("patch_embed", a);
  InputRanges::observe(&partial, &only);
  REQUIRE_THROWS_WITH(set_input_scales(m, partial), "calibration did not observe blocks.0.qkv");
}

TEST_CASE("agreement: mean cosine per image, SQNR from summed energies", "[unit][calib]") {
  Agreement a;
  const float r1[] = {1, 0, 0, 0}, q1[] = {1, 0.1f, 0, 0};
  a.add(r1, q1, 4);
  REQUIRE(a.mean_cosine() == Approx(1 / std::sqrt(1.01)));
  REQUIRE(a.sqnr_db() == Approx(20.0).epsilon(1e-5));  // 1 / 0.01
  const float r2[] = {0, 2, 0, 0};
  a.add(r2, r2, 4);
  REQUIRE(a.mean_cosine() == Approx((1 / std::sqrt(1.01) + 1) / 2));
  REQUIRE(a.sqnr_db() == Approx(10 * std::log10(500.0)).epsilon(1e-5));  // (1 + 4) / 0.01

  Agreement same;
  const float zero[] = {0, 0};
  same.add(zero, zero, 2);
  REQUIRE(same.mean_cosine() == 1.0);
  REQUIRE(std::isinf(same.sqnr_db()));
  const float one[] = {1, 0};
  same.add(zero, one, 2);
  REQUIRE(same.mean_cosine() == 0.5);
}

TEST_CASE("calibration images are found recursively, sorted, by extension", "[unit][calib]") {
  const fs::path dir = fs::temp_directory_path() / ("vitrt_calib_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub" / "empty");
  for (const char* f : {"b.png", "sub/a.JPG", "notes.txt", "sub/c.bmp"}) std::ofstream(dir / f) << "x";
  const std::vector<std::string> want{(dir / "b.png").string(), (dir / "sub/a.JPG").string(),
                                     (dir / "sub/c.bmp").string()};
  REQUIRE(find_images(dir.string()) == want);
  REQUIRE_THROWS_WITH(find_images((dir / "sub/empty").string()), Catch::Contains("no images"));
  REQUIRE_THROWS_WITH(find_images((dir / "missing").string()), Catch::Contains("no such directory"));
  REQUIRE_THROWS_WITH(find_images((dir / "b.png").string()), Catch::Contains("not a directory"));
  fs::remove_all(dir);
}

TEST_CASE("--calib and --report option checks", "[unit][calib]") {
  const std::vector<std::string> base{"m.safetensors", "-o", "m.vitrt"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return parse_options(args);
  };
  REQUIRE(with({"--dtype", "int8", "--calib", "imgs"}).calib_dir == "imgs");
  REQUIRE(with({"--dtype", "fp16", "--calib", "imgs", "--report"}).report);
  REQUIRE_THROWS_WITH(with({"--calib", "imgs"}), "--calib needs --dtype int8 (or --report)");
  REQUIRE_THROWS_WITH(with({"--dtype", "fp16", "--calib", "imgs"}), "--calib needs --dtype int8 (or --report)");
  REQUIRE_THROWS_WITH(with({"--dtype", "int8", "--report"}), "--report needs --calib DIR and --dtype fp16 or int8");
  REQUIRE_THROWS_WITH(with({"--calib", "imgs", "--report"}), "--report needs --calib DIR and --dtype fp16 or int8");
}
