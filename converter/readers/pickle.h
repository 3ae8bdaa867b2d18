// A restricted unpickler for PyTorch checkpoints (pickle protocols 2-5).
// It never executes anything: the only globals it accepts are a whitelist
// of container, number and tensor builders, each re-implemented here as
// plain data construction. Everything else - os.system, builtins.eval, any
// class it does not know - is refused with an error naming the global.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "readers/tensors.h"

namespace vitrt::conv {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

// One unpickled object. Containers are shared, as in Python: the memo may
// hand out the same dict twice. But a container is never changed once it is
// inside another (a pickler finishes each object before its parent takes
// it; only self-referencing data, which no checkpoint holds, does
// otherwise), so values form no reference cycles and `depth` stays exact.
struct PyValue {
  enum class Kind {
    None, Bool, Int, Float, String, Bytes, List, Tuple, Dict,
    Global,   // a whitelisted callable; `text` is "module.name"
    Storage,  // a torch storage: `tensor` is its bytes as a 1-D tensor
    Tensor,
    Opaque,   // a harmless object nobody needs (numpy scalar, argparse.Namespace, ...); `text` says what
  };
  Kind kind = Kind::None;
  int64_t integer = 0;  // Bool, Int
  double number = 0;    // Float
  std::string text;     // String, Bytes, Global, Opaque
  std::vector<PyRef> items;                     // List, Tuple (sets become lists)
  std::vector<std::pair<PyRef, PyRef>> entries;  // Dict, in insertion order; a repeated key: the last wins
  RawTensor tensor;                              // Storage, Tensor
  int depth = 0;           // container nesting (0 for leaves and empty containers); bounded by the unpickler
  bool contained = false;  // inside a container: no longer changed

  const char* kind_name() const;
};

// Resolves a persistent id (torch: ('storage', type, key, location, numel))
// to an object, normally a Storage.
using PersistentLoad = std::function<PyRef(const PyRef& pid)>;

// Unpickles `data[0, size)`. `name` (e.g. "model.pth:archive/data.pkl")
// prefixes every error message. Hostile input gives an error, never work
// or memory out of proportion to the file: nesting is capped, tensor views
// (and all their gathered copies) are bounded by their storages' bytes, and
// containers copied by set() / torch.Size() count against the pickle's length.
PyRef unpickle(const uint8_t* data, size_t size, const std::string& name, const PersistentLoad& persistent_load);

// The element type of a whitelisted torch storage global ("torch.FloatStorage").
std::optional<RawDType> torch_storage_dtype(const std::string& global);

}  // namespace vitrt::conv
