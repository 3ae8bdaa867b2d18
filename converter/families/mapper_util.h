// Steps shared by the family mappers: resolving what the weights cannot say
// alone, and normalising common layer patterns.
#pragma once

#include <string>
#include <vector>

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// `v` as an int; throws naming `what` unless 0 < v <= INT32_MAX.
int to_int(int64_t v, const std::string& what);

// The integer square root of n, or 0 when n is not a positive square.
int64_t exact_sqrt(int64_t n);

// The head count (the weights cannot tell it); checks it divides `width`,
// the attention's inner width described by `what`.
int require_heads(const HParams& hp, int width, const std::string& what = "embedding dim");

// Fills the stem fields of `c` from the weights and checks the flags/config
// against them.
void set_stem(Config& c, const HParams& hp, int64_t dim, int64_t channels, int64_t patch_h, int64_t patch_w);

// A patch embedding Conv2d (stride = kernel) `weight` [dim, C, P, Q] (+
// optional `bias`) as the Linear over (c, p, q)-flattened patches it is;
// fills the stem fields of `c` via set_stem.
Linear take_conv_patch_embed(TensorPool& pool, const std::string& weight, const std::string& bias, const HParams& hp,
                             Config& c);

struct ImageGeometry {
  int image_h = 0, image_w = 0;
  bool pos_embed_patches_only = false;
  // Set when the image size asked for differs from the pos_embed's square
  // pos_grid x pos_grid patch grid: take_pos_embed then resamples it.
  int pos_grid = 0;
};

// Image size from the flags/config, else from a square grid of position
// embeddings. `pos_tokens` is the pos_embed length (0 = the model has none),
// `prefix` the class + distillation token count. Checks divisibility by the
// patch and agreement with the pos_embed length, which may also be any
// square grid to resample from.
ImageGeometry resolve_geometry(const HParams& hp, int64_t pos_tokens, int prefix, int patch_h, int patch_w);

// The learned position embedding `name` [1, tokens, dim] (or already
// [tokens, dim], as vit-pytorch >= 1.16 stores it) as [tokens, dim],
// resampled to the image's patch grid when `g` asks for it.
Tensor take_pos_embed(TensorPool& pool, const std::string& name, int64_t dim, const ImageGeometry& g, int prefix,
                      int patch_h, int patch_w);

// A LayerNorm {prefix}weight / {prefix}bias of size dim, or absent when
// neither exists; half of it present is an error.
Norm take_norm(TensorPool& pool, const std::string& prefix, int64_t dim);

// {prefix}weight [out, in] and the optional {prefix}bias [out]; out = -1
// takes any row count.
Linear take_linear(TensorPool& pool, const std::string& prefix, int64_t out, int64_t in);

// Separate query, key and value Linears as the fused q|k|v one; the biases
// must be all present or all absent.
Linear fuse_qkv(const Linear& q, const Linear& k, const Linear& v);

// Reorders the columns of `t` (viewed as [rows, channels * patch_h * patch_w])
// from patches flattened as (p, q, c), einops' '(p1 p2 c)', to (c, p, q).
void patch_columns_pqc_to_cpq(Tensor& t, int channels, int patch_h, int patch_w);

// timm's transformer blocks "blocks.{i}.*" (pre-norm, fused qkv, GELU MLP,
// optional LayerScale folded in). Needs c.dim; fills depth, heads, head_dim,
// mlp_dim, attn_scale, ln_eps and mlp_activation of `c`, checking `hp`.
std::vector<Block> take_timm_blocks(TensorPool& pool, const HParams& hp, Config& c);

// Folds a per-output-channel scale (LayerScale gamma) into `l`.
void fold_output_scale(Linear& l, const Tensor& gamma);

}  // namespace vitrt::conv
