// What vitrt-convert tells the user about the model it wrote: the one-line
// architecture summary, the preprocessing the file records (as the tools
// will apply it), the weight dtype of each layer group and the arena size -
// and a note for every preprocessing value that came from a default, since a
// wrong crop or interpolation costs accuracy without any error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convert.h"
#include "vitrt/vitrt.h"

namespace vitrt::conv {

// "resize shorter side to 256 (224 / crop_pct 0.875), bicubic, antialiased;
// centre crop 224x224; RGB; mean 0.485,0.456,0.406 std 0.229,0.224,0.225".
std::string describe_preprocess(const vitrt_info& info);

// "patch_embed int8, qkv/proj/fc1/fc2 int8 (blocks 0-10), fp32 (block 11), head fp32; ...".
std::string describe_dtypes(const Model& m);

// "note: ..." lines for the preprocessing values of `m` that no checkpoint,
// --arch, --config or flag gave (hp: what finish_model was given).
std::vector<std::string> preprocess_default_notes(const HParams& hp);

// The lines printed after a conversion; `file` is the written model, opened
// with the runtime so that what is shown is what it will read.
std::string summary(const Conversion& c, const std::string& output, const std::vector<uint8_t>& file);

}  // namespace vitrt::conv
