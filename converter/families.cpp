#include "families.h"

#include <stdexcept>

#include "family_timm.h"

namespace vitrt::conv {

const std::vector<Family>& families() {
  // Most specific first: detection stops at the first match.
  static const std::vector<Family> all = {
      {"timm", "timm VisionTransformer / DeiT", is_timm_vit, map_timm_vit},
  };
  return all;
}

const Family& find_family(const std::string& name, const TensorMap& tensors, const std::string& path) {
  std::string known;
  for (const Family& f : families()) {
    if (!name.empty() && name == f.name) return f;
    if (name.empty() && f.detect(tensors)) return f;
    known += std::string(known.empty() ? "" : ", ") + f.name + " (" + f.description + ")";
  }
  if (!name.empty()) throw std::runtime_error("unknown --family " + name + "; known: " + known);
  std::string some;
  int n = 0;
  for (auto it = tensors.begin(); it != tensors.end() && n < 5; ++it, ++n) some += (n ? ", " : "") + it->first;
  throw std::runtime_error(path + ": unrecognised checkpoint layout (supported: " + known +
                           "); its tensors include: " + (some.empty() ? "none" : some));
}

}  // namespace vitrt::conv
