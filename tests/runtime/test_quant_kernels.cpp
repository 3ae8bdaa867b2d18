// Int8 activation quantization and the Blocked16x4 int8 GEMM against
// straightforward double-precision loops.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/kernels.h"
#include "quant/quantize.h"
#include "test_values.h"

using namespace vitrt::kernels;

using vitrt::test::random_floats;
using vitrt::test::random_int8;

namespace {

// (m, n, k): N and K deliberately not multiples of the 16x4 tiles.
const std::tuple<int, int, int> kShapes[] = {{3, 7, 13}, {5, 33, 70}, {1, 1, 1}, {2, 16, 4}, {4, 17, 5}};

}  // namespace

TEST_CASE("dynamic activation quantization: one scale per row, round half away", "[unit][quant]") {
  const int m = 4, k = 13;
  auto x = random_floats(size_t(m) * k, 5, 3.f);
  for (int p = 0; p < k; ++p) x[2 * k + p] = 0.f;  // an all-zero row
  x[3 * k + 0] = 127.f;                              // row 3: scale exactly 1
  x[3 * k + 1] = 2.5f;                               // ties go away from zero
  x[3 * k + 2] = -2.5f;
  x[3 * k + 3] = 0.49999997f;
  x[3 * k + 4] = -0.5f;
  std::vector<int8_t> q(size_t(m) * k);
  std::vector<float> scales(m);
  quantize_f32_qs8_ref(x.data(), m, k, 0.f, q.data(), scales.data());
  for (int i = 0; i < m; ++i) {
    double amax = 0;
    for (int p = 0; p < k; ++p) amax = std::max(amax, std::fabs(double(x[i * k + p])));
    INFO("row " << i);
    if (amax == 0) {
      REQUIRE(scales[i] == 1.f);
    } else {
      REQUIRE(scales[i] == Approx(amax / 127).epsilon(1e-6));
    }
    int qmax = 0;
    for (int p = 0; p < k; ++p) {
      const double v = x[i * k + p], s = scales[i];
      REQUIRE(std::fabs(v - q[i * k + p] * s) <= s * (0.5 + 1e-5));  // nearest step
      qmax = std::max(qmax, std::abs(int(q[i * k + p])));
    }
    REQUIRE(qmax == (amax == 0 ? 0 : 127));  // the largest value uses the full range
  }
  REQUIRE(q[3 * k + 1] == 3);
  REQUIRE(q[3 * k + 2] == -3);
  REQUIRE(q[3 * k + 3] == 0);
  REQUIRE(q[3 * k + 4] == -1);
}

TEST_CASE("static activation quantization uses the given scale and clamps", "[unit][quant]") {
  const std::vector<float> x = {0.f, 0.25f, -0.375f, 31.74f, 100.f, -100.f, 0.1249f};
  std::vector<int8_t> q(x.size());
  float scale = 0;
  quantize_f32_qs8_ref(x.data(), 1, int(x.size()), 0.25f, q.data(), &scale);
  REQUIRE(scale == 0.25f);
  REQUIRE(q == std::vector<int8_t>{0, 1, -2, 127, 127, -127, 0});
}

TEST_CASE("Blocked16x4 int8 gemm matches a double loop on odd shapes", "[unit][quant]") {
  for (auto [m, n, k] : kShapes) {
    const int ldy = n + 1;
    const auto wq = random_int8(size_t(n) * k, 6), xq = random_int8(size_t(m) * k, 7);
    const auto packed = vitrt::conv::pack_blocked16x4(wq, n, k);
    std::vector<float> w_scales = random_floats(n, 8), x_scales = random_floats(m, 9), b = random_floats(n, 10);
    for (float& s : w_scales) s = std::fabs(s) * 0.01f + 1e-4f;
    for (float& s : x_scales) s = std::fabs(s) * 0.02f + 1e-4f;
    std::vector<int32_t> sums(n);
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p) sums[j] += wq[size_t(j) * k + p];
    // All channels, and channels from the second tile row on (n0 = 16).
    for (int n0 : {0, 16}) {
      if (n0 >= n) continue;
      const size_t tile_row = size_t((k + 3) / 4) * 64;
      const Qs8Weights w{packed.data() + n0 / 16 * tile_row, w_scales.data() + n0, sums.data() + n0};
      for (bool accumulate : {false, true}) {
        for (bool with_bias : {false, true}) {
          std::vector<float> y = random_floats(size_t(m) * ldy, 11);
          const std::vector<float> y0 = y;
          const Epilogue e{with_bias ? b.data() + n0 : nullptr, Act::None, accumulate};
          gemm_qs8_ref(xq.data(), x_scales.data(), m, k, w, n - n0, e, y.data(), ldy);
          for (int i = 0; i < m; ++i) {
            for (int jj = 0; jj < ldy; ++jj) {
              const int j = n0 + jj;
              INFO("m " << m << " n " << n << " k " << k << " n0 " << n0 << " y[" << i << "][" << jj << "]");
              if (j >= n) {
                REQUIRE(y[i * ldy + jj] == y0[i * ldy + jj]);
                continue;
              }
              double acc = 0;
              for (int p = 0; p < k; ++p) acc += double(xq[i * k + p]) * wq[size_t(j) * k + p];
              double s = acc * x_scales[i] * w_scales[j] + (with_bias ? b[j] : 0.0);
              if (accumulate) s += y0[i * ldy + jj];
              REQUIRE(y[i * ldy + jj] == Approx(s).margin(1e-6).epsilon(1e-6));
            }
          }
        }
      }
    }
  }
}
