// Weight encodings of a vitrt file (schema/vitrt.fbs, docs/quantization.md):
// fp16 conversion, symmetric per-output-channel int8 quantization, the
// Blocked16x4 packing of int8 weights, the Panel16 order of float Linear
// weights, and the choice of which Linears of a
// model are encoded. The writer calls the encoders; the converter picks the
// encodings with set_weight_dtype().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model_writer.h"

namespace vitrt::conv {

// IEEE half bits of `v`, rounded to nearest even; overflow gives infinity.
uint16_t float_to_half(float v);

// An [n, k] weight quantized per output channel: w[r][c] ~= q[r][c] * scales[r]
// with scales[r] = max_c |w[r][c]| / 127 (1 for an all-zero row).
struct QuantizedWeight {
  std::vector<int8_t> q;       // [n, k] row-major
  std::vector<float> scales;   // [n]
  std::vector<int32_t> sums;   // [n]: sum_c q[r][c]
};
QuantizedWeight quantize_per_channel(const std::vector<float>& w, int32_t n, int32_t k);

// Blocked16x4: [ceil(n/16)][ceil(k/4)][16][4], zero padded.
size_t blocked16x4_size(int32_t n, int32_t k);
size_t blocked16x4_index(int32_t row, int32_t col, int32_t k);
std::vector<int8_t> pack_blocked16x4(const std::vector<int8_t>& q, int32_t n, int32_t k);

// Panel16 (F32 / F16 Linear weights): [ceil(n/16)][k][16], zero padded.
template <typename T>
std::vector<T> pack_panel16(const std::vector<T>& w, int32_t n, int32_t k) {
  const size_t panels = (static_cast<size_t>(n) + 15) / 16;
  std::vector<T> packed(panels * 16 * static_cast<size_t>(k), T{0});
  for (int32_t r = 0; r < n; ++r)
    for (int32_t c = 0; c < k; ++c)
      packed[(static_cast<size_t>(r / 16) * k + c) * 16 + r % 16] = w[static_cast<size_t>(r) * k + c];
  return packed;
}

// Requests `dtype` for every Linear weight of `m` (patch_embed, qkv, proj,
// fc1, fc2, pre_logits, head, head_dist) except those named in keep_float,
// which stay F32: "patch_embed", "head" (head, head_dist and pre_logits),
// "qkv", "proj", "fc1", "fc2" (in every block) or "blocks.N" (all of block
// N). Throws std::runtime_error on an unknown name or block index.
void set_weight_dtype(Model& m, DType dtype, const std::vector<std::string>& keep_float);

// Whether `name` is a valid keep_float entry for some model (syntax only).
bool is_keep_float_name(const std::string& name);

}  // namespace vitrt::conv
