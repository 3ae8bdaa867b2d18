// An independent ViT forward pass for checking the runtime: double precision,
// plain loops over the writer's in-memory model, written from the schema's
// description rather than from the runtime's code.
#pragma once

#include <functional>
#include <vector>

#include "model_writer.h"

namespace vitrt::test {

// One Linear applied to one row. By default the reference computes it exactly
// from the fp32 weights; the quantization tests pass their own model of the
// fp16 / int8 arithmetic instead.
using LinearFn = std::function<std::vector<double>(const conv::Linear&, const std::vector<double>&)>;

// bf16_int8_attention: blocks with int8 qkv weights round q, k, v and the
// softmax numerators to bf16 (Ops::attention_bf16), as kernel sets with a
// bf16 attention compute them.
std::vector<double> reference_logits(const conv::Model& m, const std::vector<float>& image_nchw,
                                     const LinearFn& linear = {}, bool bf16_int8_attention = false);

}  // namespace vitrt::test
