// Reader for checkpoints written by torch.save in its zip format (the
// default since PyTorch 1.6): <dir>/data.pkl is a pickle whose tensors refer,
// through persistent ids, to raw storages stored as <dir>/data/<key>. The
// pickle goes through the restricted unpickler (pickle.h); storages stay in
// place in the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "readers/pickle.h"
#include "readers/zip.h"

namespace vitrt::conv {

// True when the archive holds a <dir>/data.pkl, <dir> being its first entry's folder.
bool is_torch_zip(const ZipArchive& zip);

// The unpickled object of a torch.save zip archive (a state dict, or a
// training checkpoint holding one; see unwrap.h). Refuses TorchScript
// archives and big-endian data.
PyRef read_torch_zip(const ZipArchive& zip, const std::string& path);

// True for the pre-1.6 torch.save formats (a bare pickle stream, or a tar
// archive), which vitrt does not read.
bool looks_like_legacy_torch(const std::vector<uint8_t>& file);

}  // namespace vitrt::conv
