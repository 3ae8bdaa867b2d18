// An independent ViT forward pass for checking the runtime: double precision,
// plain loops over the writer's in-memory model, written from the schema's
// description rather than from the runtime's code.
#pragma once

#include <vector>

#include "model_writer.h"

namespace vitrt::test {

std::vector<double> reference_logits(const conv::Model& m, const std::vector<float>& image_nchw);

}  // namespace vitrt::test
