#include "families/family_timm.h"

#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"

namespace vitrt::conv {

bool is_timm_vit(const TensorMap& tensors) { return tensors.count("patch_embed.proj.weight") != 0; }

namespace {

constexpr int32_t kPoolClassToken = 0, kPoolMeanPatches = 1;
constexpr int32_t kPosEmbedNone = 0, kPosEmbedLearned = 1;
constexpr int32_t kActTanh = 4;

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

  m.patch_embed = take_conv_patch_embed(pool, "patch_embed.proj.weight", "patch_embed.proj.bias", hp, c);
  const int64_t dim = c.dim;

  c.class_token = pool.has("cls_token");
  c.dist_token = pool.has("dist_token");
  if (c.dist_token && !c.class_token) throw std::runtime_error("the checkpoint has dist_token but no cls_token");
  check_matches(hp.class_token, c.class_token, "class token");
  check_matches(hp.dist_token, c.dist_token, "distillation token");
  m.cls_token = pool.take_optional("cls_token", {1, 1, dim}, {dim});
  m.dist_token = pool.take_optional("dist_token", {1, 1, dim}, {dim});

  m.blocks = take_timm_blocks(pool, hp, c);

  m.norm = take_norm(pool, "norm.", dim);
  m.fc_norm = take_norm(pool, "fc_norm.", dim);
  check_matches(hp.fc_norm, m.fc_norm.weight.present(), "fc_norm");

  // Older timm ViTs with representation_size: pre_logits Linear + tanh.
  int64_t features = dim;
  if (pool.has("pre_logits.fc.weight")) {
    Linear& l = m.pre_logits.emplace_back();
    l.weight = pool.take("pre_logits.fc.weight", {-1, dim});
    features = l.weight.shape[0];
    l.bias = pool.take_optional("pre_logits.fc.bias", {features});
    m.pre_logits_act = kActTanh;
  }

  if (!pool.has("head.weight"))
    throw std::runtime_error("the checkpoint has no classifier head (head.weight; timm num_classes=0); vitrt needs one");
  m.head.weight = pool.take("head.weight", {-1, features});
  c.num_classes = to_int(m.head.weight.shape[0], "class count");
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
  if (pos_tokens) m.pos_embed = take_pos_embed(pool, "pos_embed", dim, g, prefix, c.patch_h, c.patch_w);

  pool.require_all_taken("timm VisionTransformer");
  return m;
}

}  // namespace vitrt::conv
