#include "families.h"

#include <stdexcept>

#include "family_google.h"
#include "family_hf.h"
#include "family_mocov3.h"
#include "family_postnorm.h"
#include "family_timm.h"
#include "family_vitpytorch.h"

namespace vitrt::conv {

const std::vector<Family>& families() {
  // Most specific first: detection stops at the first match.
  static const std::vector<Family> all = {
      {"mocov3", "MoCo v3 ViT (vits.py, incl. ConvStem)", is_mocov3_vit, map_mocov3_vit},
      {"timm", "timm VisionTransformer / DeiT", is_timm_vit, map_timm_vit},
      {"google", "Google ViT (JAX/flax models_vit, .npz)", is_google_vit, map_google_vit},
      {"hf", "Hugging Face transformers ViTForImageClassification", is_hf_vit, map_hf_vit},
      {"jeonsworld", "jeonsworld ViT-pytorch", is_jeonsworld_vit, map_jeonsworld_vit},
      {"postnorm", "post-norm seed ViT (shared per-head q/k/v)", is_postnorm_vit, map_postnorm_vit},
      {"vitpytorch", "lucidrains vit-pytorch ViT", is_vitpytorch, map_vitpytorch},
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
