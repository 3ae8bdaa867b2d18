// Writes pickle streams opcode by opcode for the unpickler tests, encoding
// arguments as the pickle spec says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pickle_stream {

struct Stream {
  std::string b;
  Stream& op(uint8_t o) { b += char(o); return *this; }
  Stream& le(uint64_t v, int n) { for (int i = 0; i < n; ++i) b += char(v >> (8 * i)); return *this; }
  Stream& raw(const std::string& s) { b += s; return *this; }
  Stream& proto(int v) { return op(0x80).le(uint64_t(v), 1); }
  Stream& str(const std::string& s) { return op('X').le(s.size(), 4).raw(s); }        // BINUNICODE
  Stream& short_str(const std::string& s) { return op(0x8c).le(s.size(), 1).raw(s); }  // SHORT_BINUNICODE
  Stream& int1(int v) { return op('K').le(uint64_t(v), 1); }
  Stream& int8(int64_t v) { return op(0x8a).le(8, 1).le(uint64_t(v), 8); }  // LONG1
  Stream& num(int64_t v) { return v >= 0 && v < 256 ? int1(int(v)) : int8(v); }
  Stream& global(const std::string& module, const std::string& name) { return op('c').raw(module + "\n" + name + "\n"); }
};

// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) as torch.save writes it,
// on float32 storage key "0" of `numel` elements.
inline Stream& tensor(Stream& s, int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride,
                      int64_t numel = 12) {
  s.global("torch._utils", "_rebuild_tensor_v2").op('(');
  s.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").num(numel).op('t').op('Q');
  s.num(offset);
  s.op('(');
  for (int64_t d : size) s.num(d);
  s.op('t').op('(');
  for (int64_t d : stride) s.num(d);
  return s.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
}

}  // namespace pickle_stream
