#include "readers/pickle.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace vitrt::conv {

const char* PyValue::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    case Kind::Opaque: return "opaque object";
  }
  return "?";
}

namespace {

// Real checkpoints nest a few levels (checkpoint -> state dict -> tensor
// arguments); this is far beyond them and far below a stack overflow.
constexpr int kMaxDepth = 100;

// What a whitelisted global builds when called (REDUCE / NEWOBJ).
enum class Builder { OrderedDict, RebuildTensor, RebuildParameter, Size, Set, Storage, Opaque };

struct Allowed {
  const char* name;
  Builder builder;
  RawDType dtype;  // for storages
};

// Names as pickled by torch.save, numpy and Python 2/3 (protocol 2 spells builtins "__builtin__").
const Allowed kAllowed[] = {
    {"collections.OrderedDict", Builder::OrderedDict, {}},
    {"torch._utils._rebuild_tensor", Builder::RebuildTensor, {}},
    {"torch._utils._rebuild_tensor_v2", Builder::RebuildTensor, {}},
    {"torch._utils._rebuild_parameter", Builder::RebuildParameter, {}},
    {"torch._utils._rebuild_parameter_with_state", Builder::RebuildParameter, {}},
    {"torch.Size", Builder::Size, {}},
    {"builtins.set", Builder::Set, {}},
    {"builtins.frozenset", Builder::Set, {}},
    {"__builtin__.set", Builder::Set, {}},
    {"__builtin__.frozenset", Builder::Set, {}},
    {"torch.DoubleStorage", Builder::Storage, RawDType::F64},
    {"torch.FloatStorage", Builder::Storage, RawDType::F32},
    {"torch.HalfStorage", Builder::Storage, RawDType::F16},
    {"torch.BFloat16Storage", Builder::Storage, RawDType::BF16},
    {"torch.LongStorage", Builder::Storage, RawDType::I64},
    {"torch.IntStorage", Builder::Storage, RawDType::I32},
    {"torch.ShortStorage", Builder::Storage, RawDType::I16},
    {"torch.CharStorage", Builder::Storage, RawDType::I8},
    {"torch.ByteStorage", Builder::Storage, RawDType::U8},
    {"torch.BoolStorage", Builder::Storage, RawDType::Bool},
    // Training metadata that rides along in checkpoints; built as inert placeholders.
    {"argparse.Namespace", Builder::Opaque, {}},
    {"numpy.dtype", Builder::Opaque, {}},
    {"numpy.core.multiarray.scalar", Builder::Opaque, {}},
    {"numpy._core.multiarray.scalar", Builder::Opaque, {}},
    {"_codecs.encode", Builder::Opaque, {}},  // protocol 2's spelling of bytes
};

const Allowed* lookup(const std::string& global) {
  for (const Allowed& a : kAllowed)
    if (global == a.name) return &a;
  return nullptr;
}

PyRef make(PyValue::Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const std::string& name, const PersistentLoad& pl)
      : p_(data), size_(size), name_(name), persistent_load_(pl) {}

  PyRef run();

 private:
  std::runtime_error fail(const std::string& what) const {
    return std::runtime_error(name_ + ": pickle offset " + std::to_string(op_pos_) + ": " + what);
  }
  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) throw fail("unexpected end of data (truncated?)");
    const uint8_t* r = p_ + pos_;
    pos_ += size_t(n);
    return r;
  }
  uint64_t uint_le(int n) {
    const uint8_t* b = take(uint64_t(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  std::string bytes(uint64_t n) {
    const uint8_t* b = take(n);
    return std::string(reinterpret_cast<const char*>(b), size_t(n));
  }
  std::string line() {
    size_t start = pos_;
    while (pos_ < size_ && p_[pos_] != '\n') ++pos_;
    if (pos_ == size_) throw fail("unexpected end of data (truncated?)");
    return std::string(reinterpret_cast<const char*>(p_ + start), pos_++ - start);
  }

  void push(PyRef v) { stack_.push_back(std::move(v)); }
  PyRef pop() {
    if (stack_.size() <= floor()) throw fail("stack underflow");
    PyRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PyRef& top() {
    if (stack_.size() <= floor()) throw fail("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<PyRef> pop_mark() {
    if (marks_.empty()) throw fail("no MARK on the stack");
    std::vector<PyRef> items(stack_.begin() + std::ptrdiff_t(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PyRef tuple(std::vector<PyRef> items) {
    PyRef t = make(PyValue::Kind::Tuple);
    for (const PyRef& v : items) nest(*t, *v);
    t->items = std::move(items);
    return t;
  }
  // Records that `container` holds `child`, refusing absurd nesting and
  // reference cycles (which would also leak).
  void nest(PyValue& container, PyValue& child) const {
    if (&container == &child) throw fail(std::string("a ") + child.kind_name() + " cannot contain itself");
    child.contained = true;
    container.depth = std::max(container.depth, child.depth + 1);
    if (container.depth > kMaxDepth) throw fail("containers nested deeper than " + std::to_string(kMaxDepth));
  }
  // set() and torch.Size() copy their argument, which may be a memoised
  // list reused many times: cap the copies at one element per pickle byte.
  void copy_items(PyValue& to, const PyValue& from) {
    copied_ += from.items.size();
    if (copied_ > size_) throw fail("set() / torch.Size() copy more elements than the pickle holds");
    to.items = from.items;
    to.depth = from.depth;
  }

  PyRef global(const std::string& module, const std::string& name);
  PyRef call(const PyRef& callable, const PyRef& args);
  PyRef rebuild_tensor(const std::vector<PyRef>& args);
  int64_t integer(const PyRef& v, const char* what) const;
  void set_items(const PyRef& dict, std::vector<PyRef> kv);
  void append(const PyRef& list, std::vector<PyRef> items);

  const uint8_t* p_;
  size_t size_, pos_ = 0, op_pos_ = 0;
  const std::string& name_;
  const PersistentLoad& persistent_load_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;
  size_t copied_ = 0;
  // Gathering non-contiguous views copies bytes: in all, no more than the
  // storages hold (each storage counted once).
  std::unordered_set<const PyValue*> storages_;
  uint64_t storage_bytes_ = 0, gathered_ = 0;
};

PyRef Unpickler::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  if (!lookup(full))
    throw std::runtime_error("refusing to load global '" + full + "' from " + name_ +
                             ": not a tensor or container type");
  PyRef g = make(PyValue::Kind::Global);
  g->text = full;
  return g;
}

int64_t Unpickler::integer(const PyRef& v, const char* what) const {
  if (v->kind != PyValue::Kind::Int && v->kind != PyValue::Kind::Bool)
    throw fail(std::string(what) + " must be an int, got " + v->kind_name());
  return v->integer;
}

void Unpickler::set_items(const PyRef& dict, std::vector<PyRef> kv) {
  if (dict->kind != PyValue::Kind::Dict) throw fail(std::string("SETITEM on a ") + dict->kind_name());
  if (kv.size() % 2) throw fail("SETITEMS with an odd number of items");
  if (dict->contained) throw fail("SETITEM on a dict already inside another container");
  for (size_t i = 0; i < kv.size(); i += 2) {
    nest(*dict, *kv[i]);
    nest(*dict, *kv[i + 1]);
    dict->entries.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
  }
}

void Unpickler::append(const PyRef& list, std::vector<PyRef> items) {
  if (list->kind != PyValue::Kind::List) throw fail(std::string("APPEND on a ") + list->kind_name());
  if (list->contained) throw fail("APPEND on a list already inside another container");
  for (PyRef& v : items) {
    nest(*list, *v);
    list->items.push_back(std::move(v));
  }
}

PyRef Unpickler::call(const PyRef& callable, const PyRef& args) {
  if (callable->kind != PyValue::Kind::Global) throw fail(std::string("cannot call a ") + callable->kind_name());
  if (args->kind != PyValue::Kind::Tuple) throw fail("call arguments must be a tuple");
  const std::vector<PyRef>& a = args->items;
  const std::string& fn = callable->text;
  switch (lookup(fn)->builder) {
    case Builder::OrderedDict: {
      PyRef d = make(PyValue::Kind::Dict);
      if (!a.empty()) throw fail("OrderedDict with arguments is not supported");
      return d;
    }
    case Builder::RebuildTensor:
      return rebuild_tensor(a);
    case Builder::RebuildParameter:  // (data, requires_grad, hooks[, state]): the data is the tensor
      if (a.empty() || a[0]->kind != PyValue::Kind::Tensor) throw fail(fn + " needs a tensor");
      return a[0];
    case Builder::Size:
    case Builder::Set: {
      if (a.size() != 1 || (a[0]->kind != PyValue::Kind::Tuple && a[0]->kind != PyValue::Kind::List))
        throw fail(fn + " needs one tuple or list");
      PyRef r = make(fn == "torch.Size" ? PyValue::Kind::Tuple : PyValue::Kind::List);
      copy_items(*r, *a[0]);
      return r;
    }
    case Builder::Storage:
      throw fail(fn + " may only appear in a persistent id");
    case Builder::Opaque: {
      PyRef o = make(PyValue::Kind::Opaque);
      o->text = fn;
      return o;
    }
  }
  throw fail("unreachable");
}

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata]).
PyRef Unpickler::rebuild_tensor(const std::vector<PyRef>& a) {
  if (a.size() < 4) throw fail("tensor rebuild needs (storage, offset, size, stride)");
  if (a[0]->kind != PyValue::Kind::Storage) throw fail(std::string("tensor storage is a ") + a[0]->kind_name());
  if (a[2]->kind != PyValue::Kind::Tuple || a[3]->kind != PyValue::Kind::Tuple)
    throw fail("tensor size and stride must be tuples");
  const RawTensor& storage = a[0]->tensor;
  const size_t elem = raw_dtype_size(storage.dtype);
  // The bytes actually there, whatever the persistent id claimed, bound the view.
  const auto storage_numel = int64_t(storage.nbytes / elem);
  const int64_t offset = integer(a[1], "storage offset");
  const size_t rank = a[2]->items.size();
  if (a[3]->items.size() != rank) throw fail("tensor size and stride differ in length");

  RawTensor t;
  t.dtype = storage.dtype;
  std::vector<int64_t> stride(rank);
  for (size_t i = 0; i < rank; ++i) {
    t.shape.push_back(integer(a[2]->items[i], "tensor size"));
    stride[i] = integer(a[3]->items[i], "tensor stride");
    if (stride[i] < 0) throw fail("negative tensor stride");
  }
  int64_t numel = 0;
  try {
    numel = checked_numel(t.shape);
  } catch (const std::runtime_error& e) {
    throw fail(e.what());
  }
  auto beyond = [&] {
    return fail("tensor " + shape_string(t.shape) + " at offset " + std::to_string(offset) +
                " reaches beyond its storage of " + std::to_string(storage_numel) + " elements");
  };
  // Checked before the extent sum, which then cannot overflow. A view with
  // distinct elements never has more than the storage past its offset;
  // only a stride-0 (broadcast) one could, and its copy would be unbounded.
  if (offset < 0 || offset > storage_numel || numel > storage_numel - offset) throw beyond();
  // Highest element index reached: offset + sum (size - 1) * stride, overflow-checked.
  int64_t last = offset;
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t i = rank; numel > 0 && i-- > 0;) {
    const int64_t span = t.shape[i] - 1;
    if (span > 0 && stride[i] > (INT64_MAX - last) / span) throw fail("tensor extent overflows");
    last += span * stride[i];
    if (t.shape[i] != 1 && stride[i] != expect) contiguous = false;
    expect *= t.shape[i];
  }
  if (numel > 0 && last >= storage_numel) throw beyond();

  t.nbytes = size_t(numel) * elem;  // at most storage.nbytes
  if (contiguous || numel == 0) {
    t.storage = storage.storage;
    t.offset = storage.offset + size_t(offset) * elem;
  } else {  // e.g. a transposed view: gather it into row-major order
    gathered_ += t.nbytes;
    if (gathered_ > storage_bytes_)
      throw fail("non-contiguous tensor views copy more bytes than their storages hold (" +
                 std::to_string(storage_bytes_) + ")");
    // Size-1 dimensions do not move the index; dropping them keeps the
    // loop below at most 63 dimensions deep.
    std::vector<int64_t> size, step;
    for (size_t i = 0; i < rank; ++i)
      if (t.shape[i] != 1) {
        size.push_back(t.shape[i]);
        step.push_back(stride[i]);
      }
    auto buf = std::make_shared<std::vector<uint8_t>>(t.nbytes);
    std::vector<int64_t> index(size.size(), 0);
    const uint8_t* src = storage.data();
    for (int64_t n = 0; n < numel; ++n) {
      int64_t at = offset;
      for (size_t i = 0; i < size.size(); ++i) at += index[i] * step[i];
      std::memcpy(buf->data() + size_t(n) * elem, src + size_t(at) * elem, elem);
      for (size_t i = size.size(); i-- > 0;) {
        if (++index[i] < size[i]) break;
        index[i] = 0;
      }
    }
    t.storage = std::move(buf);
  }
  PyRef v = make(PyValue::Kind::Tensor);
  v->tensor = std::move(t);
  return v;
}

PyRef Unpickler::run() {
  using K = PyValue::Kind;
  for (;;) {
    op_pos_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = *take(1);
        if (v < 2 || v > 5) throw fail("pickle protocol " + std::to_string(v) + " is not supported (2-5 are)");
        break;
      }
      case 0x95: take(8); break;  // FRAME: a length hint only
      case '.':  // STOP
        if (stack_.size() != 1 || !marks_.empty()) throw fail("STOP with a malformed stack");
        return stack_.back();
      case '(': marks_.push_back(stack_.size()); break;
      case '0': pop(); break;        // POP
      case '1': pop_mark(); break;   // POP_MARK
      case '2': push(top()); break;  // DUP
      case 'N': push(make(K::None)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        PyRef b = make(K::Bool);
        b->integer = op == 0x88;
        push(b);
        break;
      }
      case 'J': case 'K': case 'M': {  // BININT (signed 4), BININT1, BININT2
        PyRef v = make(K::Int);
        v->integer = op == 'J' ? int64_t(int32_t(uint32_t(uint_le(4)))) : int64_t(uint_le(op == 'K' ? 1 : 2));
        push(v);
        break;
      }
      case 0x8a: case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        const uint64_t n = uint_le(op == 0x8a ? 1 : 4);
        if (n > 8) {  // beyond int64: nothing a state dict needs
          take(n);
          PyRef o = make(K::Opaque);
          o->text = "large int";
          push(o);
          break;
        }
        uint64_t u = uint_le(int(n));
        if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t(0) << (8 * n);
        PyRef v = make(K::Int);
        v->integer = int64_t(u);
        push(v);
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const uint8_t* b = take(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | b[i];
        PyRef v = make(K::Float);
        std::memcpy(&v->number, &u, 8);
        push(v);
        break;
      }
      case 'X': case 0x8c: case 0x8d: case 'B': case 'C': case 0x8e: case 0x96: {
        // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
        const bool is_str = op == 'X' || op == 0x8c || op == 0x8d;
        const int width = (op == 0x8c || op == 'C') ? 1 : (op == 'X' || op == 'B') ? 4 : 8;
        PyRef v = make(is_str ? K::String : K::Bytes);
        v->text = bytes(uint_le(width));
        push(v);
        break;
      }
      case ')': push(make(K::Tuple)); break;
      case ']': push(make(K::List)); break;
      case '}': push(make(K::Dict)); break;
      case 0x8f: push(make(K::List)); break;  // EMPTY_SET
      case 't': push(tuple(pop_mark())); break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::vector<PyRef> items(size_t(op - 0x84));
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(tuple(std::move(items)));
        break;
      }
      case 0x91: {  // FROZENSET
        PyRef s = make(K::List);
        append(s, pop_mark());
        push(s);
        break;
      }
      case 'a': { PyRef v = pop(); append(top(), {v}); break; }  // APPEND
      case 'e': case 0x90: { auto items = pop_mark(); append(top(), std::move(items)); break; }  // APPENDS, ADDITEMS
      case 's': {  // SETITEM
        PyRef v = pop(), k = pop();
        set_items(top(), {k, v});
        break;
      }
      case 'u': { auto kv = pop_mark(); set_items(top(), std::move(kv)); break; }  // SETITEMS
      case 'q': memo_[uint_le(1)] = top(); break;  // BINPUT
      case 'r': memo_[uint_le(4)] = top(); break;  // LONG_BINPUT
      case 0x94: { const uint64_t n = memo_.size(); memo_[n] = top(); break; }  // MEMOIZE
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        auto it = memo_.find(uint_le(op == 'h' ? 1 : 4));
        if (it == memo_.end()) throw fail("memo key not found");
        push(it->second);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PyRef name = pop(), module = pop();
        if (module->kind != K::String || name->kind != K::String) throw fail("STACK_GLOBAL needs two strings");
        push(global(module->text, name->text));
        break;
      }
      case 'R': case 0x81: {  // REDUCE, NEWOBJ: both call a whitelisted builder
        PyRef args = pop(), fn = pop();
        push(call(fn, args));
        break;
      }
      case 0x92: {  // NEWOBJ_EX
        PyRef kwargs = pop(), args = pop(), cls = pop();
        if (kwargs->kind != K::Dict || !kwargs->entries.empty()) throw fail("NEWOBJ_EX with keyword arguments");
        push(call(cls, args));
        break;
      }
      case 'b': {  // BUILD: object state (attributes such as a state dict's _metadata) is not needed
        pop();
        const K k = top()->kind;
        if (k != K::Dict && k != K::Opaque && k != K::Tensor) throw fail(std::string("BUILD on a ") + top()->kind_name());
        break;
      }
      case 'Q': {  // BINPERSID
        PyRef s = persistent_load_(pop());
        if (s->kind == K::Storage && storages_.insert(s.get()).second) storage_bytes_ += s->tensor.nbytes;
        push(std::move(s));
        break;
      }
      default: {
        static const char* hex = "0123456789abcdef";
        throw fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15]);
      }
    }
  }
}

}  // namespace

PyRef unpickle(const uint8_t* data, size_t size, const std::string& name, const PersistentLoad& persistent_load) {
  return Unpickler(data, size, name, persistent_load).run();
}

std::optional<RawDType> torch_storage_dtype(const std::string& global) {
  const Allowed* a = lookup(global);
  if (!a || a->builder != Builder::Storage) return std::nullopt;
  return a->dtype;
}

}  // namespace vitrt::conv
