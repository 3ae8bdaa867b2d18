// Heap-free antialiased resampling, PyTorch-exact:
// F.interpolate(x, size, mode='bilinear'|'bicubic', align_corners=False,
// antialias=True), which uses PIL's filters (Keys cubic with a = -0.5) and
// widens them when downscaling. Separable, horizontal pass first with an
// fp32 intermediate and double accumulation, as torch computes it. The
// weight tables, a ring of horizontally resampled rows and one source row
// live in caller scratch, so the source is never copied or converted whole.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace vitrt {

enum class Filter : uint8_t { Bilinear = 0, Bicubic = 1 };  // schema Interpolation, VITRT_INTERP_*

// One axis: `in` source pixels resized to a virtual `out`, of which only
// the `window` pixels from `offset` are produced; window pixels outside
// [0, out) are 0 (torchvision's CenterCrop padding).
struct ResizeAxis {
  int64_t in, out, offset, window;
};

// Channel c's source row y as `in` floats of the x axis: either a pointer
// into the caller's data, or `buf` (room for `in` floats) filled.
typedef const float* (*RowFn)(const void* ctx, int32_t c, int64_t y, float* buf);

// Bytes of scratch `resample` needs (alignment slack included); 0 for axes
// out of range (in, window in 1..2^20; out in 1..2^40, |offset| <= 2^40)
// or when it does not fit size_t.
size_t resample_scratch_bytes(const ResizeAxis& y, const ResizeAxis& x, Filter filter);

// Writes `channels` planes of y.window x x.window floats to `out`;
// `scratch` holds resample_scratch_bytes(y, x, filter) bytes, any alignment.
void resample(const ResizeAxis& y, const ResizeAxis& x, Filter filter, int32_t channels, RowFn row,
              const void* ctx, void* scratch, float* out);

}  // namespace vitrt
