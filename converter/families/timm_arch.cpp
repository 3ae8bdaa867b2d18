#include "families/timm_arch.h"

#include <stdexcept>

namespace vitrt::conv {
namespace {

struct Arch {
  std::string name;
  int dim, depth, heads, patch, image;
  bool distilled;
  bool deit;  // DeiT uses ImageNet statistics and crop 0.875; timm ViT uses 0.5 and 0.9
  // MoCo v3 (moco-v3 vits.py names): DeiT's statistics and crop, but
  // torchvision's default bilinear resize (main_lincls.py).
  bool moco = false;
};

std::vector<Arch> table() {
  struct Size { const char* name; int dim, depth, heads; };
  const Size vit_sizes[] = {{"tiny", 192, 12, 3}, {"small", 384, 12, 6}, {"base", 768, 12, 12}, {"large", 1024, 24, 16}};
  std::vector<Arch> archs;
  for (const Size& s : vit_sizes)
    for (int patch : {16, 32})
      for (int image : {224, 384})
        archs.push_back({std::string("vit_") + s.name + "_patch" + std::to_string(patch) + "_" + std::to_string(image),
                         s.dim, s.depth, s.heads, patch, image, false, false});
  for (bool distilled : {false, true}) {
    const std::string kind = distilled ? "_distilled" : "";
    for (int i = 0; i < 3; ++i)
      archs.push_back({std::string("deit_") + vit_sizes[i].name + kind + "_patch16_224", vit_sizes[i].dim,
                       vit_sizes[i].depth, vit_sizes[i].heads, 16, 224, distilled, true});
    archs.push_back({"deit_base" + kind + "_patch16_384", 768, 12, 12, 16, 384, distilled, true});
  }
  // Their ConvStem variants trade one block for the stem: depth 11.
  for (const Size& s : {vit_sizes[1], vit_sizes[2]})
    for (bool conv : {false, true})
      archs.push_back({std::string(conv ? "vit_conv_" : "vit_") + s.name, s.dim, conv ? 11 : 12, 12, 16, 224,
                       false, true, true});
  return archs;
}

HParams to_hparams(const Arch& a, const std::string& src) {
  HParams h;
  h.arch.set(a.name, src);
  h.dim.set(a.dim, src);
  h.depth.set(a.depth, src);
  h.heads.set(a.heads, src);
  h.mlp_dim.set(4 * a.dim, src);
  h.channels.set(3, src);
  h.image_h.set(a.image, src);
  h.image_w.set(a.image, src);
  h.patch_h.set(a.patch, src);
  h.patch_w.set(a.patch, src);
  h.class_token.set(true, src);
  h.dist_token.set(a.distilled, src);
  h.interpolation.set(a.moco ? 0 : 1, src);  // bilinear : bicubic
  h.resize.set(0, src);                       // crop_mode "center": ShorterSideCrop
  if (a.deit) {
    h.mean.set({0.485f, 0.456f, 0.406f}, src);
    h.std.set({0.229f, 0.224f, 0.225f}, src);
    h.crop_pct.set(a.image == 224 ? 0.875f : 1.0f, src);
  } else {
    h.mean.set({0.5f, 0.5f, 0.5f}, src);
    h.std.set({0.5f, 0.5f, 0.5f}, src);
    h.crop_pct.set(a.image == 224 ? 0.9f : 1.0f, src);
  }
  return h;
}

}  // namespace

std::vector<std::string> known_archs() {
  std::vector<std::string> names;
  for (const Arch& a : table()) names.push_back(a.name);
  return names;
}

std::optional<HParams> find_arch(const std::string& name, const std::string& source) {
  const std::string base = name.substr(0, name.find('.'));
  for (const Arch& a : table())
    if (a.name == base) return to_hparams(a, source);
  return std::nullopt;
}

const std::vector<std::string>& imagenet_labels() {
  static const std::vector<std::string> labels = {
#include "families/imagenet_labels.inc"
  };
  return labels;
}

HParams arch_hparams(const std::string& name, const std::string& source) {
  if (auto h = find_arch(name, source)) return *h;
  std::string list;
  for (const std::string& n : known_archs()) list += (list.empty() ? "" : ", ") + n;
  throw std::runtime_error("unknown architecture '" + name + "'; known: " + list);
}

}  // namespace vitrt::conv
