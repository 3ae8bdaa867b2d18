// The post-norm ViT of the seed tutorial (../shared/seeds/001_*.txt,
// "Vision Transformer (ViT): 开启视觉识别的新纪元") -> vitrt Model. Its
// peculiarities, all kept: one (head_dim x head_dim) query/key/value Linear
// shared by every head, scores divided by sqrt(embed_dim) rather than
// sqrt(head_dim), post-norm blocks with a ReLU MLP, no final norm, a
// Linear-ReLU-Linear `mlp_head`, and patches flattened in (p, q, c) order.
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// True for keys "patch_to_embedding.*" with "transformer.0.attention.queries.*"
// (vit-pytorch's early layout shares the first but nests "transformer.layers.").
bool is_postnorm_vit(const TensorMap& tensors);

// Maps every tensor (any not understood is an error) and fills
// `Model::config`. Needs --heads; the patch size comes from --patch-size, or
// from the patch Linear's width when that is 3 * P * P or P * P.
Model map_postnorm_vit(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
