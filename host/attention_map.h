// vitrt-run --attention-map: where the classifier looked. The runtime's
// attention observer (vitrt_set_attention_observer) hands over each head's
// probabilities; AttentionRecorder keeps their mean over heads per block, and
// the map is the class token's attention to the patches - of the last block,
// or by attention rollout over all blocks (Abnar & Zuidema 2020: each block's
// head mean plus the identity for the residual, rows renormalised, multiplied
// through the blocks). Models without a class token use the mean over all
// query tokens, the tokens their pooled feature averages.
#pragma once

#include <string>
#include <vector>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

enum class AttentionMode { LastBlock, Rollout };

class AttentionRecorder {
 public:
  // For Session::Observer: fn = record, ctx = this.
  static void record(void* ctx, const vitrt_attention_event* e);

  // Forget the previous run's matrices.
  void clear() { blocks_.clear(); }

  // [grid_h * grid_w] patch weights summing to 1, row by row.
  std::vector<float> patch_map(AttentionMode mode, int grid_h, int grid_w) const;

 private:
  int tokens_ = 0, prefix_ = 0;
  std::vector<std::vector<double>> blocks_;  // per block: [tokens, tokens] head mean
};

// Writes `map` (grid_h x grid_w) upsampled (bilinear) over the model's input
// image and blended with it as a PNG. `input` is the preprocessed [C, H, W]
// model input, shown de-normalised with the model's mean/std; the picture is
// scaled up (nearest) so its shorter side is at least 224 pixels.
void write_attention_png(const std::string& path, const std::vector<float>& map, int grid_h, int grid_w,
                         const float* input, const vitrt_info& info);

}  // namespace vitrt::tools
