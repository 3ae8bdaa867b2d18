// PyTorch-exact antialiased resampling of planar float images:
// F.interpolate(x, size, mode='bilinear'|'bicubic', align_corners=False,
// antialias=True), which uses PIL's filters (Keys cubic with a = -0.5) and
// widens them when downscaling. Shared by the sample tools (image
// preprocessing) and the converter (position-embedding resampling), so it
// has no dependencies.
#pragma once

#include <vector>

namespace vitrt::resample {

enum class Interpolation { Bilinear = 0, Bicubic = 1 };  // schema Interpolation

// Resamples `channels` planes of in_h x in_w floats (planar, row-major) to a
// virtual out_h x out_w image and returns only the window starting at
// (top, left) of size crop_h x crop_w, planar; window pixels outside the
// resized image are 0 (like torchvision's CenterCrop padding).
std::vector<float> resize_planes(const float* src, int channels, int in_h, int in_w, int out_h, int out_w,
                                 Interpolation interpolation, int top, int left, int crop_h, int crop_w);

}  // namespace vitrt::resample
