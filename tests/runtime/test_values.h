// Reproducible random test data for the kernel tests, and the IEEE half and
// bf16 values written from their definitions (independent of the code under
// test).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace vitrt::test {

// n floats uniform in [-scale, scale).
inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// n int8 values uniform in [-127, 127] (the range of quantized data).
inline std::vector<int8_t> random_int8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(-127, 127);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(u(rng));
  return v;
}

// (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m for subnormals.
inline double half_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double v = e ? std::ldexp(1.0 + m / 1024.0, e - 15) : std::ldexp(m / 1024.0, -14);
  return h & 0x8000 ? -v : v;
}

// x rounded to bf16 (nearest even) from the definition: the nearest value
// with an 8-bit significand, ties to an even last bit.
inline double bf16(double x) {
  if (x == 0 || !std::isfinite(x)) return x;
  int e;
  std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  const double ulp = std::ldexp(1.0, e - 8);
  const double q = x / ulp, f = std::floor(q);
  const double r = q - f > 0.5 || (q - f == 0.5 && std::fmod(f, 2.0) != 0) ? f + 1 : f;
  return r * ulp;
}

}  // namespace vitrt::test
