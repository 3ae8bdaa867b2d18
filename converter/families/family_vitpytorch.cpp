#include "families/family_vitpytorch.h"

#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"

namespace vitrt::conv {

namespace {

constexpr int32_t kPoolClassToken = 0, kPoolMeanAll = 2;

// Where a layer's tensors live, relative to transformer.layers.{i}.; the
// three vit-pytorch layouts differ only in these names.
struct LayerNames {
  const char *attn_norm, *qkv, *out, *ff_norm, *fc1, *fc2;
};
// Residual(PreNorm(Attention)), Residual(PreNorm(FeedForward)).
constexpr LayerNames kEarly{"0.fn.norm.", "0.fn.fn.to_qkv.", "0.fn.fn.to_out.0.",
                            "1.fn.norm.", "1.fn.fn.net.0.", "1.fn.fn.net.3."};
// PreNorm(Attention), PreNorm(FeedForward); residuals in Transformer.forward.
constexpr LayerNames kPreNorm{"0.norm.", "0.fn.to_qkv.", "0.fn.to_out.0.", "1.norm.", "1.fn.net.0.", "1.fn.net.3."};
// Attention and FeedForward (LayerNorm first in its `net`) own their norms.
constexpr LayerNames kOwnNorm{"0.norm.", "0.to_qkv.", "0.to_out.0.", "1.net.0.", "1.net.1.", "1.net.4."};

std::string layer(int i) { return "transformer.layers." + std::to_string(i) + "."; }

const LayerNames* layer_names(const TensorMap& tensors) {
  for (const LayerNames* n : {&kEarly, &kPreNorm, &kOwnNorm})
    if (tensors.count(layer(0) + n->qkv + "weight")) return n;
  return nullptr;
}

// A Linear patch embedding shows only C*P*Q: the patch size must be given,
// the channel count follows from it.
void resolve_patch(const HParams& hp, int64_t patch_dim, Config& c) {
  if (!hp.patch_h)
    throw std::runtime_error("vit-pytorch's patch embedding is a Linear over channels*P*Q = " + std::to_string(patch_dim) +
                             " values, which does not tell the patch size; pass --patch-size P[xQ]");
  c.patch_h = *hp.patch_h;
  c.patch_w = hp.patch_w ? *hp.patch_w : *hp.patch_h;
  const int64_t area = int64_t(c.patch_h) * c.patch_w;
  if (patch_dim % area)
    throw std::runtime_error("patch size " + std::to_string(c.patch_h) + "x" + std::to_string(c.patch_w) + " (from " +
                             hp.patch_h.source + ") does not divide the patch embedding's " + std::to_string(patch_dim) +
                             " inputs (channels*P*Q)");
  c.channels = to_int(patch_dim / area, "channel count");
  check_matches(hp.channels, c.channels, "channel count");
}

Block map_layer(TensorPool& pool, const LayerNames& n, int i, const Config& c, int64_t inner) {
  const std::string p = layer(i);
  const int64_t dim = c.dim, mlp = c.mlp_dim;
  Block b;
  b.norm1 = take_norm(pool, p + n.attn_norm, dim);
  b.qkv.weight = pool.take(p + n.qkv + "weight", {3 * inner, dim});  // chunk(3) then (h d): q|k|v, head-major
  if (pool.has(p + n.out + "weight")) {
    b.proj.weight = pool.take(p + n.out + "weight", {dim, inner});
    b.proj.bias = pool.take(p + n.out + "bias", {dim});
  } else if (c.heads != 1 || inner != dim) {
    throw std::runtime_error("layer " + std::to_string(i) + " has no to_out, which vit-pytorch omits only when heads == 1 "
                             "and dim_head == dim (here heads " + std::to_string(c.heads) + ", heads*dim_head " +
                             std::to_string(inner) + ", dim " + std::to_string(dim) + ")");
  }
  b.norm2 = take_norm(pool, p + n.ff_norm, dim);
  b.fc1.weight = pool.take(p + n.fc1 + "weight", {mlp, dim});
  b.fc1.bias = pool.take(p + n.fc1 + "bias", {mlp});
  b.fc2.weight = pool.take(p + n.fc2 + "weight", {dim, mlp});
  b.fc2.bias = pool.take(p + n.fc2 + "bias", {dim});
  if (!b.norm1.weight.present() || !b.norm2.weight.present())
    throw std::runtime_error("layer " + std::to_string(i) + " lacks its attention or feed-forward LayerNorm");
  return b;
}

// vit-pytorch pool='mean' is x.mean(dim=1): every token, the class token
// included. Newer versions drop the class token for 'mean' (a 0-row cls_token).
int32_t choose_pooling(const HParams& hp, bool class_token) {
  if (!class_token) {
    if (hp.pool && *hp.pool == Pool::Token)
      throw std::runtime_error("class-token pooling (from " + hp.pool.source +
                               ") but the checkpoint's cls_token is empty (a pool='mean' model)");
    return kPoolMeanAll;
  }
  return hp.pool && *hp.pool == Pool::Mean ? kPoolMeanAll : kPoolClassToken;  // upstream default pool='cls'
}

}  // namespace

bool is_vitpytorch(const TensorMap& tensors) { return tensors.count("pos_embedding") && layer_names(tensors); }

Model map_vitpytorch(const TensorMap& tensors, const HParams& hp) {
  const LayerNames* names = layer_names(tensors);
  if (!names) throw std::runtime_error("not a vit-pytorch ViT: no transformer.layers.0 attention (to_qkv)");
  TensorPool pool(tensors);
  Model m;
  Config& c = m.config;

  // Patch embedding: Linear, or LayerNorm-Linear-LayerNorm in newer versions.
  const bool norm_stem = pool.has("to_patch_embedding.2.weight");
  const std::string linear = pool.has("patch_to_embedding.weight") ? "patch_to_embedding."
                             : norm_stem                            ? "to_patch_embedding.2."
                                                                    : "to_patch_embedding.1.";
  const auto& pe = pool.shape(linear + "weight");
  if (pe.size() != 2) throw std::runtime_error(linear + "weight must be [dim, patch_dim], got " + shape_string(pe));
  const int64_t dim = pe[0], patch_dim = pe[1];
  c.dim = to_int(dim, "embedding dim");
  check_matches(hp.dim, c.dim, "embedding dim");
  resolve_patch(hp, patch_dim, c);
  // einops flattened each patch as (p1 p2 c); the runtime reads (c, p, q).
  m.patch_embed.weight = pool.take(linear + "weight", pe);
  m.patch_embed.bias = pool.take(linear + "bias", {dim});
  patch_columns_pqc_to_cpq(m.patch_embed.weight, c.channels, c.patch_h, c.patch_w);
  if (norm_stem) {
    m.patch_norm_in = take_norm(pool, "to_patch_embedding.1.", patch_dim);
    if (m.patch_norm_in.weight.present()) {
      patch_columns_pqc_to_cpq(m.patch_norm_in.weight, c.channels, c.patch_h, c.patch_w);
      patch_columns_pqc_to_cpq(m.patch_norm_in.bias, c.channels, c.patch_h, c.patch_w);
    }
    m.patch_norm_out = take_norm(pool, "to_patch_embedding.3.", dim);
  }

  // [1, n, dim] up to 1.15, [n, dim] since 1.16; n = 0 (an empty
  // placeholder) when pool='mean' dropped the class token.
  const auto& cs = pool.shape("cls_token");
  const bool flat = cs.size() == 2;
  if (!(flat || (cs.size() == 3 && cs[0] == 1)) || cs[cs.size() - 2] > 1 || cs.back() != dim)
    throw std::runtime_error("cls_token must be [1, 1, dim], [1, 0, dim], [1, dim] or [0, dim] with dim " +
                             std::to_string(dim) + ", got " + shape_string(cs));
  c.class_token = cs[cs.size() - 2] == 1;
  check_matches(hp.class_token, c.class_token, "class token");
  if (c.class_token) m.cls_token = pool.take("cls_token", cs, {dim});
  else pool.take("cls_token", cs);
  c.pooling = choose_pooling(hp, c.class_token);

  while (pool.has(layer(c.depth) + names->qkv + "weight")) ++c.depth;
  check_matches(hp.depth, c.depth, "depth");
  const auto& qkv = pool.shape(layer(0) + names->qkv + "weight");
  if (qkv.size() != 2 || qkv[0] % 3 || qkv[1] != dim)
    throw std::runtime_error(layer(0) + names->qkv + "weight must be [3 * heads * dim_head, dim], got " + shape_string(qkv));
  const int64_t inner = qkv[0] / 3;
  c.heads = require_heads(hp, to_int(inner, "heads*dim_head"), "heads*dim_head (to_qkv rows / 3)");
  c.head_dim = int(inner) / c.heads;
  c.attn_scale = 1.0f / std::sqrt(float(c.head_dim));  // dim_head ** -0.5
  check_matches(hp.qkv_bias, false, "qkv bias");
  const auto& fc1 = pool.shape(layer(0) + names->fc1 + "weight");
  if (fc1.size() != 2) throw std::runtime_error(layer(0) + names->fc1 + "weight must be 2-D, got " + shape_string(fc1));
  c.mlp_dim = to_int(fc1[0], "MLP dim");
  check_matches(hp.mlp_dim, c.mlp_dim, "MLP dim");
  c.ln_eps = hp.ln_eps ? *hp.ln_eps : 1e-5f;  // nn.LayerNorm's default
  c.mlp_activation = 1;                      // GeluErf: nn.GELU()
  for (int i = 0; i < c.depth; ++i) m.blocks.push_back(map_layer(pool, *names, i, c, inner));

  // Newer: LayerNorm over all tokens, then mlp_head = Linear. Older:
  // mlp_head = LayerNorm (on the pooled vector) + Linear.
  m.norm = take_norm(pool, "transformer.norm.", dim);
  if (!pool.has("mlp_head.weight") && !pool.has("mlp_head.1.weight"))
    throw std::runtime_error(
        "the checkpoint has no classifier head (mlp_head; vit-pytorch num_classes=0); vitrt needs one");
  const std::string head = pool.has("mlp_head.weight") ? "mlp_head." : "mlp_head.1.";
  if (head != "mlp_head.") m.fc_norm = take_norm(pool, "mlp_head.0.", dim);
  m.head.weight = pool.take(head + "weight", {-1, dim});
  c.num_classes = to_int(m.head.weight.shape[0], "class count");
  m.head.bias = pool.take(head + "bias", {c.num_classes});
  check_matches(hp.num_classes, c.num_classes, "num_classes");

  // Rank as the cls_token's: [1, tokens, dim] up to 1.15, [tokens, dim] since.
  const auto& ps = pool.shape("pos_embedding");
  if (ps.size() != cs.size() || (!flat && ps[0] != 1) || ps.back() != dim)
    throw std::runtime_error("pos_embedding must be [" + std::string(flat ? "" : "1, ") + "tokens, " +
                             std::to_string(dim) + "] as the cls_token " + shape_string(cs) + " is, got " +
                             shape_string(ps));
  const int64_t tokens = ps[ps.size() - 2];
  const int prefix = int(c.class_token);
  const ImageGeometry g = resolve_geometry(hp, tokens, prefix, c.patch_h, c.patch_w);
  if (g.pos_embed_patches_only)  // timm's no_embed_class reading; vit-pytorch gives the class token a row too
    throw std::runtime_error("pos_embedding has " + std::to_string(tokens) + " rows, the class token's and " +
                             std::to_string(tokens - 1) + " patches', which " +
                             (hp.image_h ? "do not match the image size from " + hp.image_h.source
                                         : std::string("are not a square grid; pass --image-size HxW")));
  c.image_h = g.image_h;
  c.image_w = g.image_w;
  m.pos_embed = take_pos_embed(pool, "pos_embedding", dim, g, prefix, c.patch_h, c.patch_w);

  pool.require_all_taken("vit-pytorch ViT");
  return m;
}

}  // namespace vitrt::conv
