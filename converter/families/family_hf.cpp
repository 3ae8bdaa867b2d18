#include "families/family_hf.h"

#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"

namespace vitrt::conv {

namespace {

// Where each piece lives; every name but `head` is under `root`.
struct Naming {
  const char* family;
  std::string root;
  const char *patch, *cls, *pos, *layer;
  const char *norm1, *query, *key, *value, *out, *norm2, *fc1, *fc2;
  const char *norm, *head;
  float default_eps;
};

const char* const kHfPatch = "embeddings.patch_embeddings.projection.";

// transformers models/vit/modeling_vit.py; ViTConfig.layer_norm_eps = 1e-12.
Naming hf_naming(const std::string& root) {
  return {"Hugging Face ViT", root, kHfPatch, "embeddings.cls_token", "embeddings.position_embeddings",
          "encoder.layer.", "layernorm_before.", "attention.attention.query.", "attention.attention.key.",
          "attention.attention.value.", "attention.output.dense.", "layernorm_after.", "intermediate.dense.",
          "output.dense.", "layernorm.", "classifier.", 1e-12f};
}

// jeonsworld/ViT-pytorch models/modeling.py: every LayerNorm has eps=1e-6.
const Naming kJeonsworld = {
    "jeonsworld ViT-pytorch", "transformer.", "embeddings.patch_embeddings.", "embeddings.cls_token",
    "embeddings.position_embeddings", "encoder.layer.", "attention_norm.", "attn.query.", "attn.key.",
    "attn.value.", "attn.out.", "ffn_norm.", "ffn.fc1.", "ffn.fc2.", "encoder.encoder_norm.", "head.", 1e-6f};

constexpr int32_t kPoolClassToken = 0;

Model map_bert_style(const TensorMap& tensors, const HParams& hp, const Naming& n) {
  TensorPool pool(tensors);
  Model m;
  Config& c = m.config;
  const std::string& r = n.root;

  m.patch_embed = take_conv_patch_embed(pool, r + n.patch + "weight", r + n.patch + "bias", hp, c);
  const int64_t dim = c.dim;
  m.cls_token = pool.take(r + n.cls, {1, 1, dim}, {dim});
  check_matches(hp.class_token, true, "class token");

  auto layer = [&](int i) { return r + n.layer + std::to_string(i) + "."; };
  while (pool.has(layer(c.depth) + n.query + "weight")) ++c.depth;
  if (c.depth == 0) throw std::runtime_error("the checkpoint has no encoder layers (" + layer(0) + n.query + "weight)");
  check_matches(hp.depth, c.depth, "depth");
  const auto& fc1 = pool.shape(layer(0) + n.fc1 + "weight");
  if (fc1.size() != 2) throw std::runtime_error(layer(0) + n.fc1 + "weight must be 2-D, got " + shape_string(fc1));
  c.mlp_dim = to_int(fc1[0], "MLP dim");
  check_matches(hp.mlp_dim, c.mlp_dim, "MLP dim");
  c.heads = require_heads(hp, c.dim);
  c.head_dim = c.dim / c.heads;
  c.attn_scale = 1.0f / std::sqrt(float(c.head_dim));
  c.ln_eps = hp.ln_eps ? *hp.ln_eps : n.default_eps;
  c.mlp_activation = 1;  // GeluErf: both use the exact GELU
  check_matches(hp.qkv_bias, pool.has(layer(0) + n.query + "bias"), "qkv bias");
  for (int i = 0; i < c.depth; ++i) {
    const std::string p = layer(i);
    Block& b = m.blocks.emplace_back();
    b.norm1 = take_norm(pool, p + n.norm1, dim);
    b.qkv = fuse_qkv(take_linear(pool, p + n.query, dim, dim), take_linear(pool, p + n.key, dim, dim),
                     take_linear(pool, p + n.value, dim, dim));
    b.proj = take_linear(pool, p + n.out, dim, dim);
    b.norm2 = take_norm(pool, p + n.norm2, dim);
    b.fc1 = take_linear(pool, p + n.fc1, c.mlp_dim, dim);
    b.fc2 = take_linear(pool, p + n.fc2, dim, c.mlp_dim);
    if (!b.norm1.weight.present() || !b.norm2.weight.present())
      throw std::runtime_error(p + " lacks " + n.norm1 + " or " + n.norm2);
  }
  m.norm = take_norm(pool, r + n.norm, dim);
  if (!m.norm.weight.present()) throw std::runtime_error("the checkpoint has no final LayerNorm (" + r + n.norm + "weight)");

  // Both classify the class token after the final norm.
  if (hp.pool && *hp.pool != Pool::Token)
    throw std::runtime_error(std::string("mean pooling (from ") + hp.pool.source + ") but " + n.family +
                             " classifies the class token");
  c.pooling = kPoolClassToken;
  const std::string head = std::string(n.head) + "weight";
  if (!pool.has(head)) throw std::runtime_error("the checkpoint has no classifier head (" + head + "); vitrt needs one");
  m.head = take_linear(pool, n.head, -1, dim);
  c.num_classes = to_int(m.head.weight.shape[0], "class count");
  check_matches(hp.num_classes, c.num_classes, "num_classes");

  const auto& ps = pool.shape(r + n.pos);
  if (ps.size() != 3 || ps[0] != 1 || ps[2] != dim)
    throw std::runtime_error(r + n.pos + " must be [1, tokens, " + std::to_string(dim) + "], got " + shape_string(ps));
  const ImageGeometry g = resolve_geometry(hp, ps[1], 1, c.patch_h, c.patch_w);
  if (g.pos_embed_patches_only) throw std::runtime_error(r + n.pos + " must cover the class token too");
  c.image_h = g.image_h;
  c.image_w = g.image_w;
  m.pos_embed = take_pos_embed(pool, r + n.pos, dim, g, 1, c.patch_h, c.patch_w);

  pool.require_all_taken(n.family);
  return m;
}

}  // namespace

bool is_hf_vit(const TensorMap& tensors) {
  return tensors.count(std::string("vit.") + kHfPatch + "weight") || tensors.count(std::string(kHfPatch) + "weight");
}

bool is_jeonsworld_vit(const TensorMap& tensors) {
  return tensors.count(kJeonsworld.root + kJeonsworld.patch + "weight") != 0;
}

Model map_hf_vit(const TensorMap& tensors, const HParams& hp) {
  return map_bert_style(tensors, hp, hf_naming(tensors.count(std::string("vit.") + kHfPatch + "weight") ? "vit." : ""));
}

Model map_jeonsworld_vit(const TensorMap& tensors, const HParams& hp) { return map_bert_style(tensors, hp, kJeonsworld); }

}  // namespace vitrt::conv
