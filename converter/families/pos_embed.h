// Resizing a learned position embedding to another patch grid, for running
// a checkpoint at an image size other than its training size.
#pragma once

#include "model_writer.h"

namespace vitrt::conv {

// `pos` is [prefix + src_h * src_w, dim]: `prefix` rows (class/distillation
// tokens) are kept, the patch rows resampled to dst_h x dst_w. Follows
// timm's resample_abs_pos_embed: F.interpolate(mode='bicubic',
// antialias=True, align_corners=False) over the grid, each channel a plane.
// (Google's own fine-tuning code zooms with scipy order 1 instead; vitrt
// follows timm for every family.)
Tensor resample_pos_embed(const Tensor& pos, int prefix, int src_h, int src_w, int dst_h, int dst_w);

}  // namespace vitrt::conv
