#include "npy.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "aligned_buffer.h"

namespace vitrt::tools {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

// Reader for the header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Only the three keys numpy writes are accepted.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      bool* seen = key == "descr" ? &seen_descr : key == "fortran_order" ? &seen_fortran
                   : key == "shape" ? &seen_shape : nullptr;
      if (!seen) fail("unexpected key '" + key + "'");
      if (*seen) fail("repeated key '" + key + "'");
      *seen = true;
      if (key == "descr") descr = string_literal();
      else if (key == "fortran_order") fortran = boolean();
      else shape = tuple();
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) fail("trailing characters after the header");
    if (!seen_descr || !seen_fortran || !seen_shape)
      fail("header lacks 'descr', 'fortran_order' or 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(name_ + ": bad .npy header: " + why);
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a string");
    const char quote = s_[pos_++];
    const std::size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (const char* word : {"True", "False"}) {
      if (s_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return word[0] == 'T';
      }
    }
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!peek(')')) {
      if (!std::isdigit(static_cast<unsigned char>(s_[pos_]))) fail("expected a dimension");
      int64_t d = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (d > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("dimension too large");
        d = d * 10 + (s_[pos_++] - '0');
      }
      dims.push_back(d);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

NpyHeader parse_npy_header(const uint8_t* bytes, std::size_t size, const std::string& name) {
  if (size < kMagicLen + 2 || std::memcmp(bytes, kMagic, kMagicLen) != 0)
    throw std::runtime_error(name + ": not a .npy array (bad magic)");
  const int major = bytes[kMagicLen];
  if (major < 1 || major > 3)
    throw std::runtime_error(name + ": unsupported .npy version " + std::to_string(major));
  // v1 stores the header length in 2 bytes, v2/v3 in 4.
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = kMagicLen + 2 + len_bytes;
  if (size < prefix) throw std::runtime_error(name + ": truncated .npy header");
  const std::size_t header_len =
      major == 1 ? std::size_t(bytes[8]) | std::size_t(bytes[9]) << 8 : load_le32(bytes + 8);
  if (size - prefix < header_len) throw std::runtime_error(name + ": truncated .npy header");

  const std::string header(reinterpret_cast<const char*>(bytes + prefix), header_len);
  NpyHeader h;
  HeaderParser(header, name).parse(h.descr, h.fortran_order, h.shape);
  h.data_offset = prefix + header_len;
  return h;
}

void fortran_to_c_order(const uint8_t* src, uint8_t* dst, const std::vector<int64_t>& shape, std::size_t elem) {
  for (int64_t d : shape)
    if (d == 0) return;  // empty; also keeps the products below within numel
  // Size-1 dimensions move neither index; without them at most 63 remain
  // (each other dimension at least doubles numel), however long the shape.
  std::vector<int64_t> size, c_stride;  // first dimension first
  int64_t numel = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1) {
      size.insert(size.begin(), shape[i]);
      c_stride.insert(c_stride.begin(), numel);
    }
    numel *= shape[i];
  }
  // Walk the source in its own order (first index fastest), keeping the
  // destination offset in step.
  std::vector<int64_t> index(size.size(), 0);
  int64_t at = 0;
  for (int64_t n = 0; n < numel; ++n) {
    std::memcpy(dst + std::size_t(at) * elem, src + std::size_t(n) * elem, elem);
    for (std::size_t d = 0; d < size.size(); ++d) {
      at += c_stride[d];
      if (++index[d] < size[d]) break;
      at -= size[d] * c_stride[d];
      index[d] = 0;
    }
  }
}

NpyArray parse_npy(const uint8_t* bytes, std::size_t size, const std::string& name) {
  const NpyHeader h = parse_npy_header(bytes, size, name);
  NpyArray out;
  out.shape = h.shape;
  if (h.descr != "<f4")
    throw std::runtime_error(name + ": dtype '" + h.descr + "' is not float32 little-endian ('<f4')");

  std::size_t count = 1;
  for (int64_t d : out.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / 4 / static_cast<std::size_t>(d))
      throw std::runtime_error(name + ": shape too large");
    count *= static_cast<std::size_t>(d);
  }
  const std::size_t data_bytes = size - h.data_offset;
  if (data_bytes != count * 4) {
    throw std::runtime_error(name + ": data is " + std::to_string(data_bytes) + " bytes, shape needs " +
                             std::to_string(count * 4) + (data_bytes < count * 4 ? " (truncated)" : ""));
  }
  out.data.resize(count);
  const uint8_t* p = bytes + h.data_offset;
  std::vector<uint8_t> c_order;
  if (h.fortran_order) {
    c_order.resize(count * 4);
    fortran_to_c_order(p, c_order.data(), out.shape, 4);
    p = c_order.data();
  }
  for (std::size_t i = 0; i < count; ++i) {
    const uint32_t bits = load_le32(p + 4 * i);
    std::memcpy(&out.data[i], &bits, 4);
  }
  return out;
}

NpyArray read_npy(const std::string& path) {
  const AlignedBuffer file = read_file(path, ".npy file");
  return parse_npy(file.data(), file.size(), "'" + path + "'");
}

std::vector<uint8_t> serialize_npy(const std::vector<int64_t>& shape, const float* data) {
  std::string dims;
  std::size_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= static_cast<std::size_t>(d);
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (2, 3) but (2,) for 1-d
  else if (shape.size() == 1) dims.pop_back();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64.
  const std::size_t prefix = kMagicLen + 2 + 2;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';

  std::vector<uint8_t> out(kMagic, kMagic + kMagicLen);
  out.insert(out.end(), {1, 0, uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)});
  out.insert(out.end(), header.begin(), header.end());
  for (std::size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &data[i], 4);
    out.insert(out.end(), {uint8_t(bits), uint8_t(bits >> 8), uint8_t(bits >> 16), uint8_t(bits >> 24)});
  }
  return out;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  const std::vector<uint8_t> bytes = serialize_npy(shape, data);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
    throw std::runtime_error("cannot write '" + path + "'");
  if (std::fclose(f.release()) != 0) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace vitrt::tools
