// Reader for NumPy .npz archives (np.savez / np.savez_compressed): a zip of
// <name>.npy files. Tensor names are the entry names without ".npy", kept
// verbatim - Google's ViT checkpoints use names like
// "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel".
#pragma once

#include <string>

#include "readers/tensors.h"
#include "readers/zip.h"

namespace vitrt::conv {

// True when the archive holds at least one .npy entry.
bool is_npz(const ZipArchive& zip);

// Every entry must be a little-endian .npy array of a RawDType; Fortran-order
// ones are copied into C order.
TensorMap read_npz(const ZipArchive& zip, const std::string& path);

// One .npy file (format versions 1-3) held in `data`; `name` prefixes errors.
RawTensor parse_npy(const ZipData& data, const std::string& name);

}  // namespace vitrt::conv
