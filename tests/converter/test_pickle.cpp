#include <catch2/catch.hpp>

#include <cstring>

#include "readers/pickle.h"
#include "pickle_stream.h"

using namespace vitrt::conv;
using K = PyValue::Kind;
using pickle_stream::Stream;
using pickle_stream::tensor;

namespace {

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

// A float32 storage of 0, 1, ..., 11 under persistent id ('storage', torch.FloatStorage, '0', 'cpu', 12),
// loaded once however often it is referenced, as read_torch_zip does.
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
    auto loaded = std::make_shared<PyRef>();
    return [b, loaded](const PyRef& pid) {
      if (*loaded) return *loaded;
      REQUIRE(pid->kind == K::Tuple);
      REQUIRE(pid->items.size() == 5);
      CHECK(pid->items[1]->text == "torch.FloatStorage");
      auto s = std::make_shared<PyValue>();
      s->kind = K::Storage;
      s->tensor.dtype = *torch_storage_dtype(pid->items[1]->text);
      s->tensor.shape = {pid->items[4]->integer};
      s->tensor.storage = b;
      s->tensor.nbytes = b->size();
      return *loaded = s;
    };
  }
};

Stream tensor_pickle(int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride,
                     int64_t numel = 12) {
  Stream s;
  s.proto(2);
  tensor(s, offset, size, stride, numel);
  s.op('.');
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("pickle: protocol 2 containers, numbers, strings and the memo", "[unit]") {
  Stream s;
  s.proto(2).op('}').op('q').le(0, 1).op('(');
  s.str("i").op('J').le(0xFFFFFFFE, 4);                              // -2
  s.str("long").op(0x8a).le(2, 1).le(0xFF7F, 2);                      // LONG1 -129
  s.str("f").op('G').raw(std::string("\x3f\xf8\0\0\0\0\0\0", 8));     // 1.5, big-endian
  s.str("l").op(']').op('q').le(1, 1).op('(').int1(1).op('M').le(300, 2).op('N').op('e');
  s.str("t").op(0x88).op(0x89).op(0x86);                             // (True, False)
  s.str("b").op('C').le(2, 1).raw("ab");
  s.str("l2").op('h').le(1, 1);                                      // the list again
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
  CHECK(item(d, "l2") == l);  // shared, as in Python
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

// Hostile pickles, as a sanitizer + libFuzzer probe found them: each must be
// a clear error, not a crash, a hang or a huge allocation.

TEST_CASE("pickle: tensor views are bounded by their storage's actual bytes", "[unit]") {
  Storage st;
  const std::string beyond = "reaches beyond its storage of 12 elements";
  // Stride 0 (a broadcast): 2^62 elements at one address. 2^62 * 4 bytes
  // used to wrap to a 0-byte buffer that the gather then overran.
  CHECK(has(error_of(tensor_pickle(0, {int64_t(1) << 62}, {0}).b, st.loader()), beyond));
  // 2^28 elements from a 48-byte storage: a 1 GiB gather from a 300-byte pickle.
  CHECK(has(error_of(tensor_pickle(0, {1 << 14, 1 << 14}, {0, 0}).b, st.loader()), beyond));
  // The element count the persistent id claims is not what bounds the view.
  CHECK(has(error_of(tensor_pickle(0, {1 << 20}, {0}, int64_t(1) << 40).b, st.loader()), beyond));
  // A broadcast within the storage is fine.
  CHECK(to_float(load(tensor_pickle(9, {3}, {0}).b, st.loader())->tensor, "b") == std::vector<float>{9, 9, 9});
  // A negative offset is refused before it enters the extent sum, where it overflowed.
  CHECK(has(error_of(tensor_pickle(INT64_MIN, {3}, {INT64_MAX / 2}).b, st.loader()), "at offset -9223372036854775808"));
  CHECK(has(error_of(tensor_pickle(-1, {2}, {1}).b, st.loader()), beyond));
  // An empty view may sit at the end of its storage, not beyond it.
  CHECK(load(tensor_pickle(12, {0}, {1}).b, st.loader())->tensor.offset == 48);
  CHECK(has(error_of(tensor_pickle(int64_t(1) << 60, {0, 3}, {3, 1}).b, st.loader()), beyond));
  CHECK(has(error_of(tensor_pickle(13, {0}, {1}).b, st.loader()), beyond));
  // A shape whose element count overflows names the pickle.
  CHECK(error_of(tensor_pickle(0, {int64_t(1) << 32, int64_t(1) << 32}, {0, 0}).b, st.loader())
            .rfind("m.pth: pickle offset ", 0) == 0);
}

TEST_CASE("pickle: gathers copy no more than the storages hold", "[unit]") {
  Storage st;
  // Size-1 dimensions take any stride and do not slow the gather down.
  PyRef t = load(tensor_pickle(0, {1, 4, 1, 3}, {7, 1, 9, 4}).b, st.loader());
  CHECK(to_float(t->tensor, "t") == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // Two transposed views of one 48-byte storage would copy 96 bytes: a
  // pickle could otherwise gather a large storage again and again.
  Stream s;
  s.proto(2).op(']').op('(');
  tensor(s, 0, {4, 3}, {1, 4});
  tensor(s, 0, {4, 3}, {1, 4});
  s.op('e').op('.');
  CHECK(has(error_of(s.b, st.loader()), "non-contiguous tensor views copy more bytes than their storages hold (48)"));
}

TEST_CASE("pickle: nesting is capped, and deep values are destroyed without recursion", "[unit]") {
  Stream lists;
  lists.proto(2);
  for (int i = 0; i < 200; ++i) lists.op(']');
  for (int i = 0; i < 199; ++i) lists.op('a');
  lists.op('.');
  CHECK(has(error_of(lists.b), "pickle offset 302: containers nested deeper than 100"));
  Stream tuples;
  tuples.proto(2);
  for (int i = 0; i < 200; ++i) tuples.op('(');
  for (int i = 0; i < 200; ++i) tuples.op('t');
  tuples.op('.');
  CHECK(has(error_of(tuples.b), "containers nested deeper than 100"));

  // Memoised lists linked after they were made: each would look shallow
  // when filled, so a chain of them would escape the cap (and overflow the
  // stack when destroyed). A container is not changed once inside another.
  Stream chain;
  chain.proto(2);
  for (uint8_t i = 0; i < 3; ++i) chain.op(']').op('q').le(i, 1).op('0');
  for (uint8_t i = 0; i < 2; ++i) chain.op('h').le(i, 1).op('h').le(i + 1, 1).op('a').op('0');
  chain.op('h').le(0, 1).op('.');
  CHECK(has(error_of(chain.b), "APPEND on a list already inside another container"));
}

TEST_CASE("pickle: reference cycles are refused (they would leak)", "[unit]") {
  CHECK(has(error_of(Stream().proto(2).op(']').op('q').le(0, 1).op('h').le(0, 1).op('a').op('.').b),
            "a list cannot contain itself"));
  CHECK(has(error_of(Stream().proto(2).op('}').op('q').le(0, 1).str("me").op('h').le(0, 1).op('s').op('.').b),
            "a dict cannot contain itself"));
  // a = []; b = [a]; a.append(b)
  Stream s;
  s.proto(2).op(']').op('q').le(0, 1).op(']').op('h').le(0, 1).op('a').op('q').le(1, 1).op('0');
  s.op('h').le(0, 1).op('h').le(1, 1).op('a').op('.');
  CHECK(has(error_of(s.b), "APPEND on a list already inside another container"));
  // d = {}; t = (d,); d['t'] = t
  Stream t;
  t.proto(2).op('}').op('q').le(0, 1).op(0x85).op('q').le(1, 1).op('0');
  t.op('h').le(0, 1).str("t").op('h').le(1, 1).op('s').op('.');
  CHECK(has(error_of(t.b), "SETITEM on a dict already inside another container"));
}

TEST_CASE("pickle: set() and torch.Size() of a memoised list cannot multiply memory", "[unit]") {
  for (const auto& [module, name] : {std::pair<std::string, std::string>{"builtins", "set"}, {"torch", "Size"}}) {
    // L = [1] * 1000, then set(L) 2000 times: 2 million elements from 16 KB.
    Stream s;
    s.proto(2).global(module, name).op('q').le(0, 1).op('0');
    s.op(']').op('q').le(1, 1).op('(');
    for (int i = 0; i < 1000; ++i) s.int1(1);
    s.op('e').op('0');
    for (int i = 0; i < 2000; ++i) s.op('h').le(0, 1).op('h').le(1, 1).op(0x85).op('R').op('0');
    s.op('N').op('.');
    CHECK(has(error_of(s.b), "copy more elements than the pickle holds"));
  }
}
