// --report: how far a quantized model drifts from its fp32 original, layer by
// layer, on the calibration images. Both run in the runtime with its Linear
// observer; each Linear's output in the quantized model (errors of earlier
// layers included) is compared with the same Linear's fp32 output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "model_writer.h"

namespace vitrt::conv {

// Agreement of a quantized signal with its reference over several images.
class Agreement {
 public:
  // One image's reference and quantized values, n of each.
  void add(const float* reference, const float* quantized, size_t n);
  // Mean over images of the cosine similarity (1 when both are all zero).
  double mean_cosine() const { return images_ ? cosine_sum_ / double(images_) : 0.0; }
  // 10 log10(sum of reference^2 / sum of (quantized - reference)^2) over all
  // images; infinity when they are identical.
  double sqnr_db() const;

 private:
  double cosine_sum_ = 0, signal_ = 0, noise_ = 0;
  size_t images_ = 0;
};

// Runs `reference` (fp32) and `quantized` (the file written from
// `quantized_model`) on `images`, progress on `log`; returns a table with one
// row per Linear (mean cosine, SQNR) and one for the logits, plus top-1
// agreement.
std::string quantization_report(const std::vector<uint8_t>& reference, const std::vector<uint8_t>& quantized,
                                Model& quantized_model, const std::vector<std::string>& images, std::ostream& log);

}  // namespace vitrt::conv
