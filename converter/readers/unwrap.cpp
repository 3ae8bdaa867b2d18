#include "readers/unwrap.h"

#include <stdexcept>
#include <unordered_set>

namespace vitrt::conv {
namespace {

using K = PyValue::Kind;

// Most specific first.
const char* const kStateDictKeys[] = {"state_dict", "model_state_dict", "model_state", "model",
                                      "module", "net", "network"};
// Deep enough for any real nesting; bounds the recursion.
constexpr int kMaxDepth = 8;
const std::string kDataParallelPrefix = "module.";

const PyRef* lookup(const PyValue& dict, const std::string& key) {
  const PyRef* found = nullptr;  // the last wins, as in Python
  for (const auto& [k, v] : dict.entries)
    if (k->kind == K::String && k->text == key) found = &v;
  return found;
}

// `seen`: dicts already searched. Searching each once keeps a dict whose
// keys all lead back to itself from costing 7^depth searches; a second
// search of a dict would find what the first did (within the depth cap).
bool find(const PyRef& v, const std::string& where, int depth, std::unordered_set<const PyValue*>& seen,
          StateDict& out) {
  if (v->kind != K::Dict || depth > kMaxDepth || !seen.insert(v.get()).second) return false;
  for (const char* key : kStateDictKeys)
    if (const PyRef* child = lookup(*v, key); child && find(*child, where + "['" + key + "']", depth + 1, seen, out))
      return true;
  for (const auto& [k, t] : v->entries)
    if (k->kind == K::String && t->kind == K::Tensor) out.tensors[k->text] = t->tensor;
  out.origin = where;
  return !out.tensors.empty();
}

// "a dict with keys model (dict), epoch (int)", for errors.
std::string describe(const PyRef& checkpoint) {
  std::string keys;
  if (checkpoint->kind == K::Dict)
    for (const auto& [k, v] : checkpoint->entries)
      if (k->kind == K::String) keys += (keys.empty() ? "" : ", ") + k->text + " (" + v->kind_name() + ")";
  const std::string kind = checkpoint->kind_name();
  const char* article = kind.find_first_of("aeiou") == 0 ? "an " : "a ";
  return article + kind + (keys.empty() ? std::string() : " with keys " + keys);
}

}  // namespace

StateDict unwrap_state_dict(const PyRef& checkpoint, const std::string& path, const std::string& key) {
  StateDict sd;
  std::unordered_set<const PyValue*> seen;
  if (!key.empty()) {
    const PyRef* child = checkpoint->kind == K::Dict ? lookup(*checkpoint, key) : nullptr;
    if (!child)
      throw std::runtime_error(path + ": --key " + key + ": no such key; the checkpoint is " + describe(checkpoint));
    const std::string where = "checkpoint['" + key + "']";
    if (!find(*child, where, 1, seen, sd))
      throw std::runtime_error(path + ": --key " + key + ": " + where + " holds no tensors; it is " + describe(*child));
  } else if (!find(checkpoint, "checkpoint", 0, seen, sd)) {
    std::string expected;
    for (const char* k : kStateDictKeys) expected += std::string(expected.empty() ? "" : ", ") + k;
    throw std::runtime_error(path + ": no tensors found: expected a state dict, or one under " + expected +
                             "; the checkpoint is " + describe(checkpoint) + " (--key NAME picks one)");
  }
  if (strip_data_parallel_prefix(sd.tensors)) sd.origin += ", '" + kDataParallelPrefix + "' prefix removed";
  if (checkpoint->kind == K::Dict)
    if (const PyRef* arch = lookup(*checkpoint, "arch"); arch && (*arch)->kind == K::String) sd.arch = (*arch)->text;
  return sd;
}

bool strip_data_parallel_prefix(TensorMap& tensors) {
  if (tensors.empty()) return false;
  for (const auto& [name, t] : tensors)
    if (name.rfind(kDataParallelPrefix, 0) != 0) return false;
  TensorMap stripped;
  for (auto& [name, t] : tensors) stripped.emplace(name.substr(kDataParallelPrefix.size()), std::move(t));
  tensors = std::move(stripped);
  return true;
}

}  // namespace vitrt::conv
