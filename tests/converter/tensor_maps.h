// Synthetic checkpoints for the family mapper tests: deterministic,
// non-symmetric tensor fills (so any permutation shows) in a TensorMap.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "readers/tensors.h"

namespace vitrt::conv::test {

inline std::vector<float> fill(int64_t n, float seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = seed + 0.01f * float(i % 97) - 0.003f * float(i % 7);
  return v;
}

// Adds `name` with `shape`, filled from `seed`.
inline void put(TensorMap& m, const std::string& name, std::vector<int64_t> shape, float seed) {
  const int64_t n = checked_numel(shape);
  std::vector<float> v = fill(n, seed);
  auto bytes = std::make_shared<std::vector<uint8_t>>(size_t(n) * 4);
  if (n) std::memcpy(bytes->data(), v.data(), bytes->size());
  m[name] = RawTensor{RawDType::F32, std::move(shape), bytes, 0, bytes->size()};
}

inline std::vector<float> values(const TensorMap& m, const std::string& name) { return to_float(m.at(name), name); }

inline HParams heads(int n) {
  HParams h;
  h.heads.set(n, "--heads");
  return h;
}

// Runs `map` on copies of `m` with each tensor in turn replaced by one of
// the wrong rank or with zero / unit dimensions, as a hostile checkpoint may
// hold. The mapper must refuse with a runtime_error (or cope); anything else
// - an out_of_range, a crash - fails the test.
template <typename Map>
void check_wrong_shapes(const TensorMap& m, const Map& map) {
  for (const auto& [name, t] : m) {
    const size_t rank = t.shape.size();
    const std::vector<int64_t> shapes[] = {{}, {1}, {1, 1, 1, 1, 1}, std::vector<int64_t>(rank, 0),
                                           std::vector<int64_t>(rank, 1)};
    for (const auto& shape : shapes) {
      TensorMap bad = m;
      put(bad, name, shape, 0.5f);
      INFO(name << " as " << shape_string(shape));
      try {
        map(bad);
      } catch (const std::runtime_error&) {
      }
    }
  }
}

}  // namespace vitrt::conv::test
