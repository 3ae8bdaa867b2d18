// The kernel set under test (VITRT_KERNELS, else the default) against the
// portable reference kernels on odd shapes: M, N, K that are no multiple of
// any tile, K = 1, M = 1, every weight format and epilogue, and splits of
// the work as threads make them (bit-identical to one call).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/kernels.h"
#include "quant/quantize.h"
#include "test_values.h"

using namespace vitrt::kernels;

using vitrt::test::bf16;
using vitrt::test::random_floats;
using vitrt::test::random_int8;

namespace {

const Ops& under_test() {
  const char* name = std::getenv("VITRT_KERNELS");
  const Ops* ops = name && *name ? find_ops(name, nullptr) : &default_ops();
  REQUIRE(ops);  // main() skipped unsupported sets
  return *ops;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// (m, n, k) for the GEMMs: tails of every tile, K = 1, M = 1, and one ViT
// shape (M = 197 tokens).
const std::tuple<int, int, int> kGemmShapes[] = {
    {1, 1, 1},   {1, 100, 768}, {2, 5, 7},    {3, 17, 1},   {7, 33, 64},   {13, 47, 129},
    {16, 16, 64}, {17, 48, 65}, {31, 64, 63}, {33, 100, 3}, {197, 80, 192}, {50, 32, 3072}, {197, 50, 600},
    {261, 49, 1540}, {300, 20, 771}};  // past the int8 kernels' 256-row groups and 768-k chunks

}  // namespace

TEST_CASE("kernel set: float gemm matches the reference", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  for (auto [m, n, k] : kGemmShapes) {
    const int ldy = n + 5;
    const auto x = random_floats(size_t(m) * k, 1), wf = random_floats(size_t(n) * k, 2),
               b = random_floats(n, 3);
    std::vector<uint16_t> wh(wf.size());
    for (size_t i = 0; i < wh.size(); ++i) wh[i] = vitrt::conv::float_to_half(wf[i]);
    const auto pf = vitrt::conv::pack_panel16(wf, n, k);
    const auto ph = vitrt::conv::pack_panel16(wh, n, k);
    const FloatWeights formats[] = {{pf.data(), WeightFormat::F32Panel16},
                                    {ph.data(), WeightFormat::F16Panel16},
                                    {wf.data(), WeightFormat::F32RowMajor},
                                    {wh.data(), WeightFormat::F16RowMajor}};
    // |x| |w| summed: the scale of the rounding error of any summation order.
    std::vector<double> mag(size_t(m) * n);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j)
        for (int p = 0; p < k; ++p)
          mag[size_t(i) * n + j] += std::fabs(double(x[size_t(i) * k + p]) * wf[size_t(j) * k + p]);
    std::vector<float> scratch(gemm_scratch_floats(k));
    for (const FloatWeights& w : formats) {
      const size_t elem = w.format == WeightFormat::F32RowMajor || w.format == WeightFormat::F32Panel16 ? 4 : 2;
      for (int mode = 0; mode < 3; ++mode) {  // plain, accumulate, bias + GELU
        const Epilogue e{mode ? b.data() : nullptr, mode == 2 ? Act::GeluErf : Act::None, mode == 1};
        const auto y0 = random_floats(size_t(m) * ldy, 4);
        std::vector<float> want = y0, got = y0, split = y0;
        gemm_f32_ref(x.data(), m, k, w, n, e, want.data(), ldy, scratch.data());
        ops.gemm(x.data(), m, k, w, n, e, got.data(), ldy, scratch.data());
        // Two calls at a panel boundary, as two threads split the columns.
        const int n0 = n > kPanelN ? (n / 2 + kPanelN - 1) / kPanelN * kPanelN : n;
        ops.gemm(x.data(), m, k, w, n0, e, split.data(), ldy, scratch.data());
        if (n0 < n) {
          const FloatWeights w1{static_cast<const uint8_t*>(w.data) + size_t(n0) * k * elem, w.format};
          Epilogue e1 = e;
          if (e1.bias) e1.bias += n0;
          ops.gemm(x.data(), m, k, w1, n - n0, e1, split.data() + n0, ldy, scratch.data());
        }
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < ldy; ++j) {
            const size_t at = size_t(i) * ldy + j;
            INFO("format " << int(w.format) << " mode " << mode << " m " << m << " n " << n
                           << " k " << k << " y[" << i << "][" << j << "]");
            if (j >= n) {
              REQUIRE(same_bits(got[at], y0[at]));
              REQUIRE(same_bits(split[at], y0[at]));
              continue;
            }
            REQUIRE(same_bits(split[at], got[at]));
            const double tol = 2e-6 * (mag[size_t(i) * n + j] + std::fabs(y0[at]) + 1.0);
            REQUIRE(std::fabs(double(got[at]) - want[at]) <= tol);
          }
        }
      }
    }
  }
}

TEST_CASE("kernel set: int8 gemm is bit-identical to the reference", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  for (auto [m, n, k] : kGemmShapes) {
    const int ldy = n + 3;
    const auto wq = random_int8(size_t(n) * k, 6), xq = random_int8(size_t(m) * k, 7);
    const auto packed = vitrt::conv::pack_blocked16x4(wq, n, k);
    auto w_scales = random_floats(n, 8), x_scales = random_floats(m, 9);
    const auto b = random_floats(n, 10);
    for (float& s : w_scales) s = std::fabs(s) * 0.01f + 1e-4f;
    for (float& s : x_scales) s = std::fabs(s) * 0.02f + 1e-4f;
    std::vector<int32_t> sums(n);
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p) sums[j] += wq[size_t(j) * k + p];
    const size_t tile_row = size_t((k + 3) / 4) * 64;
    auto weights = [&](int n0) {
      return Qs8Weights{packed.data() + n0 / 16 * tile_row, w_scales.data() + n0, sums.data() + n0};
    };
    for (int mode = 0; mode < 3; ++mode) {
      const Epilogue e{mode ? b.data() : nullptr, mode == 2 ? Act::GeluErf : Act::None, mode == 1};
      const auto y0 = random_floats(size_t(m) * ldy, 11);
      std::vector<float> want = y0, got = y0, split = y0;
      gemm_qs8_ref(xq.data(), x_scales.data(), m, k, weights(0), n, e, want.data(), ldy);
      ops.gemm_qs8(xq.data(), x_scales.data(), m, k, weights(0), n, e, got.data(), ldy);
      const int n0 = n > 16 ? (n / 2 + 15) / 16 * 16 : n;
      ops.gemm_qs8(xq.data(), x_scales.data(), m, k, weights(0), n0, e, split.data(), ldy);
      if (n0 < n) {
        Epilogue e1 = e;
        if (e1.bias) e1.bias += n0;
        ops.gemm_qs8(xq.data(), x_scales.data(), m, k, weights(n0), n - n0, e1, split.data() + n0, ldy);
      }
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < ldy; ++j) {
          const size_t at = size_t(i) * ldy + j;
          INFO("mode " << mode << " m " << m << " n " << n << " k " << k << " y[" << i << "][" << j << "]");
          if (j >= n) {
            REQUIRE(same_bits(got[at], y0[at]));
            continue;
          }
          REQUIRE(same_bits(split[at], got[at]));
          // The int32 sums are exact and the dequantization is written the
          // same way; only a vectorized GELU may differ (by its accuracy).
          if (mode == 2) REQUIRE(std::fabs(got[at] - want[at]) <= 2e-6f * (std::fabs(want[at]) + 1.f));
          else REQUIRE(same_bits(got[at], want[at]));
        }
      }
    }
  }
}

TEST_CASE("kernel set: int8 quantization gives the reference's bytes", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  const float inf = std::numeric_limits<float>::infinity();
  for (int k : {1, 3, 16, 17, 64, 100, 768}) {
    const int m = 6;
    auto x = random_floats(size_t(m) * k, 12, 5.f);
    for (int p = 0; p < k; ++p) x[size_t(1) * k + p] = 0.f;         // a zero row
    for (int p = 0; p < k; p += 2) x[size_t(2) * k + p] = 0.5f;      // exact halves
    x[size_t(3) * k] = 1e30f;                                        // a huge value
    x[size_t(4) * k + k / 2] = std::numeric_limits<float>::quiet_NaN();
    x[size_t(5) * k + k - 1] = -inf;
    for (float static_scale : {0.f, 0.0625f, 3e-3f}) {
      std::vector<int8_t> want(size_t(m) * k), got(want.size(), 99);
      std::vector<float> want_s(m), got_s(m, -1.f);
      quantize_f32_qs8_ref(x.data(), m, k, static_scale, want.data(), want_s.data());
      ops.quantize_qs8(x.data(), m, k, static_scale, got.data(), got_s.data());
      INFO("k " << k << " static scale " << static_scale);
      REQUIRE(got == want);
      for (int i = 0; i < m; ++i) REQUIRE(same_bits(got_s[i], want_s[i]));
    }
  }
}

// Kernels may divide by multiplying with 1 / scale where that cannot change
// a byte: quotients at and a few ulp around every half-integer, with static
// scales of every kind (subnormal, whose inverse overflows; huge, whose
// inverse is subnormal), must still give the reference's bytes.
TEST_CASE("kernel set: int8 quantization near rounding ties", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  for (float scale : {0.1f, 3e-3f, 1.f / 127.f, 0.7f, 1e-39f, 1e37f, 5.f}) {
    std::vector<float> x;
    for (int n = -130; n <= 130; ++n) {
      float v = (float(n) + 0.5f) * scale;
      for (int u = 0; u < 4; ++u) v = std::nextafter(v, -INFINITY);
      for (int u = 0; u < 9; ++u, v = std::nextafter(v, INFINITY)) x.push_back(v);
    }
    const int k = 9 * 261, m = 1;
    for (float static_scale : {scale, 0.f}) {
      std::vector<int8_t> want(x.size()), got(x.size(), 99);
      float want_s, got_s = -1.f;
      quantize_f32_qs8_ref(x.data(), m, k, static_scale, want.data(), &want_s);
      ops.quantize_qs8(x.data(), m, k, static_scale, got.data(), &got_s);
      INFO("scale " << scale << " static " << static_scale);
      REQUIRE(same_bits(got_s, want_s));
      for (size_t i = 0; i < x.size(); ++i) {
        INFO("x " << x[i] << " at " << i);
        REQUIRE(int(got[i]) == int(want[i]));
      }
    }
  }
}

TEST_CASE("kernel set: attention matches the reference, any row split", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  const std::tuple<int, int, int> shapes[] = {{1, 1, 1},  {2, 3, 5},   {5, 2, 13}, {17, 3, 16},
                                              {50, 1, 64}, {65, 2, 24}, {197, 3, 64}, {33, 4, 80}};
  for (auto [tokens, heads, hd] : shapes) {
    const int inner = heads * hd;
    const auto qkv = random_floats(size_t(tokens) * 3 * inner, 13, 2.f);
    std::vector<float> scratch(attention_scratch_floats(tokens, hd));
    std::vector<float> want(size_t(tokens) * inner), got(want.size(), -9.f), split(want.size(), -9.f);
    const float scale = 1.f / std::sqrt(float(hd));
    attention_f32_ref(qkv.data(), want.data(), scratch.data(), tokens, heads, hd, scale, 0, tokens);
    ops.attention(qkv.data(), got.data(), scratch.data(), tokens, heads, hd, scale, 0, tokens);
    const int r = tokens / 3;
    ops.attention(qkv.data(), split.data(), scratch.data(), tokens, heads, hd, scale, 0, r);
    ops.attention(qkv.data(), split.data(), scratch.data(), tokens, heads, hd, scale, r, tokens);
    for (size_t i = 0; i < want.size(); ++i) {
      INFO("tokens " << tokens << " heads " << heads << " head_dim " << hd << " at " << i);
      REQUIRE(same_bits(split[i], got[i]));
      REQUIRE(std::fabs(got[i] - want[i]) <= 1e-5f * (std::fabs(want[i]) + 1.f));
    }
  }
}

// The bf16 attention against the same arithmetic in double with the
// kernel's roundings (q, k, v and each softmax numerator to bf16, the sum
// of the unrounded numerators): what is left is fp32 summation and a
// numerator's rounding landing on the other bf16 neighbour, at most 2^-8 of
// its weight, plus the sum's 2^-9.
TEST_CASE("kernel set: bf16 attention matches bf16 arithmetic, any row split",
          "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  if (!ops.attention_bf16) {
    WARN("kernel set " << ops.name << " has no bf16 attention: nothing to test");
    return;
  }
  const std::tuple<int, int, int> shapes[] = {{1, 1, 1},   {2, 3, 5},   {5, 2, 13}, {17, 3, 16},
                                              {33, 1, 64}, {65, 2, 24}, {197, 3, 64}, {40, 2, 80},
                                              {19, 1, 130}};
  for (auto [tokens, heads, hd] : shapes) {
    const int inner = heads * hd;
    const auto qkv = random_floats(size_t(tokens) * 3 * inner, 17, 2.f);
    std::vector<float> scratch(attention_scratch_floats(tokens, hd), -7.f);
    std::vector<float> got(size_t(tokens) * inner, -9.f), split(got.size(), -9.f);
    const float scale = 1.f / std::sqrt(float(hd));
    ops.attention_bf16(qkv.data(), got.data(), scratch.data(), tokens, heads, hd, scale, 0, tokens);
    const int r = tokens / 3;
    ops.attention_bf16(qkv.data(), split.data(), scratch.data(), tokens, heads, hd, scale, 0, r);
    ops.attention_bf16(qkv.data(), split.data(), scratch.data(), tokens, heads, hd, scale, r,
                       tokens);
    const size_t ld = 3 * size_t(inner);
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < tokens; ++i) {
        std::vector<double> s(tokens), p(tokens);
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < tokens; ++j) {
          double dot = 0;
          for (int d = 0; d < hd; ++d)
            dot += bf16(qkv[i * ld + h * hd + d]) * bf16(qkv[j * ld + inner + h * hd + d]);
          s[j] = scale * dot;
          mx = std::max(mx, s[j]);
        }
        for (int j = 0; j < tokens; ++j) {
          sum += std::exp(s[j] - mx);
          p[j] = bf16(std::exp(s[j] - mx));
        }
        for (int d = 0; d < hd; ++d) {
          double want = 0, bound = 0;
          for (int j = 0; j < tokens; ++j) {
            const double v = bf16(qkv[j * ld + 2 * inner + h * hd + d]);
            want += p[j] * v / sum;
            bound += p[j] * std::fabs(v) / sum;
          }
          const size_t o = size_t(i) * inner + h * hd + d;
          INFO("tokens " << tokens << " heads " << heads << " head_dim " << hd << " row " << i
                         << " dim " << d);
          REQUIRE(same_bits(split[o], got[o]));
          REQUIRE(std::fabs(got[o] - want) <= std::ldexp(bound, -7) + 1e-5);
        }
      }
  }
}

TEST_CASE("kernel set: layernorm matches the reference", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  for (int dim : {1, 3, 16, 17, 40, 192, 768}) {
    const int rows = 5;
    auto x = random_floats(size_t(rows) * dim, 14, 3.f);
    for (int i = 0; i < dim; ++i) x[size_t(4) * dim + i] = 1000.f + 0.01f * x[size_t(4) * dim + i];
    const auto gamma = random_floats(dim, 15), beta = random_floats(dim, 16);
    for (bool with_beta : {false, true}) {
      std::vector<float> want(x.size()), got = x;  // in place, as the pre-norm blocks do not
      layernorm_f32_ref(x.data(), want.data(), rows, dim, gamma.data(), with_beta ? beta.data() : nullptr, 1e-6f);
      ops.layernorm(got.data(), got.data(), rows, dim, gamma.data(), with_beta ? beta.data() : nullptr, 1e-6f);
      for (int r = 0; r < rows; ++r) {
        // Rounding x to float already costs ulp(mean) / std of the result:
        // the tolerance grows with |mean| / std, as any summation order's.
        double mean = 0, var = 0;
        for (int i = 0; i < dim; ++i) mean += x[size_t(r) * dim + i] / double(dim);
        for (int i = 0; i < dim; ++i) var += std::pow(x[size_t(r) * dim + i] - mean, 2) / dim;
        const double cond = 1 + std::fabs(mean) / std::sqrt(var + 1e-6);
        for (int i = 0; i < dim; ++i) {
          const size_t at = size_t(r) * dim + i;
          INFO("dim " << dim << " row " << r << " at " << i);
          REQUIRE(std::fabs(got[at] - want[at]) <= 1e-5 * cond * (std::fabs(want[at]) + 1.f));
        }
      }
    }
  }
}

TEST_CASE("kernel set: activations match the reference, every tail", "[unit][kernelset]") {
  const Ops& ops = under_test();
  INFO("kernel set " << ops.name);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x;
  for (int i = -20000; i <= 20000; ++i) x.push_back(i * 1e-3f);  // [-20, 20] densely
  for (float v : {1e-30f, -1e-30f, 1e5f, -1e5f, 3e38f, -3e38f, inf, -inf}) x.push_back(v);
  for (Act act : {Act::None, Act::GeluErf, Act::GeluTanh, Act::Relu, Act::Tanh}) {
    for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(17), size_t(33), x.size()}) {
      std::vector<float> want(x.begin(), x.begin() + n), got = want;
      activation_f32_ref(want.data(), n, act);
      ops.activation(got.data(), n, act);
      for (size_t i = 0; i < n; ++i) {
        INFO("act " << int(act) << " n " << n << " x " << x[i]);
        if (std::isnan(want[i])) REQUIRE(std::isnan(got[i]));  // gelu(-inf) = -inf * 0
        else if (std::isinf(want[i])) REQUIRE(got[i] == want[i]);
        else REQUIRE(std::fabs(got[i] - want[i]) <= 2e-6f * std::fmax(1.f, std::fabs(want[i])));
      }
    }
  }
  float nan = std::numeric_limits<float>::quiet_NaN();
  for (Act act : {Act::GeluErf, Act::GeluTanh, Act::Tanh}) {
    float v = nan;
    ops.activation(&v, 1, act);
    REQUIRE(std::isnan(v));
  }
}
