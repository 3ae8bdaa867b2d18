// Finds the state dict inside an unpickled PyTorch checkpoint.
//
// Released and training checkpoints nest the weights in various ways. The
// tensors taken are those of the first of these that holds any:
//   checkpoint[K] for K in kStateDictKeys order (state_dict, model_state_dict,
//   model_state, model, module, net, network), searched recursively, so
//   {'model': {'state_dict': ...}} works too;
//   otherwise the checkpoint's own top-level tensors (a plain state dict).
// Everything else (optimizer, scheduler, epoch, args, EMA copies, numpy
// scalars) is ignored. When every name starts with "module." (saved from
// DataParallel / DistributedDataParallel) the prefix is removed.
//
// A `key` (vitrt-convert --key) replaces that search with checkpoint[key]
// (itself searched the same way): for files holding several state dicts,
// e.g. model and model_ema, or student and teacher.
//
// Other names are kept as they are: a MoCo v3 checkpoint, for instance,
// yields base_encoder.*, momentum_encoder.* and predictor.* tensors, and it
// is the MoCo family mapper that picks base_encoder.
#pragma once

#include <string>

#include "readers/pickle.h"
#include "readers/tensors.h"

namespace vitrt::conv {

struct StateDict {
  TensorMap tensors;
  std::string origin;  // where they came from, e.g. "checkpoint['model'], 'module.' prefix removed"
  std::string arch;    // checkpoint['arch'] when a string (MoCo v3 and timm's train.py record it), else empty
};

// Throws, listing the top-level keys, when no tensors are found or `key`
// (if not empty) is not one of them.
StateDict unwrap_state_dict(const PyRef& checkpoint, const std::string& path, const std::string& key = "");

// Removes the "module." prefix when every name has it (a state dict saved
// from DataParallel, in any file format); returns whether it did.
bool strip_data_parallel_prefix(TensorMap& tensors);

}  // namespace vitrt::conv
