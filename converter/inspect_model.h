// vitrt-convert --inspect MODEL.vitrt [--json]: everything a model file
// records - schema version, architecture, preprocessing, labels, each
// Linear's dtype and layout, sizes and the arena it needs - read back
// through the runtime's verifier, so a file that would not load says why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitrt::conv {

// True when `bytes` start like a vitrt model file (FlatBuffers identifier).
bool looks_like_vitrt_model(const std::vector<uint8_t>& bytes);

// The report, as text or as one JSON object. Throws std::runtime_error with
// the runtime's message when the file does not verify.
std::string inspect_model(const std::string& path, const std::vector<uint8_t>& bytes, bool json);

}  // namespace vitrt::conv
