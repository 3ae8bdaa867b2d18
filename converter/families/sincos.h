// MoCo v3's fixed 2-D sin-cos position embedding (moco-v3 vits.py,
// VisionTransformerMoCo.build_2d_sincos_position_embedding).
#pragma once

#include <vector>

namespace vitrt::conv {

// [1 + grid_h * grid_w, dim] row-major: a zero row for the class token, then
// one row per patch in token (raster) order. `dim` must be a multiple of 4.
//
// Exactly vits.py's formula, quirks included: its
// `grid_w, grid_h = torch.meshgrid(grid_w, grid_h)` ('ij' indexing) gives
// patch row m the coordinates a = m / grid_h ("w") and b = m % grid_h ("h"),
// and the row is [sin(a w_k), cos(a w_k), sin(b w_k), cos(b w_k)] over
// k < dim/4 with w_k = 10000^(-k / (dim/4)).
std::vector<float> sincos_2d_pos_embed(int grid_h, int grid_w, int dim);

}  // namespace vitrt::conv
