// MoCo v3 ViTs (facebookresearch/moco-v3 vits.py: vit_small, vit_base and the
// ConvStem vit_conv_small, vit_conv_base) -> vitrt Model.
//
// Two kinds of checkpoint, after unwrap.h has picked the state dict and
// removed the DataParallel "module." prefix:
// - pretraining (main_moco.py): base_encoder.* is the ViT, whose head is the
//   projection MLP (builder.py); momentum_encoder.* and predictor.* are
//   ignored. The model then outputs the projected features.
// - linear classification (main_lincls.py): a timm VisionTransformer state
//   dict whose head is the trained Linear classifier.
// The position embedding is vits.py's fixed 2-D sin-cos one, regenerated for
// the image size (a checkpoint's own pos_embed must match it).
#pragma once

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// True for base_encoder.* ViT tensors, a MoCo ConvStem, or a pos_embed that
// is exactly the 2-D sin-cos embedding.
bool is_mocov3_vit(const TensorMap& tensors);

// Maps every tensor (any it does not understand is an error) and fills
// `Model::config`; preprocessing and labels are left to the caller.
Model map_mocov3_vit(const TensorMap& tensors, const HParams& hp);

}  // namespace vitrt::conv
