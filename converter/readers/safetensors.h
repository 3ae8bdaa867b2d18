// Reader for the safetensors format: 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}} (plus an
// ignored "__metadata__"), then the byte buffer the offsets index.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "readers/tensors.h"

namespace vitrt::conv {

// Parses a whole safetensors file held in `file`. Every offset range is
// checked against the buffer and the others; `name` (the path) prefixes
// every error message.
TensorMap read_safetensors(std::shared_ptr<const std::vector<uint8_t>> file, const std::string& name);

// True when `file` starts like a safetensors file (plausible length, then '{').
bool looks_like_safetensors(const std::vector<uint8_t>& file);

}  // namespace vitrt::conv
