// Checkpoint tensors as read from disk, before any family-specific mapping.
// Readers (safetensors now; .pth and .npz later) produce a TensorMap;
// family mappers consume it through a TensorPool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "model_writer.h"

namespace vitrt::conv {

enum class RawDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

const char* raw_dtype_name(RawDType t);
size_t raw_dtype_size(RawDType t);

// A view of one tensor's bytes inside a shared buffer (usually the whole file).
struct RawTensor {
  RawDType dtype = RawDType::F32;
  std::vector<int64_t> shape;          // empty = scalar
  std::shared_ptr<const std::vector<uint8_t>> storage;
  size_t offset = 0, nbytes = 0;

  const uint8_t* data() const { return storage->data() + offset; }
  int64_t numel() const;
};

using TensorMap = std::map<std::string, RawTensor>;

// Element count of `shape`; throws on a negative dimension or on overflow.
int64_t checked_numel(const std::vector<int64_t>& shape);

// "[3, 4]".
std::string shape_string(const std::vector<int64_t>& shape);

float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

// Values of a floating-point tensor as fp32; throws for integer dtypes.
std::vector<float> to_float(const RawTensor& t, const std::string& name);

// Hands tensors to a family mapper and remembers which were taken, so that
// whatever the mapper did not understand is reported instead of dropped.
class TensorPool {
 public:
  explicit TensorPool(const TensorMap& tensors) : tensors_(tensors) {}

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // Shape of `name`; throws if absent.
  const std::vector<int64_t>& shape(const std::string& name) const;
  // Same, but also throws unless it has `rank` dimensions: for mappers
  // that index a shape before taking the tensor.
  const std::vector<int64_t>& shape(const std::string& name, size_t rank) const;

  // Takes `name`, checks its shape against `expect` (-1 = any size) and
  // returns it as fp32 reshaped to `as` (default: its own shape). Throws if
  // absent or mismatched.
  Tensor take(const std::string& name, const std::vector<int64_t>& expect,
              const std::vector<int64_t>& as = {});
  // Same, but an absent tensor gives an absent Tensor.
  Tensor take_optional(const std::string& name, const std::vector<int64_t>& expect,
                       const std::vector<int64_t>& as = {});

  // Throws listing every tensor nobody took.
  void require_all_taken(const std::string& family) const;

 private:
  const RawTensor& get(const std::string& name) const;

  const TensorMap& tensors_;
  std::set<std::string> taken_;
};

}  // namespace vitrt::conv
