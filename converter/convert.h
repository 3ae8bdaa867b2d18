// The conversion pipeline: checkpoint reader -> hyperparameter merge ->
// family mapper -> preprocessing and labels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "families/hparams.h"
#include "model_writer.h"
#include "options.h"
#include "readers/tensors.h"

namespace vitrt::conv {

// The whole file; throws naming the path on failure.
std::shared_ptr<const std::vector<uint8_t>> read_file(const std::string& path);

// Reads any supported checkpoint format (detected from its bytes): safetensors,
// torch.save zip (the state dict found by unwrap.h), NumPy .npz. `format`, if
// given, receives a one-line description of what was read.
TensorMap read_checkpoint(const std::string& path, std::string* format = nullptr);

// Hyperparameters from --config or --arch, then --labels and the flags on top.
HParams gather_hparams(const Options& o);

// Fills preprocessing and labels from `hp` (ImageNet statistics when none
// were given, noted in `notes`) and checks them against the config.
void finish_model(Model& m, const HParams& hp, std::vector<std::string>& notes);

// The model against the runtime's limits (vitrt.h): what vitrt_open would
// refuse is never written.
void check_limits(const Model& m);

struct Conversion {
  Model model;
  std::string family;
  std::vector<std::string> notes;  // one-line remarks for stderr
};

Conversion convert(const Options& o);
// The same for tensors already read (o.checkpoint only names them in errors).
Conversion convert(const Options& o, const TensorMap& tensors);

int64_t count_params(const Model& m);

// One-line description of the converted model.
std::string summary(const Conversion& c, const std::string& output, size_t bytes);

}  // namespace vitrt::conv
