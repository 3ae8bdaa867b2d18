#include "family_timm.h"

#include <cmath>
#include <stdexcept>

#include "mapper_util.h"

namespace vitrt::conv {

bool is_timm_vit(const TensorMap& tensors) { return tensors.count("patch_embed.proj.weight") != 0; }

namespace {

constexpr int32_t kPoolClassToken = 0, kPoolMeanPatches = 1;
constexpr int32_t kPosEmbedNone = 0, kPosEmbedLearned = 1;
constexpr int32_t kActTanh = 4;

int to_int(int64_t v, const std::string& what) {
  if (v <= 0 || v > INT32_MAX) throw std::runtime_error(what + " " + std::to_string(v) + " is out of range");
  return int(v);
}

Block map_block(TensorPool& pool, int i, int64_t dim, int64_t mlp) {
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

// timm: fc_norm exists when global_pool='avg' (unless fc_norm=False), a
// model without a class token pools by averaging, DeiT distilled always
// uses its two tokens.
int32_t choose_pooling(const HParams& hp, bool cls, bool dist, bool fc_norm) {
  if (dist) {
    if (hp.pool && *hp.pool != Pool::Token)
      throw std::runtime_error("mean pooling (from " + hp.pool.source +
                               ") is not possible for a distilled DeiT, whose head reads the class and distillation tokens");
    return kPoolClassToken;
  }
  if (!cls) {
    if (hp.pool && *hp.pool == Pool::Token)
      throw std::runtime_error("class-token pooling (from " + hp.pool.source + ") but the checkpoint has no cls_token");
    return kPoolMeanPatches;
  }
  if (hp.pool) return *hp.pool == Pool::Token ? kPoolClassToken : kPoolMeanPatches;
  return fc_norm ? kPoolMeanPatches : kPoolClassToken;
}

}  // namespace

Model map_timm_vit(const TensorMap& tensors, const HParams& hp) {
  TensorPool pool(tensors);
  Model m;
  Config& c = m.config;

  const auto& pe = pool.shape("patch_embed.proj.weight");
  if (pe.size() != 4) throw std::runtime_error("patch_embed.proj.weight must be [dim, channels, patch_h, patch_w], got " + shape_string(pe));
  const int64_t dim = pe[0];
  c.dim = to_int(dim, "embedding dim");
  c.channels = to_int(pe[1], "channel count");
  c.patch_h = to_int(pe[2], "patch height");
  c.patch_w = to_int(pe[3], "patch width");
  check_matches(hp.dim, c.dim, "embedding dim");
  check_matches(hp.channels, c.channels, "channel count");
  check_matches(hp.patch_h, c.patch_h, "patch height");
  check_matches(hp.patch_w, c.patch_w, "patch width");
  // A Conv2d with stride = kernel is a Linear over (c, p, q)-flattened patches.
  m.patch_embed.weight = pool.take("patch_embed.proj.weight", pe, {dim, pe[1] * pe[2] * pe[3]});
  m.patch_embed.bias = pool.take_optional("patch_embed.proj.bias", {dim});

  c.class_token = pool.has("cls_token");
  c.dist_token = pool.has("dist_token");
  if (c.dist_token && !c.class_token) throw std::runtime_error("the checkpoint has dist_token but no cls_token");
  check_matches(hp.class_token, c.class_token, "class token");
  check_matches(hp.dist_token, c.dist_token, "distillation token");
  m.cls_token = pool.take_optional("cls_token", {1, 1, dim}, {dim});
  m.dist_token = pool.take_optional("dist_token", {1, 1, dim}, {dim});

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
  for (int i = 0; i < c.depth; ++i) m.blocks.push_back(map_block(pool, i, dim, c.mlp_dim));

  m.norm = take_norm(pool, "norm.", dim);
  m.fc_norm = take_norm(pool, "fc_norm.", dim);
  check_matches(hp.fc_norm, m.fc_norm.weight.present(), "fc_norm");

  // Older timm ViTs with representation_size: pre_logits Linear + tanh.
  int64_t features = dim;
  if (pool.has("pre_logits.fc.weight")) {
    m.pre_logits.weight = pool.take("pre_logits.fc.weight", {-1, dim});
    features = m.pre_logits.weight.shape[0];
    m.pre_logits.bias = pool.take_optional("pre_logits.fc.bias", {features});
    m.pre_logits_act = kActTanh;
  }

  if (!pool.has("head.weight"))
    throw std::runtime_error("the checkpoint has no classifier head (head.weight; timm num_classes=0); vitrt needs one");
  m.head.weight = pool.take("head.weight", {-1, features});
  c.num_classes = m.head.weight.shape[0];
  m.head.bias = pool.take_optional("head.bias", {c.num_classes});
  check_matches(hp.num_classes, c.num_classes, "num_classes");
  if (c.dist_token) {
    m.head_dist.weight = pool.take("head_dist.weight", {c.num_classes, features});
    m.head_dist.bias = pool.take_optional("head_dist.bias", {c.num_classes});
  }
  c.pooling = choose_pooling(hp, c.class_token, c.dist_token, m.fc_norm.weight.present());

  const int prefix = int(c.class_token) + int(c.dist_token);
  int64_t pos_tokens = 0;
  if (pool.has("pos_embed")) {
    const auto& ps = pool.shape("pos_embed");
    if (ps.size() != 3 || ps[0] != 1 || ps[2] != dim)
      throw std::runtime_error("pos_embed must be [1, tokens, " + std::to_string(dim) + "], got " + shape_string(ps));
    pos_tokens = ps[1];
  }
  ImageGeometry g = resolve_geometry(hp, pos_tokens, prefix, c.patch_h, c.patch_w);
  c.image_h = g.image_h;
  c.image_w = g.image_w;
  c.pos_embed_patches_only = g.pos_embed_patches_only;
  check_matches(hp.pos_embed_patches_only, c.pos_embed_patches_only, "pos_embed without prefix tokens (no_embed_class)");
  c.pos_embed = pos_tokens ? kPosEmbedLearned : kPosEmbedNone;
  if (pos_tokens) m.pos_embed = pool.take("pos_embed", {1, pos_tokens, dim}, {pos_tokens, dim});

  pool.require_all_taken("timm VisionTransformer");
  return m;
}

}  // namespace vitrt::conv
