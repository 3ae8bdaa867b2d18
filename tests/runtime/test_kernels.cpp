// Reference kernels against straightforward double-precision loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/kernels.h"
#include "quant/quantize.h"
#include "test_values.h"

using namespace vitrt::kernels;
using vitrt::test::half_value;
using vitrt::test::random_floats;

TEST_CASE("float gemm matches a double loop for every weight format", "[unit][kernels]") {
  const std::tuple<int, int, int> shapes[] = {{7, 13, 5}, {1, 1, 1}, {4, 4, 4}, {9, 6, 33},
                                              {5, 17, 64}, {3, 33, 70}};
  for (auto [m, n, k] : shapes) {
    const int ldy = n + 3;  // a row stride wider than n, as when threads split y
    const auto x = random_floats(m * k, 1), wf = random_floats(n * k, 2), b = random_floats(n, 3);
    std::vector<uint16_t> wh(wf.size());
    for (size_t i = 0; i < wh.size(); ++i) wh[i] = vitrt::conv::float_to_half(wf[i]);
    const auto pf = vitrt::conv::pack_panel16(wf, n, k);
    const auto ph = vitrt::conv::pack_panel16(wh, n, k);
    const FloatWeights formats[] = {{wf.data(), WeightFormat::F32RowMajor},
                                    {wh.data(), WeightFormat::F16RowMajor},
                                    {pf.data(), WeightFormat::F32Panel16},
                                    {ph.data(), WeightFormat::F16Panel16}};
    std::vector<float> scratch(gemm_scratch_floats(k));
    for (const FloatWeights& w : formats) {
      const bool f16 = w.format == WeightFormat::F16RowMajor || w.format == WeightFormat::F16Panel16;
      for (int mode = 0; mode < 3; ++mode) {  // plain, accumulate, GELU
        for (bool with_bias : {false, true}) {
          const Epilogue e{with_bias ? b.data() : nullptr, mode == 2 ? Act::GeluErf : Act::None,
                           mode == 1};
          std::vector<float> y = random_floats(m * ldy, 4);
          const std::vector<float> y0 = y;
          gemm_f32_ref(x.data(), m, k, w, n, e, y.data(), ldy, scratch.data());
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < ldy; ++j) {
              INFO("format " << int(w.format) << " m " << m << " n " << n << " k " << k << " mode "
                             << mode << " y[" << i << "][" << j << "]");
              if (j >= n) {  // padding columns untouched
                REQUIRE(y[i * ldy + j] == y0[i * ldy + j]);
                continue;
              }
              double s = with_bias ? b[j] : 0.0;
              for (int p = 0; p < k; ++p)
                s += double(x[i * k + p]) * (f16 ? half_value(wh[j * k + p]) : wf[j * k + p]);
              if (mode == 1) s += y0[i * ldy + j];
              if (mode == 2) s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
              REQUIRE(y[i * ldy + j] == Approx(s).margin(1e-5));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("layernorm normalises rows and matches a double loop", "[unit][kernels]") {
  const int rows = 3, dim = 13;
  const auto x = random_floats(rows * dim, 5, 4.f);
  std::vector<float> ones(dim, 1.f), y(rows * dim);
  layernorm_f32_ref(x.data(), y.data(), rows, dim, ones.data(), nullptr, 1e-6f);
  for (int r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < dim; ++i) mean += y[r * dim + i];
    mean /= dim;
    for (int i = 0; i < dim; ++i) var += (y[r * dim + i] - mean) * (y[r * dim + i] - mean);
    REQUIRE(mean == Approx(0).margin(1e-5));
    REQUIRE(var / dim == Approx(1).epsilon(1e-4));
  }
  // With affine parameters, in place.
  const auto g = random_floats(dim, 6), b = random_floats(dim, 7);
  std::vector<float> z = x;
  layernorm_f32_ref(z.data(), z.data(), rows, dim, g.data(), b.data(), 1e-5f);
  for (int r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < dim; ++i) mean += x[r * dim + i];
    mean /= dim;
    for (int i = 0; i < dim; ++i) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
    var /= dim;
    for (int i = 0; i < dim; ++i) {
      const double want = (x[r * dim + i] - mean) / std::sqrt(var + 1e-5) * g[i] + b[i];
      REQUIRE(z[r * dim + i] == Approx(want).margin(1e-5));
    }
  }
}

TEST_CASE("activations match their formulas", "[unit][kernels]") {
  const auto x = random_floats(101, 8, 6.f);
  auto run = [&](Act act) {
    std::vector<float> y = x;
    activation_f32_ref(y.data(), y.size(), act);
    return y;
  };
  const auto erf = run(Act::GeluErf), tanh_gelu = run(Act::GeluTanh), relu = run(Act::Relu),
             th = run(Act::Tanh), none = run(Act::None);
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    REQUIRE(erf[i] == Approx(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))).margin(1e-6));
    REQUIRE(tanh_gelu[i] ==
            Approx(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))))
                .margin(1e-6));
    REQUIRE(relu[i] == (v > 0 ? x[i] : 0.f));
    REQUIRE(th[i] == Approx(std::tanh(v)).margin(1e-6));
    REQUIRE(none[i] == x[i]);
  }
  // Analytic value: exact GELU(2) = 2 * Phi(2) = 1.9544997.
  float two = 2.f;
  gelu_erf_f32_ref(&two, 1);
  REQUIRE(two == Approx(1.9544997).margin(1e-6));
}

TEST_CASE("softmax rows sum to one and keep order", "[unit][kernels]") {
  auto x = random_floats(17, 9, 30.f);
  const auto x0 = x;
  softmax_f32_ref(x.data(), 17);
  double sum = 0;
  for (int i = 0; i < 17; ++i) {
    sum += x[i];
    REQUIRE(x[i] >= 0.f);
    double denom = 0;
    for (int j = 0; j < 17; ++j) denom += std::exp(double(x0[j]) - x0[i]);
    REQUIRE(x[i] == Approx(1 / denom).margin(1e-6));
  }
  REQUIRE(sum == Approx(1.0).epsilon(1e-6));
}

TEST_CASE("attention matches a double loop per head", "[unit][kernels]") {
  const int tokens = 7, heads = 3, hd = 5, inner = heads * hd;
  const float scale = 0.37f;
  const auto qkv = random_floats(tokens * 3 * inner, 10, 2.f);
  std::vector<float> out(tokens * inner, -99.f), scratch(attention_scratch_floats(tokens, hd));
  // Two calls over disjoint query rows, as two threads would do.
  attention_f32_ref(qkv.data(), out.data(), scratch.data(), tokens, heads, hd, scale, 0, 3);
  attention_f32_ref(qkv.data(), out.data(), scratch.data(), tokens, heads, hd, scale, 3, tokens);
  auto q = [&](int t, int h, int e) { return double(qkv[t * 3 * inner + h * hd + e]); };
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < tokens; ++i) {
      std::vector<double> s(tokens);
      double sum = 0;
      for (int j = 0; j < tokens; ++j) {
        double d = 0;
        for (int e = 0; e < hd; ++e) d += q(i, h, e) * q(j, h + heads, e);
        sum += s[j] = std::exp(d * scale);
      }
      for (int e = 0; e < hd; ++e) {
        double want = 0;
        for (int j = 0; j < tokens; ++j) want += s[j] / sum * q(j, h + 2 * heads, e);
        REQUIRE(out[i * inner + h * hd + e] == Approx(want).margin(1e-5));
      }
    }
  }
}
