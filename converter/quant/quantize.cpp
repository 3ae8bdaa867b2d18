#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vitrt::conv {

uint16_t float_to_half(float v) {
  uint32_t x;
  std::memcpy(&x, &v, sizeof(x));
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  // Keep `mant` with its implicit bit and drop `shift` bits, rounding to even.
  uint32_t h, mant, shift;
  if (a >= 0x38800000u) {  // normal half: rebias the exponent, 13 mantissa bits go
    h = ((a >> 23) - 112) << 10;
    mant = a & 0x7fffffu;
    shift = 13;
  } else {  // subnormal half: units of 2^-24
    h = 0;
    mant = (a & 0x7fffffu) | 0x800000u;
    shift = 126 - (a >> 23);
    if (shift > 24) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero
  }
  h += mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1))) ++h;  // a carry correctly bumps the exponent
  return static_cast<uint16_t>(sign | h);
}

QuantizedWeight quantize_per_channel(const std::vector<float>& w, int32_t n, int32_t k) {
  if (n <= 0 || k <= 0 || w.size() != static_cast<size_t>(n) * static_cast<size_t>(k))
    throw std::runtime_error("quantize: weight size does not match its shape");
  QuantizedWeight out;
  out.q.resize(w.size());
  out.scales.resize(static_cast<size_t>(n));
  out.sums.resize(static_cast<size_t>(n));
  for (int32_t r = 0; r < n; ++r) {
    const float* row = w.data() + static_cast<size_t>(r) * k;
    float amax = 0.f;
    for (int32_t c = 0; c < k; ++c) {
      if (!std::isfinite(row[c])) throw std::runtime_error("quantize: weight is not finite");
      amax = std::max(amax, std::fabs(row[c]));
    }
    const float scale = amax > 0.f ? amax / 127.f : 1.f;
    int32_t sum = 0;
    for (int32_t c = 0; c < k; ++c) {
      // lround: half away from zero. The clamp only catches amax/127*127 > amax.
      const long q = std::clamp(std::lround(static_cast<double>(row[c]) / scale), -127L, 127L);
      out.q[static_cast<size_t>(r) * k + c] = static_cast<int8_t>(q);
      sum += static_cast<int32_t>(q);
    }
    out.scales[r] = scale;
    out.sums[r] = sum;
  }
  return out;
}

size_t blocked16x4_size(int32_t n, int32_t k) {
  return static_cast<size_t>((n + 15) / 16) * 16 * static_cast<size_t>((k + 3) / 4) * 4;
}

size_t blocked16x4_index(int32_t row, int32_t col, int32_t k) {
  const size_t k4 = static_cast<size_t>((k + 3) / 4);
  return ((static_cast<size_t>(row / 16) * k4 + static_cast<size_t>(col / 4)) * 16 + row % 16) * 4 +
         col % 4;
}

std::vector<int8_t> pack_blocked16x4(const std::vector<int8_t>& q, int32_t n, int32_t k) {
  std::vector<int8_t> packed(blocked16x4_size(n, k), 0);
  for (int32_t r = 0; r < n; ++r)
    for (int32_t c = 0; c < k; ++c)
      packed[blocked16x4_index(r, c, k)] = q[static_cast<size_t>(r) * k + c];
  return packed;
}

namespace {

const char* const kLayerNames[] = {"patch_embed", "head", "qkv", "proj", "fc1", "fc2"};

// N of "blocks.N", or -1.
long block_index(const std::string& name) {
  const std::string prefix = "blocks.";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stol(digits);
}

}  // namespace

bool is_keep_float_name(const std::string& name) {
  for (const char* n : kLayerNames)
    if (name == n) return true;
  return block_index(name) >= 0;
}

void set_weight_dtype(Model& m, DType dtype, const std::vector<std::string>& keep_float) {
  auto kept = [&](const std::string& name) {
    return std::find(keep_float.begin(), keep_float.end(), name) != keep_float.end();
  };
  for (const std::string& name : keep_float) {
    if (!is_keep_float_name(name))
      throw std::runtime_error("--keep-float: unknown layer '" + name +
                               "' (expected patch_embed, head, qkv, proj, fc1, fc2 or blocks.N)");
    if (block_index(name) >= static_cast<long>(m.blocks.size()))
      throw std::runtime_error("--keep-float " + name + ": the model has " +
                               std::to_string(m.blocks.size()) + " blocks");
  }
  auto set = [&](Linear& l, bool keep) { l.weight.dtype = keep ? DType::F32 : dtype; };
  set(m.patch_embed, kept("patch_embed"));
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    Block& b = m.blocks[i];
    const bool block = kept("blocks." + std::to_string(i));
    set(b.qkv, block || kept("qkv"));
    set(b.proj, block || kept("proj"));
    set(b.fc1, block || kept("fc1"));
    set(b.fc2, block || kept("fc2"));
  }
  for (Linear& l : m.pre_logits) set(l, kept("head"));
  set(m.head, kept("head"));
  set(m.head_dist, kept("head"));
}

}  // namespace vitrt::conv
