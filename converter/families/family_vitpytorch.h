// lucidrains vit-pytorch `ViT` state dicts -> vitrt Model, in each of its
// layouts: the early Residual(PreNorm(...)) one (`patch_to_embedding`), the
// PreNorm one (`to_patch_embedding.1`), and the newer one with a
// LayerNorm-Linear-LayerNorm patch embedding, norms inside Attention /
// FeedForward and a final `transformer.norm`.
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// True when the tensor names look like a vit-pytorch ViT.
bool is_vitpytorch(const TensorMap& tensors);

// Maps every tensor (any it does not understand is an error) and fills
// `Model::config`; preprocessing and labels are left to the caller.
// Needs --patch-size (a Linear patch embedding only shows C*P*Q) and
// --heads (to_qkv only shows heads*dim_head).
Model map_vitpytorch(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
