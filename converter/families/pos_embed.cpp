#include "families/pos_embed.h"

#include <algorithm>
#include <stdexcept>

#include "resample.h"

namespace vitrt::conv {

Tensor resample_pos_embed(const Tensor& pos, int prefix, int src_h, int src_w, int dst_h, int dst_w) {
  const size_t dim = size_t(pos.shape.at(1)), src = size_t(src_h) * src_w, dst = size_t(dst_h) * dst_w;
  if (size_t(pos.shape[0]) != prefix + src) throw std::logic_error("resample_pos_embed: grid does not match tensor");
  // [tokens, dim] -> dim planes of src_h x src_w, and back.
  std::vector<float> planes(dim * src);
  for (size_t t = 0; t < src; ++t)
    for (size_t d = 0; d < dim; ++d) planes[d * src + t] = pos.data[(prefix + t) * dim + d];
  const std::vector<float> resized = resample::resize_planes(planes.data(), int(dim), src_h, src_w, dst_h, dst_w,
                                                             resample::Interpolation::Bicubic, 0, 0, dst_h, dst_w);
  Tensor out{{int32_t(prefix + dst), int32_t(dim)}, std::vector<float>((prefix + dst) * dim)};
  std::copy(pos.data.begin(), pos.data.begin() + prefix * dim, out.data.begin());
  for (size_t t = 0; t < dst; ++t)
    for (size_t d = 0; d < dim; ++d) out.data[(prefix + t) * dim + d] = resized[d * dst + t];
  return out;
}

}  // namespace vitrt::conv
