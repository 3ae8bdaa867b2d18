#include <catch2/catch.hpp>

#include <cstring>

#include "pickle.h"

using namespace vitrt::conv;
using K = PyValue::Kind;

namespace {

// Writes pickle opcodes; arguments are encoded as the pickle spec says.
struct Stream {
  std::string b;
  Stream& op(uint8_t o) { b += char(o); return *this; }
  Stream& le(uint64_t v, int n) { for (int i = 0; i < n; ++i) b += char(v >> (8 * i)); return *this; }
  Stream& raw(const std::string& s) { b += s; return *this; }
  Stream& proto(int v) { return op(0x80).le(uint64_t(v), 1); }
  Stream& str(const std::string& s) { return op('X').le(s.size(), 4).raw(s); }        // BINUNICODE
  Stream& short_str(const std::string& s) { return op(0x8c).le(s.size(), 1).raw(s); }  // SHORT_BINUNICODE
  Stream& int1(int v) { return op('K').le(uint64_t(v), 1); }
  Stream& global(const std::string& module, const std::string& name) { return op('c').raw(module + "\n" + name + "\n"); }
};

const PersistentLoad kNoPersistent = [](const PyRef&) -> PyRef { throw std::runtime_error("unexpected persistent id"); };

PyRef load(const std::string& s, const PersistentLoad& pl = kNoPersistent) {
  return unpickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "m.pth", pl);
}

std::string error_of(const std::string& s, const PersistentLoad& pl = kNoPersistent) {
  try {
    load(s, pl);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const PyRef& item(const PyRef& dict, const std::string& key) {
  for (const auto& [k, v] : dict->entries)
    if (k->kind == K::String && k->text == key) return v;
  static const PyRef none;
  FAIL("no key " << key);
  return none;
}

// A float32 storage of 0, 1, ..., 11 under persistent id ('storage', torch.FloatStorage, '0', 'cpu', 12).
struct Storage {
  std::shared_ptr<std::vector<uint8_t>> bytes = std::make_shared<std::vector<uint8_t>>(48);
  Storage() {
    for (int i = 0; i < 12; ++i) {
      float f = float(i);
      std::memcpy(bytes->data() + 4 * i, &f, 4);
    }
  }
  PersistentLoad loader() const {
    auto b = bytes;
    return [b](const PyRef& pid) {
      REQUIRE(pid->kind == K::Tuple);
      REQUIRE(pid->items.size() == 5);
      CHECK(pid->items[1]->text == "torch.FloatStorage");
      auto s = std::make_shared<PyValue>();
      s->kind = K::Storage;
      s->tensor.dtype = *torch_storage_dtype(pid->items[1]->text);
      s->tensor.shape = {pid->items[4]->integer};
      s->tensor.storage = b;
      s->tensor.nbytes = b->size();
      return s;
    };
  }
};

// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) as torch.save writes it.
Stream tensor_pickle(int offset, std::vector<int> size, std::vector<int> stride, int numel = 12) {
  Stream s;
  s.proto(2).global("torch._utils", "_rebuild_tensor_v2").op('(');
  s.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int1(numel).op('t').op('Q');
  s.int1(offset);
  s.op('(');
  for (int d : size) s.int1(d);
  s.op('t').op('(');
  for (int d : stride) s.int1(d);
  s.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('.');
  return s;
}

}  // namespace

TEST_CASE("pickle: protocol 2 containers, numbers, strings and the memo", "[unit]") {
  Stream s;
  s.proto(2).op('}').op('q').le(0, 1).op('(');
  s.str("i").op('J').le(0xFFFFFFFE, 4);                              // -2
  s.str("long").op(0x8a).le(2, 1).le(0xFF7F, 2);                      // LONG1 -129
  s.str("f").op('G').raw(std::string("\x3f\xf8\0\0\0\0\0\0", 8));     // 1.5, big-endian
  s.str("l").op(']').op('(').int1(1).op('M').le(300, 2).op('N').op('e');
  s.str("t").op(0x88).op(0x89).op(0x86);                             // (True, False)
  s.str("b").op('C').le(2, 1).raw("ab");
  s.str("again").op('h').le(0, 1);                                   // the dict itself
  s.op('u').op('.');
  PyRef d = load(s.b);
  REQUIRE(d->kind == K::Dict);
  REQUIRE(d->entries.size() == 7);
  CHECK(item(d, "i")->integer == -2);
  CHECK(item(d, "long")->integer == -129);
  CHECK(item(d, "f")->number == 1.5);
  const PyRef& l = item(d, "l");
  REQUIRE(l->items.size() == 3);
  CHECK(l->items[1]->integer == 300);
  CHECK(l->items[2]->kind == K::None);
  CHECK(item(d, "t")->items[0]->integer == 1);
  CHECK(item(d, "b")->kind == K::Bytes);
  CHECK(item(d, "b")->text == "ab");
  CHECK(item(d, "again") == d);  // shared, as in Python
  d->entries.clear();             // break the cycle so the test does not leak
}

TEST_CASE("pickle: protocol 4 framing, MEMOIZE, STACK_GLOBAL and BUILD", "[unit]") {
  Stream body;
  body.short_str("collections").op(0x94).short_str("OrderedDict").op(0x94).op(0x93).op(0x94);
  body.op(')').op('R').op(0x94);
  body.short_str("w").op(0x94).op('h').le(1, 1).op('s');  // d['w'] = 'OrderedDict' (memo 1)
  body.op('}').short_str("_metadata").op('}').op('s').op('b');  // state: ignored
  body.op('.');
  Stream s;
  s.proto(4).op(0x95).le(body.b.size(), 8).raw(body.b);
  PyRef d = load(s.b);
  REQUIRE(d->kind == K::Dict);
  REQUIRE(d->entries.size() == 1);
  CHECK(item(d, "w")->text == "OrderedDict");
}

TEST_CASE("pickle: training metadata becomes inert placeholders", "[unit]") {
  // args = argparse.Namespace(lr=0.1) via NEWOBJ + BUILD; acc = numpy scalar; s = set([1]).
  Stream s;
  s.proto(2).op('}').op('(');
  s.str("args").global("argparse", "Namespace").op(')').op(0x81).op('}').str("lr").op('G').raw(std::string(8, '\0'));
  s.op('s').op('b');
  s.str("acc").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").str("f8").op(0x89).op(0x88).op(0x87);
  s.op('R').op('(').int1(3).str("<").op('N').op('t').op('b');
  s.global("_codecs", "encode").str("\x01").str("latin1").op(0x86).op('R').op(0x86).op('R');
  s.str("s").global("__builtin__", "set").op(']').op('(').int1(1).op('e').op(0x85).op('R');
  s.op('u').op('.');
  PyRef d = load(s.b);
  CHECK(item(d, "args")->kind == K::Opaque);
  CHECK(item(d, "acc")->kind == K::Opaque);
  CHECK(item(d, "s")->kind == K::List);
}

TEST_CASE("pickle: any global outside the whitelist is refused before anything runs", "[unit]") {
  const std::pair<const char*, const char*> evil[] = {
      {"os", "system"}, {"posix", "system"}, {"__builtin__", "eval"}, {"builtins", "exec"},
      {"builtins", "getattr"}, {"subprocess", "Popen"}, {"torch", "load"}, {"collections", "OrderedDictX"}};
  for (const auto& [module, name] : evil) {
    const std::string want = std::string("refusing to load global '") + module + "." + name +
                             "' from m.pth: not a tensor or container type";
    Stream g;
    g.proto(2).global(module, name).str("touch /tmp/vitrt_pwned").op(0x85).op('R').op('.');
    CHECK(error_of(g.b) == want);
    Stream sg;
    sg.proto(4).short_str(module).short_str(name).op(0x93).str("x").op(0x85).op('R').op('.');
    CHECK(error_of(sg.b) == want);
  }
  // Protocol 0's text spelling, as in the classic exploit "cos\nsystem\n(S'...'\ntR.".
  CHECK(error_of("cos\nsystem\n(S'touch /tmp/vitrt_pwned'\ntR.") ==
        "refusing to load global 'os.system' from m.pth: not a tensor or container type");
}

TEST_CASE("pickle: contiguous tensors are views of their storage", "[unit]") {
  Storage st;
  PyRef t = load(tensor_pickle(4, {2, 3}, {3, 1}).b, st.loader());
  REQUIRE(t->kind == K::Tensor);
  CHECK(t->tensor.shape == std::vector<int64_t>{2, 3});
  CHECK(t->tensor.storage == st.bytes);
  CHECK(t->tensor.offset == 16);
  CHECK(t->tensor.nbytes == 24);
  CHECK(to_float(t->tensor, "t") == std::vector<float>{4, 5, 6, 7, 8, 9});

  // Size-1 dimensions may carry any stride.
  PyRef u = load(tensor_pickle(0, {1, 12}, {99, 1}).b, st.loader());
  CHECK(u->tensor.storage == st.bytes);
}

TEST_CASE("pickle: non-contiguous tensors are gathered into row-major order", "[unit]") {
  Storage st;
  // The transpose of the [3, 4] matrix 0..11.
  PyRef t = load(tensor_pickle(0, {4, 3}, {1, 4}).b, st.loader());
  CHECK(t->tensor.storage != st.bytes);
  CHECK(to_float(t->tensor, "t") == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // A broadcast (stride 0) column.
  PyRef b = load(tensor_pickle(2, {3}, {0}).b, st.loader());
  CHECK(to_float(b->tensor, "b") == std::vector<float>{2, 2, 2});
}

TEST_CASE("pickle: tensors reaching beyond their storage are refused", "[unit]") {
  Storage st;
  CHECK(error_of(tensor_pickle(1, {3, 4}, {4, 1}).b, st.loader()).find("reaches beyond its storage of 12 elements") !=
        std::string::npos);
  CHECK(error_of(tensor_pickle(0, {4, 3}, {1, 5}).b, st.loader()).find("reaches beyond") != std::string::npos);
  CHECK(error_of(tensor_pickle(0, {2, 3}, {3}).b, st.loader()).find("size and stride differ") != std::string::npos);
  // Zero elements need no storage at all.
  CHECK(load(tensor_pickle(0, {0, 5}, {5, 1}, 0).b, st.loader())->tensor.nbytes == 0);
}

TEST_CASE("pickle: truncated and malformed streams are errors, never crashes", "[unit]") {
  Storage st;
  const std::string full = tensor_pickle(0, {3, 4}, {4, 1}).b;
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    CHECK(error_of(full.substr(0, n), st.loader()).rfind("m.pth: pickle offset ", 0) == 0);
  }
  CHECK(error_of(Stream().proto(2).op('h').le(7, 1).op('.').b) == "m.pth: pickle offset 2: memo key not found");
  CHECK(error_of(Stream().proto(2).op('s').op('.').b) == "m.pth: pickle offset 2: stack underflow");
  CHECK(error_of(Stream().proto(2).op(']').op(')').op('b').op('.').b) == "m.pth: pickle offset 4: BUILD on a list");
  CHECK(error_of(Stream().proto(2).op('I').raw("1\n").op('.').b) ==
        "m.pth: pickle offset 2: unsupported pickle opcode 0x49");
  CHECK(error_of(Stream().proto(1).op('N').op('.').b).find("protocol 1 is not supported") != std::string::npos);
  CHECK(error_of(Stream().proto(2).op('N').op('N').op('.').b) == "m.pth: pickle offset 4: STOP with a malformed stack");
  CHECK(error_of(Stream().proto(2).global("torch", "FloatStorage").op(')').op('R').op('.').b)
            .find("may only appear in a persistent id") != std::string::npos);
}

TEST_CASE("pickle: storage dtypes", "[unit]") {
  CHECK(torch_storage_dtype("torch.HalfStorage") == RawDType::F16);
  CHECK(torch_storage_dtype("torch.BFloat16Storage") == RawDType::BF16);
  CHECK(torch_storage_dtype("torch.LongStorage") == RawDType::I64);
  CHECK_FALSE(torch_storage_dtype("collections.OrderedDict"));
  CHECK_FALSE(torch_storage_dtype("os.system"));
}
