#include "families/pos_embed.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "vitrt/vitrt.h"

namespace vitrt::conv {

Tensor resample_pos_embed(const Tensor& pos, int prefix, int src_h, int src_w, int dst_h, int dst_w) {
  const size_t dim = size_t(pos.shape.at(1)), src = size_t(src_h) * src_w, dst = size_t(dst_h) * dst_w;
  if (size_t(pos.shape[0]) != prefix + src) throw std::logic_error("resample_pos_embed: grid does not match tensor");
  // [tokens, dim] -> dim planes of src_h x src_w, and back.
  std::vector<float> planes(dim * src);
  for (size_t t = 0; t < src; ++t)
    for (size_t d = 0; d < dim; ++d) planes[d * src + t] = pos.data[(prefix + t) * dim + d];
  // The runtime's resampler, the one image preprocessing uses.
  std::vector<float> resized(dim * dst);
  std::vector<uint8_t> scratch(vitrt_resize_scratch_size(src_h, src_w, dst_h, dst_w, VITRT_INTERP_BICUBIC));
  if (vitrt_resize(planes.data(), int32_t(dim), src_h, src_w, resized.data(), dst_h, dst_w, VITRT_INTERP_BICUBIC,
                   scratch.data(), scratch.size()) != VITRT_OK)
    throw std::runtime_error("resample_pos_embed: cannot resize a " + std::to_string(src_h) + "x" +
                             std::to_string(src_w) + " grid to " + std::to_string(dst_h) + "x" + std::to_string(dst_w));
  Tensor out{{int32_t(prefix + dst), int32_t(dim)}, std::vector<float>((prefix + dst) * dim)};
  std::copy(pos.data.begin(), pos.data.begin() + prefix * dim, out.data.begin());
  for (size_t t = 0; t < dst; ++t)
    for (size_t d = 0; d < dim; ++d) out.data[(prefix + t) * dim + d] = resized[d * dst + t];
  return out;
}

}  // namespace vitrt::conv
