#include "mapper_util.h"

#include <cmath>
#include <stdexcept>

namespace vitrt::conv {

int require_heads(const HParams& hp, int dim) {
  if (!hp.heads)
    throw std::runtime_error(
        "cannot infer the number of attention heads from the checkpoint; pass --heads N, --arch NAME or --config FILE");
  if (dim % *hp.heads != 0)
    throw std::runtime_error("heads " + std::to_string(*hp.heads) + " (from " + hp.heads.source +
                             ") does not divide the embedding dim " + std::to_string(dim));
  return *hp.heads;
}

namespace {

int64_t exact_sqrt(int64_t n) {
  if (n <= 0) return 0;
  auto r = int64_t(std::llround(std::sqrt(double(n))));
  return r * r == n ? r : 0;
}

}  // namespace

ImageGeometry resolve_geometry(const HParams& hp, int64_t pos_tokens, int prefix, int patch_h, int patch_w) {
  ImageGeometry g;
  if (hp.image_h && hp.image_w) {
    g.image_h = *hp.image_h;
    g.image_w = *hp.image_w;
    if (g.image_h % patch_h || g.image_w % patch_w)
      throw std::runtime_error("image size " + std::to_string(g.image_h) + "x" + std::to_string(g.image_w) + " (from " +
                               hp.image_h.source + ") is not divisible by the patch size " + std::to_string(patch_h) +
                               "x" + std::to_string(patch_w));
    if (pos_tokens == 0) return g;
    const int64_t patches = int64_t(g.image_h / patch_h) * (g.image_w / patch_w);
    if (pos_tokens == patches + prefix) return g;
    if (prefix > 0 && pos_tokens == patches) {
      g.pos_embed_patches_only = true;
      return g;
    }
    throw std::runtime_error("image size " + std::to_string(g.image_h) + "x" + std::to_string(g.image_w) + " (from " +
                             hp.image_h.source + ") gives " + std::to_string(patches) + " patches, but the pos_embed has " +
                             std::to_string(pos_tokens) + " tokens with " + std::to_string(prefix) + " prefix tokens");
  }
  if (pos_tokens == 0)
    throw std::runtime_error("the checkpoint has no position embedding to infer the image size from; pass --image-size");
  int64_t side = exact_sqrt(pos_tokens - prefix);
  if (!side && prefix > 0 && (side = exact_sqrt(pos_tokens))) g.pos_embed_patches_only = true;
  if (!side)
    throw std::runtime_error("cannot infer the image size from a pos_embed of " + std::to_string(pos_tokens) +
                             " tokens (not a square grid); pass --image-size H[xW]");
  g.image_h = int(side) * patch_h;
  g.image_w = int(side) * patch_w;
  return g;
}

Norm take_norm(TensorPool& pool, const std::string& prefix, int64_t dim) {
  Norm n;
  if (!pool.has(prefix + "weight") && !pool.has(prefix + "bias")) return n;
  n.weight = pool.take(prefix + "weight", {dim});
  n.bias = pool.take(prefix + "bias", {dim});
  return n;
}

void fold_output_scale(Linear& l, const Tensor& gamma) {
  const size_t out = size_t(l.weight.shape[0]), in = size_t(l.weight.shape[1]);
  if (gamma.data.size() != out) throw std::runtime_error("LayerScale size does not match its layer");
  for (size_t o = 0; o < out; ++o) {
    for (size_t i = 0; i < in; ++i) l.weight.data[o * in + i] *= gamma.data[o];
    if (l.bias.present()) l.bias.data[o] *= gamma.data[o];
  }
}

}  // namespace vitrt::conv
