#include "readers/tensors.h"

#include <cstring>
#include <stdexcept>

namespace vitrt::conv {

const char* raw_dtype_name(RawDType t) {
  switch (t) {
    case RawDType::F64: return "F64";
    case RawDType::F32: return "F32";
    case RawDType::F16: return "F16";
    case RawDType::BF16: return "BF16";
    case RawDType::I64: return "I64";
    case RawDType::I32: return "I32";
    case RawDType::I16: return "I16";
    case RawDType::I8: return "I8";
    case RawDType::U8: return "U8";
    case RawDType::Bool: return "BOOL";
  }
  return "?";
}

size_t raw_dtype_size(RawDType t) {
  switch (t) {
    case RawDType::F64: case RawDType::I64: return 8;
    case RawDType::F32: case RawDType::I32: return 4;
    case RawDType::F16: case RawDType::BF16: case RawDType::I16: return 2;
    case RawDType::I8: case RawDType::U8: case RawDType::Bool: return 1;
  }
  return 0;
}

int64_t checked_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::runtime_error("negative dimension in shape " + shape_string(shape));
    if (d != 0 && n > INT64_MAX / d) throw std::runtime_error("shape " + shape_string(shape) + " is too large");
    n *= d;
  }
  return n;
}

int64_t RawTensor::numel() const { return checked_numel(shape); }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: renormalise
    int e = -1;
    do { ++e; mant <<= 1; } while (!(mant & 0x400));
    bits = sign | uint32_t(127 - 15 - e) << 23 | ((mant & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bfloat16_to_float(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::vector<float> to_float(const RawTensor& t, const std::string& name) {
  size_t n = size_t(t.numel());
  std::vector<float> out(n);
  const uint8_t* p = t.data();
  // Element-wise memcpy: the source is little-endian and may be unaligned.
  switch (t.dtype) {
    case RawDType::F32:
      if (n) std::memcpy(out.data(), p, n * 4);
      break;
    case RawDType::F64:
      for (size_t i = 0; i < n; ++i) { double d; std::memcpy(&d, p + 8 * i, 8); out[i] = float(d); }
      break;
    case RawDType::F16:
      for (size_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, p + 2 * i, 2); out[i] = half_to_float(h); }
      break;
    case RawDType::BF16:
      for (size_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, p + 2 * i, 2); out[i] = bfloat16_to_float(h); }
      break;
    default:
      throw std::runtime_error("tensor '" + name + "' has dtype " + raw_dtype_name(t.dtype) +
                               ", expected a floating-point type");
  }
  return out;
}

const RawTensor& TensorPool::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::runtime_error("checkpoint has no tensor '" + name + "'");
  return it->second;
}

const std::vector<int64_t>& TensorPool::shape(const std::string& name) const { return get(name).shape; }

const std::vector<int64_t>& TensorPool::shape(const std::string& name, size_t rank) const {
  const std::vector<int64_t>& s = get(name).shape;
  if (s.size() != rank)
    throw std::runtime_error("tensor '" + name + "' has shape " + shape_string(s) + ", expected " +
                             std::to_string(rank) + " dimensions");
  return s;
}

Tensor TensorPool::take(const std::string& name, const std::vector<int64_t>& expect,
                        const std::vector<int64_t>& as) {
  const RawTensor& raw = get(name);
  bool ok = raw.shape.size() == expect.size();
  for (size_t i = 0; ok && i < expect.size(); ++i) ok = expect[i] < 0 || expect[i] == raw.shape[i];
  if (!ok) {
    std::string want = shape_string(expect);
    for (size_t p; (p = want.find("-1")) != std::string::npos;) want.replace(p, 2, "*");
    throw std::runtime_error("tensor '" + name + "' has shape " + shape_string(raw.shape) + ", expected " + want);
  }
  const std::vector<int64_t>& target = as.empty() ? raw.shape : as;
  if (checked_numel(target) != raw.numel())
    throw std::runtime_error("cannot reshape tensor '" + name + "' from " + shape_string(raw.shape) + " to " +
                             shape_string(target));
  Tensor t;
  for (int64_t d : target) {
    if (d > INT32_MAX) throw std::runtime_error("tensor '" + name + "' is too large");
    t.shape.push_back(int32_t(d));
  }
  t.data = to_float(raw, name);
  taken_.insert(name);
  return t;
}

Tensor TensorPool::take_optional(const std::string& name, const std::vector<int64_t>& expect,
                                 const std::vector<int64_t>& as) {
  return has(name) ? take(name, expect, as) : Tensor{};
}

void TensorPool::require_all_taken(const std::string& family) const {
  std::string left;
  size_t count = 0;
  for (const auto& [name, t] : tensors_) {
    if (taken_.count(name)) continue;
    if (count < 20) left += (count ? ", " : "") + name + " " + shape_string(t.shape);
    ++count;
  }
  if (count == 0) return;
  if (count > 20) left += ", ... (" + std::to_string(count) + " in all)";
  throw std::runtime_error("the " + family + " mapping does not understand these checkpoint tensors: " + left);
}

}  // namespace vitrt::conv
