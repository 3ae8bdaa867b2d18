#include "readers/npz.h"

#include <memory>
#include <stdexcept>

#include "npy.h"  // host/: the .npy header parser

namespace vitrt::conv {
namespace {

const std::string kSuffix = ".npy";

bool ends_with_npy(const std::string& s) {
  return s.size() > kSuffix.size() && s.compare(s.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// '<f4' and friends; one-byte types may say '|' (no byte order).
RawDType parse_descr(const std::string& d) {
  static const std::pair<const char*, RawDType> kTypes[] = {
      {"f8", RawDType::F64}, {"f4", RawDType::F32}, {"f2", RawDType::F16}, {"i8", RawDType::I64},
      {"i4", RawDType::I32}, {"i2", RawDType::I16}, {"i1", RawDType::I8},  {"u1", RawDType::U8},
      {"b1", RawDType::Bool}};
  if (d.size() == 3 && (d[0] == '<' || d[0] == '|'))
    for (const auto& [code, t] : kTypes)
      if (d.compare(1, 2, code) == 0 && (d[0] == '<' || raw_dtype_size(t) == 1)) return t;
  throw std::runtime_error("unsupported .npy dtype '" + d + "' (supported: little-endian f8 f4 f2 i8 i4 i2 i1 u1 b1)");
}

}  // namespace

RawTensor parse_npy(const ZipData& data, const std::string& name) {
  auto fail = [&](const std::string& what) { return std::runtime_error(name + ": " + what); };
  const tools::NpyHeader h = tools::parse_npy_header(data.data(), data.size, name);
  RawTensor t;
  t.shape = h.shape;
  try {
    t.dtype = parse_descr(h.descr);
  } catch (const std::runtime_error& e) {
    throw fail(e.what());
  }
  int64_t numel = 0;
  try {
    numel = checked_numel(t.shape);
  } catch (const std::runtime_error& e) {
    throw fail(e.what());
  }
  const size_t elem = raw_dtype_size(t.dtype);
  const size_t data_start = h.data_offset;
  if (uint64_t(numel) > (data.size - data_start) / elem || uint64_t(numel) * elem != data.size - data_start)
    throw fail("shape " + shape_string(t.shape) + " of " + h.descr + " needs " + std::to_string(numel) + " x " +
               std::to_string(elem) + " bytes, the array has " + std::to_string(data.size - data_start));
  t.nbytes = size_t(numel) * elem;
  if (h.fortran_order) {  // e.g. a transposed array or a JAX export: copy it into C order
    auto c_order = std::make_shared<std::vector<uint8_t>>(t.nbytes);
    tools::fortran_to_c_order(data.data() + data_start, c_order->data(), t.shape, elem);
    t.storage = std::move(c_order);
    return t;
  }
  t.storage = data.buffer;
  t.offset = data.offset + data_start;
  return t;
}

bool is_npz(const ZipArchive& zip) {
  for (const ZipEntry& e : zip.entries())
    if (ends_with_npy(e.name)) return true;
  return false;
}

TensorMap read_npz(const ZipArchive& zip, const std::string& path) {
  TensorMap tensors;
  for (const ZipEntry& e : zip.entries()) {
    if (!ends_with_npy(e.name)) throw std::runtime_error(path + ": entry '" + e.name + "' is not a .npy array");
    tensors.emplace(e.name.substr(0, e.name.size() - kSuffix.size()), parse_npy(zip.read(e), path + ": " + e.name));
  }
  return tensors;
}

}  // namespace vitrt::conv
