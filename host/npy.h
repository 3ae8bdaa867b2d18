// .npy files (NumPy format v1/v2/v3). The header parser serves every reader
// (the converter's .npz too); the arrays here are float32 ('<f4'; Fortran
// order is transposed to C order on load): the `--tensor` input of vitrt-run
// and its `--logits-out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vitrt::tools {

struct NpyHeader {
  std::string descr;           // e.g. '<f4'
  bool fortran_order = false;
  std::vector<int64_t> shape;  // empty = 0-d
  std::size_t data_offset = 0; // where the array's bytes start
};

// Magic, version and header dict (exactly 'descr', 'fortran_order' and
// 'shape', once each) of .npy bytes; `name` prefixes the errors, which are
// std::runtime_error. The caller checks descr, order and the data size.
NpyHeader parse_npy_header(const uint8_t* bytes, std::size_t size, const std::string& name);

// Copies the numel(shape) `elem`-byte elements of a Fortran-order
// (column-major) array at `src` to `dst` in C (row-major) order; both hold
// numel * elem bytes, which the caller has checked against the file.
void fortran_to_c_order(const uint8_t* src, uint8_t* dst, const std::vector<int64_t>& shape, std::size_t elem);

struct NpyArray {
  std::vector<int64_t> shape;  // empty = 0-d (one element)
  std::vector<float> data;
};

// Parse .npy bytes; `name` only labels error messages. Throws
// std::runtime_error for anything but a well-formed '<f4' array.
NpyArray parse_npy(const uint8_t* bytes, std::size_t size, const std::string& name);
NpyArray read_npy(const std::string& path);

// Format v1, header padded to 64 bytes like numpy.save.
std::vector<uint8_t> serialize_npy(const std::vector<int64_t>& shape, const float* data);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace vitrt::tools
