#include "families/families.h"

#include <stdexcept>

#include "families/family_google.h"
#include "families/family_hf.h"
#include "families/family_mocov3.h"
#include "families/family_postnorm.h"
#include "families/family_timm.h"
#include "families/family_vitpytorch.h"

namespace vitrt::conv {
namespace {

constexpr int kStretch = 1, kBilinear = 0;  // schema ResizeMode / Interpolation

// Google's vit_jax input pipeline, Hugging Face's ViTImageProcessor and
// jeonsworld's test transform all resize straight to the model size
// (bilinear) and map pixels to [-1, 1].
void stretch_to_plus_minus_one(HParams& h) {
  h.mean.set({0.5f}, "the family's default preprocessing");  // every channel
  h.std.set({0.5f}, "the family's default preprocessing");
  h.resize.set(kStretch, "the family's default preprocessing");
  h.interpolation.set(kBilinear, "the family's default preprocessing");
}

// MoCo v3 main_lincls.py: Resize(256) + CenterCrop(224) (bilinear), with
// ImageNet statistics, which are also the fallback when none are given.
void imagenet_crop_bilinear(HParams& h) {
  h.crop_pct.set(0.875f, "the family's default preprocessing");
  h.interpolation.set(kBilinear, "the family's default preprocessing");
}

}  // namespace

const std::vector<Family>& families() {
  // Most specific first: detection stops at the first match.
  static const std::vector<Family> all = {
      {"mocov3", "MoCo v3 ViT (vits.py, incl. ConvStem)", is_mocov3_vit, map_mocov3_vit, imagenet_crop_bilinear},
      {"timm", "timm VisionTransformer / DeiT", is_timm_vit, map_timm_vit, nullptr},
      {"google", "Google ViT (JAX/flax models_vit, .npz)", is_google_vit, map_google_vit, stretch_to_plus_minus_one},
      {"hf", "Hugging Face transformers ViTForImageClassification", is_hf_vit, map_hf_vit, stretch_to_plus_minus_one},
      {"jeonsworld", "jeonsworld ViT-pytorch", is_jeonsworld_vit, map_jeonsworld_vit, stretch_to_plus_minus_one},
      {"postnorm", "post-norm seed ViT (shared per-head q/k/v)", is_postnorm_vit, map_postnorm_vit, nullptr},
      {"vitpytorch", "lucidrains vit-pytorch ViT", is_vitpytorch, map_vitpytorch, nullptr},
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
