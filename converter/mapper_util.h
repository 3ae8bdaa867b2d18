// Steps shared by the family mappers: resolving what the weights cannot say
// alone, and normalising common layer patterns.
#pragma once

#include <string>

#include "hparams.h"
#include "model_writer.h"
#include "tensors.h"

namespace vitrt::conv {

// The head count (the weights cannot tell it); checks it divides `dim`.
int require_heads(const HParams& hp, int dim);

struct ImageGeometry {
  int image_h = 0, image_w = 0;
  bool pos_embed_patches_only = false;
};

// Image size from the flags/config, else from a square grid of position
// embeddings. `pos_tokens` is the pos_embed length (0 = the model has none),
// `prefix` the class + distillation token count. Checks divisibility by the
// patch and agreement with the pos_embed length.
ImageGeometry resolve_geometry(const HParams& hp, int64_t pos_tokens, int prefix, int patch_h, int patch_w);

// A LayerNorm {prefix}weight / {prefix}bias of size dim, or absent when
// neither exists; half of it present is an error.
Norm take_norm(TensorPool& pool, const std::string& prefix, int64_t dim);

// Folds a per-output-channel scale (LayerScale gamma) into `l`.
void fold_output_scale(Linear& l, const Tensor& gamma);

}  // namespace vitrt::conv
