#include "families/family_postnorm.h"

#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"

namespace vitrt::conv {

namespace {

constexpr int32_t kPost = 1, kActRelu = 3, kPoolClassToken = 0;

// Channels and patch size behind a patch Linear of width `len` = C * P * Q.
void patch_shape(const HParams& hp, int64_t len, int64_t& channels, int64_t& ph, int64_t& pw) {
  if (hp.patch_h) {
    ph = *hp.patch_h;
    pw = *hp.patch_w;
    channels = len % (ph * pw) ? 0 : len / (ph * pw);
    if (!channels)
      throw std::runtime_error("patch size " + std::to_string(ph) + "x" + std::to_string(pw) + " (from " +
                               hp.patch_h.source + ") does not divide the patch Linear's width " + std::to_string(len));
    return;
  }
  for (int64_t c : {int64_t(3), int64_t(1)}) {
    if (len % c == 0 && (ph = pw = exact_sqrt(len / c))) {
      channels = c;
      return;
    }
  }
  throw std::runtime_error("cannot tell channels and patch size from a patch Linear of width " + std::to_string(len) +
                           "; pass --patch-size P");
}

// The seed's SelfAttention applies one [hd, hd] Linear to each head's slice
// of the input: over the whole vector that is the block-diagonal matrix
// with the shared weight repeated on the diagonal.
Tensor block_diagonal(const Tensor& w, int heads) {
  const size_t hd = size_t(w.shape[0]), dim = hd * size_t(heads);
  Tensor out{{int32_t(dim), int32_t(dim)}, std::vector<float>(dim * dim)};
  for (size_t h = 0; h < size_t(heads); ++h)
    for (size_t r = 0; r < hd; ++r)
      for (size_t k = 0; k < hd; ++k) out.data[(h * hd + r) * dim + h * hd + k] = w.data[r * hd + k];
  return out;
}

}  // namespace

bool is_postnorm_vit(const TensorMap& tensors) {
  return tensors.count("patch_to_embedding.weight") && tensors.count("transformer.0.attention.queries.weight");
}

Model map_postnorm_vit(const TensorMap& tensors, const HParams& hp) {
  TensorPool pool(tensors);
  Model m;
  Config& c = m.config;

  // patches view(N, C, H/p, p, W/p, p).permute(0, 2, 4, 3, 5, 1): each
  // patch flattened in (p, q, c) order; reorder the columns to (c, p, q).
  const auto& pe = pool.shape("patch_to_embedding.weight");
  if (pe.size() != 2) throw std::runtime_error("patch_to_embedding.weight must be [dim, patch_dim], got " + shape_string(pe));
  int64_t channels = 0, ph = 0, pw = 0;
  patch_shape(hp, pe[1], channels, ph, pw);
  set_stem(c, hp, pe[0], channels, ph, pw);
  const int64_t dim = c.dim;
  const Tensor w = pool.take("patch_to_embedding.weight", pe);
  m.patch_embed.weight = Tensor{{c.dim, int32_t(pe[1])}, std::vector<float>(w.data.size())};
  for (int64_t d = 0; d < dim; ++d)
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t p = 0; p < ph; ++p)
        for (int64_t q = 0; q < pw; ++q)
          m.patch_embed.weight.data[size_t(d * pe[1] + (ch * ph + p) * pw + q)] =
              w.data[size_t(d * pe[1] + (p * pw + q) * channels + ch)];
  m.patch_embed.bias = pool.take_optional("patch_to_embedding.bias", {dim});
  m.cls_token = pool.take("cls_token", {1, 1, dim}, {dim});
  check_matches(hp.class_token, true, "class token");

  auto block = [](int i) { return "transformer." + std::to_string(i) + "."; };
  while (pool.has(block(c.depth) + "attention.queries.weight")) ++c.depth;
  check_matches(hp.depth, c.depth, "depth");
  c.heads = require_heads(hp, c.dim);
  c.head_dim = c.dim / c.heads;
  c.attn_scale = 1.0f / std::sqrt(float(c.dim));  // energy / embed_dim ** (1/2)
  c.norm_placement = kPost;
  c.ln_eps = hp.ln_eps ? *hp.ln_eps : 1e-5f;      // nn.LayerNorm default
  c.mlp_activation = kActRelu;
  const auto& ff = pool.shape(block(0) + "feed_forward.0.weight");
  if (ff.size() != 2) throw std::runtime_error("feed_forward.0.weight must be 2-D, got " + shape_string(ff));
  c.mlp_dim = to_int(ff[0], "feed-forward dim");  // forward_expansion * dim
  check_matches(hp.mlp_dim, c.mlp_dim, "MLP dim");
  const int64_t hd = c.head_dim;
  for (int i = 0; i < c.depth; ++i) {
    const std::string p = block(i) + "attention.";
    Linear qkv[3];
    const char* names[] = {"queries.weight", "keys.weight", "values.weight"};
    for (int j = 0; j < 3; ++j) qkv[j].weight = block_diagonal(pool.take(p + names[j], {hd, hd}), c.heads);
    Block& b = m.blocks.emplace_back();
    b.qkv = fuse_qkv(qkv[0], qkv[1], qkv[2]);
    b.proj = take_linear(pool, p + "fc_out.", dim, dim);
    // x = norm1(attention + x); out = norm2(feed_forward(x) + x).
    b.norm1 = take_norm(pool, block(i) + "norm1.", dim);
    b.norm2 = take_norm(pool, block(i) + "norm2.", dim);
    if (!b.norm1.weight.present() || !b.norm2.weight.present())
      throw std::runtime_error(block(i) + " lacks norm1 or norm2");
    b.fc1 = take_linear(pool, block(i) + "feed_forward.0.", c.mlp_dim, dim);
    b.fc2 = take_linear(pool, block(i) + "feed_forward.2.", dim, c.mlp_dim);
  }

  // mlp_head: Linear(dim, mlp_dim) -> ReLU -> Linear(mlp_dim, classes) on
  // the class token; no LayerNorm after the blocks.
  if (hp.pool && *hp.pool != Pool::Token)
    throw std::runtime_error("mean pooling (from " + hp.pool.source + ") but this model classifies the class token");
  c.pooling = kPoolClassToken;
  const auto& h0 = pool.shape("mlp_head.0.weight");
  if (h0.size() != 2) throw std::runtime_error("mlp_head.0.weight must be 2-D, got " + shape_string(h0));
  m.pre_logits.push_back(take_linear(pool, "mlp_head.0.", h0[0], dim));
  m.pre_logits_act = kActRelu;
  m.head = take_linear(pool, "mlp_head.2.", -1, h0[0]);
  c.num_classes = to_int(m.head.weight.shape[0], "class count");
  check_matches(hp.num_classes, c.num_classes, "num_classes");

  // pos_embedding [1, n + 1, dim] is added to every token, cls included.
  const auto& ps = pool.shape("pos_embedding");
  if (ps.size() != 3 || ps[0] != 1 || ps[2] != dim)
    throw std::runtime_error("pos_embedding must be [1, tokens, " + std::to_string(dim) + "], got " + shape_string(ps));
  const ImageGeometry g = resolve_geometry(hp, ps[1], 1, c.patch_h, c.patch_w);
  if (g.pos_embed_patches_only) throw std::runtime_error("pos_embedding must cover the class token too");
  c.image_h = g.image_h;
  c.image_w = g.image_w;
  m.pos_embed = take_pos_embed(pool, "pos_embedding", dim, g, 1, c.patch_h, c.patch_w);

  pool.require_all_taken("post-norm seed ViT");
  return m;
}

}  // namespace vitrt::conv
