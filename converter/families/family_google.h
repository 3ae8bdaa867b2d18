// Google's official ViT checkpoints (google-research/vision_transformer,
// vit_jax/models_vit.py; the .npz files of the paper and of AugReg) ->
// vitrt Model. Tensor names are flax parameter paths such as
// "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel".
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// True when the tensor names are those of a flax VisionTransformer.
bool is_google_vit(const TensorMap& tensors);

// Maps every tensor (any it does not understand is an error) and fills
// `Model::config`; heads and head_dim come from the attention kernels.
Model map_google_vit(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
