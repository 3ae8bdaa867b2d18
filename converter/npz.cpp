#include "npz.h"

#include <cstring>
#include <stdexcept>

namespace vitrt::conv {
namespace {

const std::string kSuffix = ".npy";

bool ends_with_npy(const std::string& s) {
  return s.size() > kSuffix.size() && s.compare(s.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// followed by space padding and '\n'. This parses exactly that grammar.
class HeaderParser {
 public:
  explicit HeaderParser(const std::string& s) : s_(s) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool has_descr = false, has_fortran = false, has_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string();
      expect(':');
      if (key == "descr" && !has_descr) {
        descr = string();
        has_descr = true;
      } else if (key == "fortran_order" && !has_fortran) {
        fortran = boolean();
        has_fortran = true;
      } else if (key == "shape" && !has_shape) {
        shape = tuple();
        has_shape = true;
      } else {
        throw std::runtime_error("unexpected or repeated key '" + key + "' in the .npy header");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) throw std::runtime_error("trailing characters after the .npy header");
    if (!has_descr || !has_fortran || !has_shape)
      throw std::runtime_error(".npy header lacks descr, fortran_order or shape");
  }

 private:
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) throw std::runtime_error(std::string("malformed .npy header: expected '") + c + "'");
    ++pos_;
  }
  std::string string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      throw std::runtime_error("malformed .npy header: expected a string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) throw std::runtime_error("malformed .npy header: unterminated string");
    std::string r = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return r;
  }
  bool boolean() {
    skip_space();
    for (bool v : {true, false}) {
      const char* word = v ? "True" : "False";
      if (s_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return v;
      }
    }
    throw std::runtime_error("malformed .npy header: fortran_order must be True or False");
  }
  // "()", "(5,)", "(3, 4)".
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!peek(')')) {
      int64_t d = 0;
      size_t digits = 0;
      for (; pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++pos_, ++digits) {
        if (d > (INT64_MAX - 9) / 10) throw std::runtime_error(".npy shape dimension too large");
        d = d * 10 + (s_[pos_] - '0');
      }
      if (digits == 0) throw std::runtime_error("malformed .npy header: bad shape");
      dims.push_back(d);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

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
  const uint8_t* p = data.data();
  if (data.size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) throw fail("not a .npy array (bad magic)");
  const int major = p[6];
  if (major < 1 || major > 3) throw fail(".npy format version " + std::to_string(major) + " is not supported");
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (data.size < 8 + len_bytes) throw fail("truncated .npy header");
  uint64_t header_len = 0;
  for (size_t i = len_bytes; i-- > 0;) header_len = (header_len << 8) | p[8 + i];
  const size_t start = 8 + len_bytes;
  if (header_len > data.size - start) throw fail("truncated .npy header");

  std::string descr;
  bool fortran = false;
  RawTensor t;
  try {
    HeaderParser(std::string(reinterpret_cast<const char*>(p + start), size_t(header_len))).parse(descr, fortran, t.shape);
    t.dtype = parse_descr(descr);
  } catch (const std::runtime_error& e) {
    throw fail(e.what());
  }
  if (fortran) throw fail("Fortran-order .npy arrays are not supported; save with np.ascontiguousarray");
  const int64_t numel = checked_numel(t.shape);
  const size_t elem = raw_dtype_size(t.dtype);
  const size_t data_start = start + size_t(header_len);
  if (uint64_t(numel) > (data.size - data_start) / elem || uint64_t(numel) * elem != data.size - data_start)
    throw fail("shape " + shape_string(t.shape) + " of " + descr + " needs " + std::to_string(numel) + " x " +
               std::to_string(elem) + " bytes, the array has " + std::to_string(data.size - data_start));
  t.storage = data.buffer;
  t.offset = data.offset + data_start;
  t.nbytes = size_t(numel) * elem;
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
