// timm VisionTransformer / DeiT (incl. distilled) state dicts -> vitrt Model.
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// True when the tensor names look like a timm VisionTransformer.
bool is_timm_vit(const TensorMap& tensors);

// Maps every tensor (any it does not understand is an error) and fills
// `Model::config`; preprocessing and labels are left to the caller.
Model map_timm_vit(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
