#include "readers/safetensors.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "readers/json.h"

namespace vitrt::conv {
namespace {

// The reference implementation refuses headers above 100 MB too.
constexpr uint64_t kMaxHeader = 100u << 20;

uint64_t header_length(const std::vector<uint8_t>& file) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[size_t(i)];
  return n;
}

RawDType parse_dtype(const std::string& s) {
  static const std::pair<const char*, RawDType> kNames[] = {
      {"F64", RawDType::F64}, {"F32", RawDType::F32}, {"F16", RawDType::F16}, {"BF16", RawDType::BF16},
      {"I64", RawDType::I64}, {"I32", RawDType::I32}, {"I16", RawDType::I16}, {"I8", RawDType::I8},
      {"U8", RawDType::U8},   {"BOOL", RawDType::Bool}};
  for (const auto& [n, t] : kNames)
    if (s == n) return t;
  throw std::runtime_error("unsupported dtype \"" + s + "\"");
}

int64_t non_negative_int(const Json& v, const char* what) {
  if (!v.is_integer || v.integer < 0) throw std::runtime_error(std::string(what) + " must be non-negative integers");
  return v.integer;
}

RawTensor parse_entry(const Json& e) {
  if (!e.is_object()) throw std::runtime_error("entry is not an object");
  const Json* dtype = e.find("dtype");
  const Json* shape = e.find("shape");
  const Json* offsets = e.find("data_offsets");
  if (!dtype || !dtype->is_string()) throw std::runtime_error("missing or non-string \"dtype\"");
  if (!shape || !shape->is_array()) throw std::runtime_error("missing or non-array \"shape\"");
  if (!offsets || !offsets->is_array() || offsets->array.size() != 2)
    throw std::runtime_error("\"data_offsets\" must be [begin, end]");
  if (e.object.size() != 3) throw std::runtime_error("unexpected fields besides dtype, shape, data_offsets");

  RawTensor t;
  t.dtype = parse_dtype(dtype->string);
  for (const Json& d : shape->array) t.shape.push_back(non_negative_int(d, "shape dimensions"));
  int64_t begin = non_negative_int(offsets->array[0], "data_offsets");
  int64_t end = non_negative_int(offsets->array[1], "data_offsets");
  if (end < begin) throw std::runtime_error("data_offsets end before begin");
  int64_t numel = checked_numel(t.shape);
  int64_t elem = int64_t(raw_dtype_size(t.dtype));
  if (numel > INT64_MAX / elem) throw std::runtime_error("shape " + shape_string(t.shape) + " is too large");
  if (numel * elem != end - begin)
    throw std::runtime_error("shape " + shape_string(t.shape) + " of " + dtype->string + " needs " +
                             std::to_string(numel * elem) + " bytes but data_offsets span " +
                             std::to_string(end - begin));
  t.offset = size_t(begin);  // relative to the data buffer until rebased
  t.nbytes = size_t(end - begin);
  return t;
}

}  // namespace

bool looks_like_safetensors(const std::vector<uint8_t>& file) {
  if (file.size() < 9) return false;
  uint64_t n = header_length(file);
  return n >= 2 && n <= file.size() - 8 && file[8] == '{';
}

TensorMap read_safetensors(std::shared_ptr<const std::vector<uint8_t>> file, const std::string& name) {
  auto fail = [&](const std::string& what) -> std::runtime_error {
    return std::runtime_error(name + ": " + what);
  };
  const std::vector<uint8_t>& bytes = *file;
  if (bytes.size() < 8) throw fail("truncated safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t n = header_length(bytes);
  if (n > kMaxHeader) throw fail("safetensors header length " + std::to_string(n) + " is implausibly large");
  if (n > bytes.size() - 8)
    throw fail("truncated safetensors file: header needs " + std::to_string(n) + " bytes, file has " +
               std::to_string(bytes.size() - 8) + " after the length");

  Json header;
  try {
    header = parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data() + 8), size_t(n)));
  } catch (const JsonError& e) {
    throw fail(std::string("corrupt safetensors header: ") + e.what());
  }
  if (!header.is_object()) throw fail("safetensors header is not a JSON object");

  const size_t data_start = 8 + size_t(n);
  const size_t data_size = bytes.size() - data_start;
  TensorMap tensors;
  std::vector<std::pair<const std::string*, const RawTensor*>> by_offset;
  for (const auto& [key, entry] : header.object) {
    if (key == "__metadata__") continue;
    RawTensor t;
    try {
      t = parse_entry(entry);
    } catch (const std::runtime_error& e) {
      throw fail("tensor '" + key + "': " + e.what());
    }
    if (t.offset + t.nbytes > data_size)
      throw fail("tensor '" + key + "' data [" + std::to_string(t.offset) + ", " + std::to_string(t.offset + t.nbytes) +
                 ") lies beyond the data (" + std::to_string(data_size) + " bytes); file truncated?");
    t.offset += data_start;
    t.storage = file;
    auto it = tensors.emplace(key, std::move(t)).first;
    by_offset.emplace_back(&it->first, &it->second);
  }

  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto& a, const auto& b) { return a.second->offset < b.second->offset; });
  const std::pair<const std::string*, const RawTensor*>* prev = nullptr;
  for (const auto& cur : by_offset) {
    if (cur.second->nbytes == 0) continue;  // empty tensors occupy no bytes
    if (prev && cur.second->offset < prev->second->offset + prev->second->nbytes)
      throw fail("tensors '" + *prev->first + "' and '" + *cur.first + "' have overlapping data");
    prev = &cur;
  }
  return tensors;
}

}  // namespace vitrt::conv
