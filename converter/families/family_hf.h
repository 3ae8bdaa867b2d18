// BERT-style ViT state dicts with separate query/key/value Linears:
// Hugging Face transformers `ViTForImageClassification` (keys "vit.…", or
// without the prefix) and jeonsworld/ViT-pytorch (keys "transformer.…").
// Same architecture as timm's ViT; they differ in names and LayerNorm eps.
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

bool is_hf_vit(const TensorMap& tensors);
bool is_jeonsworld_vit(const TensorMap& tensors);

// Map every tensor (any not understood is an error) and fill
// `Model::config`. Heads come from --heads / --config (the weights only
// show heads * head_dim). LayerNorm eps: the config's layer_norm_eps or
// --eps, else Hugging Face's default 1e-12, jeonsworld's fixed 1e-6.
Model map_hf_vit(const TensorMap& tensors, const HParams& hp);
Model map_jeonsworld_vit(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
