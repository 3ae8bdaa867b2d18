// The writer's weight encodings: fp16 rounding, per-channel int8
// quantization, Blocked16x4 packing, and which Linears --dtype / --keep-float
// select.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "options.h"
#include "quant/quantize.h"
#include "readers/tensors.h"
#include "vitrt/vitrt_generated.h"

using namespace vitrt::conv;

namespace {

float bits_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

Model tiny_model(int depth) {
  Model m;
  auto lin = [](int out, int in) {
    Linear l;
    l.weight.shape = {out, in};
    l.weight.data.assign(size_t(out) * in, 0.5f);
    return l;
  };
  m.patch_embed = lin(4, 3);
  for (int i = 0; i < depth; ++i) m.blocks.push_back({{}, lin(12, 4), lin(4, 4), {}, lin(8, 4), lin(4, 8)});
  m.pre_logits.push_back(lin(5, 4));
  m.head = lin(2, 5);
  m.head_dist = lin(2, 4);
  return m;
}

}  // namespace

TEST_CASE("float_to_half rounds to nearest even", "[unit][quantize]") {
  // Every finite half converts back to itself (half_to_float is the reader's).
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    INFO("half 0x" << std::hex << h);
    REQUIRE(float_to_half(half_to_float(uint16_t(h))) == h);
  }
  CHECK(float_to_half(1.f) == 0x3c00);
  CHECK(float_to_half(-0.f) == 0x8000);
  CHECK(float_to_half(65504.f) == 0x7bff);
  CHECK(float_to_half(65519.f) == 0x7bff);           // below the halfway point to 65536
  CHECK(float_to_half(65520.f) == 0x7c00);           // halfway: even is infinity
  CHECK(float_to_half(1.f + 0x1p-11f) == 0x3c00);    // tie: down to even
  CHECK(float_to_half(1.f + 3 * 0x1p-11f) == 0x3c02);  // tie: up to even
  CHECK(float_to_half(0x1p-24f) == 0x0001);          // smallest subnormal
  CHECK(float_to_half(0x1p-25f) == 0x0000);          // tie with zero: even
  CHECK(float_to_half(1.5f * 0x1p-25f) == 0x0001);
  CHECK(float_to_half(0x1.ffcp-15f) == 0x0400);      // tie: up to even, the first normal
  CHECK(float_to_half(INFINITY) == 0x7c00);
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));

  // Random floats: the nearest half of the two neighbours, ties to even.
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> u(0x30000000u, 0x47800000u);  // ~1e-9 .. 65536
  for (int i = 0; i < 20000; ++i) {
    const float v = bits_float(u(rng));
    const uint16_t h = float_to_half(v);
    const double err = std::fabs(double(half_to_float(h)) - v);
    INFO("value " << v << " half 0x" << std::hex << h);
    if (h < 0x7bff) REQUIRE(err <= std::fabs(double(half_to_float(uint16_t(h + 1))) - v));
    if (h > 0) REQUIRE(err <= std::fabs(double(half_to_float(uint16_t(h - 1))) - v));
  }
}

TEST_CASE("per-channel int8 quantization round-trips within half a step", "[unit][quantize]") {
  const int n = 7, k = 13;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> w(size_t(n) * k);
  for (size_t i = 0; i < w.size(); ++i) w[i] = u(rng) * float(i / k + 1);  // rows of different range
  for (int c = 0; c < k; ++c) w[size_t(3) * k + c] = 0.f;                  // an all-zero row
  const QuantizedWeight q = quantize_per_channel(w, n, k);
  for (int r = 0; r < n; ++r) {
    double amax = 0;
    int qmax = 0, sum = 0;
    for (int c = 0; c < k; ++c) amax = std::max(amax, std::fabs(double(w[size_t(r) * k + c])));
    const double s = q.scales[r];
    INFO("row " << r);
    REQUIRE(s == (amax > 0 ? Approx(amax / 127).epsilon(1e-6) : Approx(1.0)));
    for (int c = 0; c < k; ++c) {
      const int v = q.q[size_t(r) * k + c];
      REQUIRE(std::fabs(w[size_t(r) * k + c] - v * s) <= s / 2 * (1 + 1e-6));
      qmax = std::max(qmax, std::abs(v));
      sum += v;
    }
    REQUIRE(qmax == (amax > 0 ? 127 : 0));
    REQUIRE(q.sums[r] == sum);
  }
  REQUIRE_THROWS_WITH(quantize_per_channel({1.f, NAN}, 1, 2), Catch::Contains("not finite"));
}

TEST_CASE("Blocked16x4 packs [N/16][K/4][16][4] with zero padding", "[unit][quantize]") {
  for (auto [n, k] : {std::pair{7, 13}, {33, 70}, {16, 4}, {1, 1}}) {
    INFO(n << " x " << k);
    const int nb = (n + 15) / 16, kb = (k + 3) / 4;
    REQUIRE(blocked16x4_size(n, k) == size_t(nb) * kb * 64);
    std::vector<int8_t> q(size_t(n) * k);
    for (size_t i = 0; i < q.size(); ++i) q[i] = int8_t(i % 127 + 1);  // never 0
    const auto packed = pack_blocked16x4(q, n, k);
    REQUIRE(packed.size() == blocked16x4_size(n, k));
    // Walk the tiles in storage order with a running position.
    size_t pos = 0;
    for (int b = 0; b < nb; ++b)
      for (int kk = 0; kk < kb; ++kk)
        for (int lane = 0; lane < 16; ++lane)
          for (int e = 0; e < 4; ++e, ++pos) {
            const int row = b * 16 + lane, col = kk * 4 + e;
            if (row < n && col < k) {
              REQUIRE(blocked16x4_index(row, col, k) == pos);
              REQUIRE(packed[pos] == q[size_t(row) * k + col]);
            } else {
              REQUIRE(packed[pos] == 0);
            }
          }
  }
}

TEST_CASE("--dtype and --keep-float pick the encoded Linears", "[unit][quantize]") {
  Options o = parse_options({"ck", "-o", "x", "--dtype", "int8", "--keep-float", "blocks.1,head,fc2"});
  REQUIRE(o.dtype == DType::I8);
  REQUIRE(o.keep_float == std::vector<std::string>{"blocks.1", "head", "fc2"});
  REQUIRE(parse_options({"ck", "-o", "x", "--dtype=fp16"}).dtype == DType::F16);
  REQUIRE_THROWS_WITH(parse_options({"ck", "-o", "x", "--dtype", "int4"}), Catch::Contains("fp32, fp16 or int8"));
  REQUIRE_THROWS_WITH(parse_options({"ck", "-o", "x", "--dtype", "int8", "--keep-float", "mlp"}),
                      Catch::Contains("blocks.N"));
  REQUIRE_THROWS_WITH(parse_options({"ck", "-o", "x", "--keep-float", "head"}),
                      Catch::Contains("needs --dtype fp16 or int8"));

  Model m = tiny_model(3);
  set_weight_dtype(m, DType::I8, o.keep_float);
  CHECK(m.patch_embed.weight.dtype == DType::I8);
  for (int i = 0; i < 3; ++i) {
    const Block& b = m.blocks[i];
    const DType want = i == 1 ? DType::F32 : DType::I8;
    CHECK(b.qkv.weight.dtype == want);
    CHECK(b.proj.weight.dtype == want);
    CHECK(b.fc1.weight.dtype == want);
    CHECK(b.fc2.weight.dtype == DType::F32);
  }
  CHECK(m.pre_logits[0].weight.dtype == DType::F32);
  CHECK(m.head.weight.dtype == DType::F32);
  CHECK(m.head_dist.weight.dtype == DType::F32);
  CHECK(m.blocks[0].qkv.bias.dtype == DType::F32);  // biases are never encoded

  set_weight_dtype(m, DType::F16, {});  // default: every Linear weight
  CHECK(m.patch_embed.weight.dtype == DType::F16);
  CHECK(m.blocks[1].fc2.weight.dtype == DType::F16);
  CHECK(m.head_dist.weight.dtype == DType::F16);
  REQUIRE_THROWS_WITH(set_weight_dtype(m, DType::I8, {"blocks.3"}), Catch::Contains("the model has 3 blocks"));
}

TEST_CASE("the writer stores what each dtype asks for", "[unit][quantize]") {
  Model m = tiny_model(1);
  m.config = Config{8, 8, 3, 4, 4, 4, 1, 1, 4, 8, 2};
  m.head.weight.data = {0.f, 1.f, -2.f, 0.5f, 0.25f, 3.f, 2.f, 1.f, -1.f, 0.f};
  m.head.weight.dtype = DType::I8;
  m.head.input_scale = 0.125f;
  m.head_dist.weight.dtype = DType::F16;
  const auto file = write_model(m);
  const vitrt::schema::Model* f = vitrt::schema::GetModel(file.data());

  const auto* head = f->head()->weight();
  REQUIRE(head->dtype() == vitrt::schema::DType::I8);
  REQUIRE(head->layout() == vitrt::schema::WeightLayout::Blocked16x4);
  REQUIRE(f->head()->input_scale() == 0.125f);
  REQUIRE(head->data()->size() == 16 * 8);  // 2 x 5 padded to 16 x 8
  REQUIRE(std::vector<float>(head->scales()->begin(), head->scales()->end()) ==
          std::vector<float>{2.f / 127, 3.f / 127});
  REQUIRE(std::vector<int32_t>(head->channel_sums()->begin(), head->channel_sums()->end()) ==
          std::vector<int32_t>{0 + 64 - 127 + 32 + 16, 127 + 85 + 42 - 42 + 0});
  const auto* row1 = head->data()->data() + 4;  // row 1 is lane 1 of the first tile
  REQUIRE(std::vector<int8_t>(row1, row1 + 4) == std::vector<int8_t>{127, 85, 42, -42});

  const auto* dist = f->head_dist()->weight();
  REQUIRE(dist->dtype() == vitrt::schema::DType::F16);
  REQUIRE(dist->layout() == vitrt::schema::WeightLayout::Panel16);
  REQUIRE(dist->data()->size() == 16 * 4 * 2);  // 2 x 4 halves padded to one 16-row panel
  uint16_t w10;  // row 1, column 0: lane 1 of the panel's first 16-wide row
  std::memcpy(&w10, dist->data()->data() + 2, 2);
  REQUIRE(w10 == vitrt::conv::float_to_half(m.head_dist.weight.data[4]));
  REQUIRE(!dist->scales());
  REQUIRE(f->blocks()->Get(0)->qkv()->weight()->dtype() == vitrt::schema::DType::F32);
}
