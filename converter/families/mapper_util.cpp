#include "families/mapper_util.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "families/pos_embed.h"

namespace vitrt::conv {

int to_int(int64_t v, const std::string& what) {
  if (v <= 0 || v > INT32_MAX) throw std::runtime_error(what + " " + std::to_string(v) + " is out of range");
  return int(v);
}

int require_heads(const HParams& hp, int width, const std::string& what) {
  if (!hp.heads)
    throw std::runtime_error(
        "cannot infer the number of attention heads from the checkpoint; pass --heads N, --arch NAME or --config FILE");
  if (width % *hp.heads != 0)
    throw std::runtime_error("heads " + std::to_string(*hp.heads) + " (from " + hp.heads.source +
                             ") does not divide the " + what + " " + std::to_string(width));
  return *hp.heads;
}

void set_stem(Config& c, const HParams& hp, int64_t dim, int64_t channels, int64_t patch_h, int64_t patch_w) {
  c.dim = to_int(dim, "embedding dim");
  c.channels = to_int(channels, "channel count");
  c.patch_h = to_int(patch_h, "patch height");
  c.patch_w = to_int(patch_w, "patch width");
  check_matches(hp.dim, c.dim, "embedding dim");
  check_matches(hp.channels, c.channels, "channel count");
  check_matches(hp.patch_h, c.patch_h, "patch height");
  check_matches(hp.patch_w, c.patch_w, "patch width");
}

Linear take_conv_patch_embed(TensorPool& pool, const std::string& weight, const std::string& bias, const HParams& hp,
                             Config& c) {
  const auto pe = pool.shape(weight);
  if (pe.size() != 4) throw std::runtime_error(weight + " must be [dim, channels, patch_h, patch_w], got " + shape_string(pe));
  set_stem(c, hp, pe[0], pe[1], pe[2], pe[3]);
  // A Conv2d with stride = kernel is a Linear over (c, p, q)-flattened patches.
  Linear l;
  l.weight = pool.take(weight, pe, {pe[0], pe[1] * pe[2] * pe[3]});
  l.bias = pool.take_optional(bias, {pe[0]});
  return l;
}

int64_t exact_sqrt(int64_t n) {
  if (n <= 0) return 0;
  auto r = int64_t(std::llround(std::sqrt(double(n))));
  return r * r == n ? r : 0;
}

ImageGeometry resolve_geometry(const HParams& hp, int64_t pos_tokens, int prefix, int patch_h, int patch_w) {
  ImageGeometry g;
  if (hp.image_h && hp.image_w) {
    g.image_h = *hp.image_h;
    g.image_w = *hp.image_w;
    const std::string size = std::to_string(g.image_h) + "x" + std::to_string(g.image_w) + " (from " + hp.image_h.source + ")";
    if (g.image_h % patch_h || g.image_w % patch_w)
      throw std::runtime_error("image size " + size + " is not divisible by the patch size " + std::to_string(patch_h) +
                               "x" + std::to_string(patch_w));
    if (pos_tokens == 0) return g;
    const int64_t patches = int64_t(g.image_h / patch_h) * (g.image_w / patch_w);
    if (pos_tokens == patches + prefix) return g;
    if (prefix > 0 && pos_tokens == patches) {
      g.pos_embed_patches_only = true;
      return g;
    }
    // Another size than the checkpoint's: resample its (square) grid.
    g.pos_grid = int(exact_sqrt(pos_tokens - prefix));
    if (!g.pos_grid && prefix > 0 && (g.pos_grid = int(exact_sqrt(pos_tokens)))) g.pos_embed_patches_only = true;
    if (g.pos_grid) return g;
    throw std::runtime_error("image size " + size + " gives " + std::to_string(patches) + " patches, but the pos_embed has " +
                             std::to_string(pos_tokens) + " tokens with " + std::to_string(prefix) +
                             " prefix tokens, and no square grid to resample");
  }
  if (pos_tokens == 0)
    throw std::runtime_error("the checkpoint has no position embedding to infer the image size from; pass --image-size");
  int64_t side = exact_sqrt(pos_tokens - prefix);
  if (!side && prefix > 0 && (side = exact_sqrt(pos_tokens))) g.pos_embed_patches_only = true;
  if (!side)
    throw std::runtime_error("cannot infer the image size from a pos_embed of " + std::to_string(pos_tokens) +
                             " tokens (not a square grid); pass --image-size H[xW]");
  g.image_h = to_int(side * patch_h, "image height");  // int64: a hostile grid and patch overflow int
  g.image_w = to_int(side * patch_w, "image width");
  return g;
}

Tensor take_pos_embed(TensorPool& pool, const std::string& name, int64_t dim, const ImageGeometry& g, int prefix,
                      int patch_h, int patch_w) {
  const auto& shape = pool.shape(name);
  const int64_t tokens = shape.size() >= 2 ? shape[shape.size() - 2] : -1;
  Tensor pos = shape.size() == 2 ? pool.take(name, {tokens, dim}) : pool.take(name, {1, tokens, dim}, {tokens, dim});
  if (!g.pos_grid) return pos;
  return resample_pos_embed(pos, g.pos_embed_patches_only ? 0 : prefix, g.pos_grid, g.pos_grid, g.image_h / patch_h,
                            g.image_w / patch_w);
}

Norm take_norm(TensorPool& pool, const std::string& prefix, int64_t dim) {
  Norm n;
  if (!pool.has(prefix + "weight") && !pool.has(prefix + "bias")) return n;
  n.weight = pool.take(prefix + "weight", {dim});
  n.bias = pool.take(prefix + "bias", {dim});
  return n;
}

Linear take_linear(TensorPool& pool, const std::string& prefix, int64_t out, int64_t in) {
  Linear l;
  l.weight = pool.take(prefix + "weight", {out, in});
  l.bias = pool.take_optional(prefix + "bias", {l.weight.shape[0]});
  return l;
}

Linear fuse_qkv(const Linear& q, const Linear& k, const Linear& v) {
  if (q.bias.present() != k.bias.present() || q.bias.present() != v.bias.present())
    throw std::runtime_error("query, key and value must all have a bias or none");
  Linear f;
  const int32_t rows = q.weight.shape[0] + k.weight.shape[0] + v.weight.shape[0];
  f.weight.shape = {rows, q.weight.shape[1]};
  for (const Linear* l : {&q, &k, &v}) {
    f.weight.data.insert(f.weight.data.end(), l->weight.data.begin(), l->weight.data.end());
    if (l->bias.present()) f.bias.data.insert(f.bias.data.end(), l->bias.data.begin(), l->bias.data.end());
  }
  if (q.bias.present()) f.bias.shape = {rows};
  return f;
}

void patch_columns_pqc_to_cpq(Tensor& t, int channels, int patch_h, int patch_w) {
  const size_t cols = size_t(channels) * patch_h * patch_w, rows = t.data.size() / cols;
  if (rows * cols != t.data.size()) throw std::runtime_error("patch tensor size is not a multiple of channels*P*Q");
  std::vector<float> out(t.data.size());
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < size_t(channels); ++c)
      for (size_t p = 0; p < size_t(patch_h); ++p)
        for (size_t q = 0; q < size_t(patch_w); ++q)
          out[r * cols + (c * patch_h + p) * patch_w + q] = t.data[r * cols + (p * patch_w + q) * channels + c];
  t.data = std::move(out);
}

namespace {

Block take_block(TensorPool& pool, int i, int64_t dim, int64_t mlp) {
  const std::string p = "blocks." + std::to_string(i) + ".";
  Block b;
  b.norm1 = take_norm(pool, p + "norm1.", dim);
  b.qkv.weight = pool.take(p + "attn.qkv.weight", {3 * dim, dim});
  b.qkv.bias = pool.take_optional(p + "attn.qkv.bias", {3 * dim});
  b.proj.weight = pool.take(p + "attn.proj.weight", {dim, dim});
  b.proj.bias = pool.take_optional(p + "attn.proj.bias", {dim});
  b.norm2 = take_norm(pool, p + "norm2.", dim);
  b.fc1.weight = pool.take(p + "mlp.fc1.weight", {mlp, dim});
  b.fc1.bias = pool.take_optional(p + "mlp.fc1.bias", {mlp});
  b.fc2.weight = pool.take(p + "mlp.fc2.weight", {dim, mlp});
  b.fc2.bias = pool.take_optional(p + "mlp.fc2.bias", {dim});
  if (!b.norm1.weight.present() || !b.norm2.weight.present())
    throw std::runtime_error("block " + std::to_string(i) + " lacks norm1 or norm2");
  // LayerScale: x + gamma * f(x) is f with its output rows scaled.
  if (Tensor g = pool.take_optional(p + "ls1.gamma", {dim}); g.present()) fold_output_scale(b.proj, g);
  if (Tensor g = pool.take_optional(p + "ls2.gamma", {dim}); g.present()) fold_output_scale(b.fc2, g);
  return b;
}

}  // namespace

std::vector<Block> take_timm_blocks(TensorPool& pool, const HParams& hp, Config& c) {
  while (pool.has("blocks." + std::to_string(c.depth) + ".attn.qkv.weight")) ++c.depth;
  if (c.depth == 0) throw std::runtime_error("the checkpoint has no transformer blocks (blocks.0.attn.qkv.weight)");
  check_matches(hp.depth, c.depth, "depth");
  const auto& fc1 = pool.shape("blocks.0.mlp.fc1.weight");
  if (fc1.size() != 2) throw std::runtime_error("blocks.0.mlp.fc1.weight must be 2-D, got " + shape_string(fc1));
  c.mlp_dim = to_int(fc1[0], "MLP dim");
  check_matches(hp.mlp_dim, c.mlp_dim, "MLP dim");
  c.heads = require_heads(hp, c.dim);
  c.head_dim = c.dim / c.heads;
  c.attn_scale = 1.0f / std::sqrt(float(c.head_dim));
  c.ln_eps = hp.ln_eps ? *hp.ln_eps : 1e-6f;
  c.mlp_activation = 1;  // GeluErf: timm's nn.GELU default
  check_matches(hp.qkv_bias, pool.has("blocks.0.attn.qkv.bias"), "qkv bias");
  std::vector<Block> blocks;
  for (int i = 0; i < c.depth; ++i) blocks.push_back(take_block(pool, i, c.dim, c.mlp_dim));
  return blocks;
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
