#include "families/family_google.h"

#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"

namespace vitrt::conv {

namespace {

// Some checkpoints hold the whole optimizer state; the weights sit under
// "opt/target/" there.
const char* const kPrefixes[] = {"", "opt/target/"};

constexpr int32_t kPoolClassToken = 0, kPoolMeanPatches = 1;
constexpr int32_t kActGeluTanh = 2, kActTanh = 4;

std::string find_prefix(const TensorMap& tensors) {
  for (const char* p : kPrefixes)
    if (tensors.count(std::string(p) + "embedding/kernel")) return p;
  return {};
}

// `t` as a [rows, cols] matrix, transposed: flax kernels are [in, out].
Tensor transposed(const Tensor& t, int64_t rows, int64_t cols) {
  Tensor out{{int32_t(cols), int32_t(rows)}, std::vector<float>(t.data.size())};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out.data[size_t(c * rows + r)] = t.data[size_t(r * cols + c)];
  return out;
}

// flax Dense: kernel [in, out] -> Linear [out, in].
Linear take_dense(TensorPool& pool, const std::string& p, int64_t in, int64_t out) {
  Linear l;
  l.weight = transposed(pool.take(p + "kernel", {in, out}), in, out);
  l.bias = pool.take_optional(p + "bias", {out});
  return l;
}

Norm take_layernorm(TensorPool& pool, const std::string& p, int64_t dim) {
  return Norm{pool.take(p + "scale", {dim}), pool.take(p + "bias", {dim})};
}

// MultiHeadDotProductAttention: query/key/value DenseGeneral kernels
// [D, H, hd] (bias [H, hd]) are Linears [H*hd, D] with head-major rows;
// out kernel [H, hd, D] is a Linear [D, H*hd].
void take_attention(TensorPool& pool, const std::string& p, int64_t dim, int64_t heads, int64_t hd, Block& b) {
  Linear qkv[3];
  const char* names[] = {"query/", "key/", "value/"};
  for (int i = 0; i < 3; ++i) {
    qkv[i].weight = transposed(pool.take(p + names[i] + "kernel", {dim, heads, hd}), dim, heads * hd);
    qkv[i].bias = pool.take_optional(p + names[i] + "bias", {heads, hd}, {heads * hd});
  }
  b.qkv = fuse_qkv(qkv[0], qkv[1], qkv[2]);
  b.proj.weight = transposed(pool.take(p + "out/kernel", {heads, hd, dim}), heads * hd, dim);
  b.proj.bias = pool.take_optional(p + "out/bias", {dim});
}

}  // namespace

bool is_google_vit(const TensorMap& tensors) {
  for (const char* p : kPrefixes)
    if (tensors.count(std::string(p) + "embedding/kernel") && tensors.count(std::string(p) + "Transformer/encoder_norm/scale"))
      return true;
  return false;
}

Model map_google_vit(const TensorMap& tensors, const HParams& hp) {
  TensorPool pool(tensors);
  const std::string root = find_prefix(tensors);
  Model m;
  Config& c = m.config;

  // nn.Conv on NHWC images: kernel [P, Q, C, D] -> Linear [D, (c, p, q)].
  const auto pe = pool.shape(root + "embedding/kernel");
  if (pe.size() != 4) throw std::runtime_error("embedding/kernel must be [patch_h, patch_w, channels, dim], got " + shape_string(pe));
  set_stem(c, hp, pe[3], pe[2], pe[0], pe[1]);
  const int64_t dim = c.dim, patch_len = pe[0] * pe[1] * pe[2];
  const Tensor k = pool.take(root + "embedding/kernel", pe);
  m.patch_embed.weight = Tensor{{c.dim, int32_t(patch_len)}, std::vector<float>(k.data.size())};
  for (int64_t p = 0; p < pe[0]; ++p)
    for (int64_t q = 0; q < pe[1]; ++q)
      for (int64_t ch = 0; ch < pe[2]; ++ch)
        for (int64_t d = 0; d < dim; ++d)
          m.patch_embed.weight.data[size_t(d * patch_len + (ch * pe[0] + p) * pe[1] + q)] =
              k.data[size_t(((p * pe[1] + q) * pe[2] + ch) * dim + d)];
  m.patch_embed.bias = pool.take_optional(root + "embedding/bias", {dim});

  // classifier='token' prepends `cls`; 'gap' has none and averages every
  // (i.e. every patch) token after encoder_norm.
  c.class_token = pool.has(root + "cls");
  check_matches(hp.class_token, c.class_token, "class token");
  m.cls_token = pool.take_optional(root + "cls", {1, 1, dim}, {dim});
  if (hp.pool && (*hp.pool == Pool::Token) != c.class_token)
    throw std::runtime_error(std::string(c.class_token ? "mean" : "class-token") + " pooling (from " + hp.pool.source +
                             ") but models_vit " + (c.class_token ? "pools its class token (classifier='token')"
                                                                    : "has no class token here (classifier='gap')"));
  c.pooling = c.class_token ? kPoolClassToken : kPoolMeanPatches;

  const std::string enc = root + "Transformer/";
  auto block = [&](int i) { return enc + "encoderblock_" + std::to_string(i) + "/"; };
  while (pool.has(block(c.depth) + "LayerNorm_0/scale")) ++c.depth;
  if (c.depth == 0) throw std::runtime_error("the checkpoint has no encoder blocks (Transformer/encoderblock_0)");
  check_matches(hp.depth, c.depth, "depth");
  const auto& qs = pool.shape(block(0) + "MultiHeadDotProductAttention_1/query/kernel");
  if (qs.size() != 3 || qs[0] != dim)
    throw std::runtime_error("attention query kernel must be [dim, heads, head_dim], got " + shape_string(qs));
  c.heads = to_int(qs[1], "head count");
  c.head_dim = to_int(qs[2], "head dim");
  check_matches(hp.heads, c.heads, "heads");
  const auto& mlp = pool.shape(block(0) + "MlpBlock_3/Dense_0/kernel");
  if (mlp.size() != 2) throw std::runtime_error("MlpBlock_3/Dense_0/kernel must be 2-D, got " + shape_string(mlp));
  c.mlp_dim = to_int(mlp[1], "MLP dim");
  check_matches(hp.mlp_dim, c.mlp_dim, "MLP dim");
  // flax: LayerNorm epsilon 1e-6, dot_product_attention scales by
  // head_dim^-0.5, and nn.gelu is jax.nn.gelu whose `approximate` defaults
  // to True: the tanh form.
  c.ln_eps = hp.ln_eps ? *hp.ln_eps : 1e-6f;
  c.attn_scale = 1.0f / std::sqrt(float(c.head_dim));
  c.mlp_activation = kActGeluTanh;
  for (int i = 0; i < c.depth; ++i) {
    const std::string p = block(i);
    Block& b = m.blocks.emplace_back();
    b.norm1 = take_layernorm(pool, p + "LayerNorm_0/", dim);
    take_attention(pool, p + "MultiHeadDotProductAttention_1/", dim, c.heads, c.head_dim, b);
    b.norm2 = take_layernorm(pool, p + "LayerNorm_2/", dim);
    b.fc1 = take_dense(pool, p + "MlpBlock_3/Dense_0/", dim, c.mlp_dim);
    b.fc2 = take_dense(pool, p + "MlpBlock_3/Dense_1/", c.mlp_dim, dim);
  }
  m.norm = take_layernorm(pool, enc + "encoder_norm/", dim);

  // representation_size: Dense 'pre_logits' + tanh before the head.
  int64_t features = dim;
  if (pool.has(root + "pre_logits/kernel")) {
    features = pool.shape(root + "pre_logits/kernel", 2)[1];
    m.pre_logits.push_back(take_dense(pool, root + "pre_logits/", dim, features));
    m.pre_logits_act = kActTanh;
  }
  if (!pool.has(root + "head/kernel")) throw std::runtime_error("the checkpoint has no classifier head (head/kernel)");
  const auto& hs = pool.shape(root + "head/kernel");
  if (hs.size() != 2) throw std::runtime_error("head/kernel must be [features, classes], got " + shape_string(hs));
  m.head = take_dense(pool, root + "head/", features, hs[1]);
  c.num_classes = to_int(hs[1], "class count");
  check_matches(hp.num_classes, c.num_classes, "num_classes");

  // AddPositionEmbs adds to every token, the class token included.
  const std::string pos = enc + "posembed_input/pos_embedding";
  const auto& ps = pool.shape(pos);
  if (ps.size() != 3 || ps[0] != 1 || ps[2] != dim)
    throw std::runtime_error("pos_embedding must be [1, tokens, " + std::to_string(dim) + "], got " + shape_string(ps));
  const int prefix = int(c.class_token);
  const ImageGeometry g = resolve_geometry(hp, ps[1], prefix, c.patch_h, c.patch_w);
  if (g.pos_embed_patches_only) throw std::runtime_error("pos_embedding must cover the class token too");
  c.image_h = g.image_h;
  c.image_w = g.image_w;
  m.pos_embed = take_pos_embed(pool, pos, dim, g, prefix, c.patch_h, c.patch_w);

  pool.require_all_taken("Google ViT (flax models_vit)");
  return m;
}

}  // namespace vitrt::conv
