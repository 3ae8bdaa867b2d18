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

struct Checkpoint {
  TensorMap tensors;
  std::string format;  // one line: what was read, e.g. "PyTorch (torch.save zip), tensors of checkpoint['model']"
  // What the file records besides its tensors: the hyperparameters of a
  // known checkpoint['arch'] (MoCo v3, timm's train.py), below --arch,
  // --config and the flags in precedence.
  HParams hparams;
};

// Reads any supported checkpoint format (detected from its bytes): safetensors,
// torch.save zip (the state dict found by unwrap.h, or checkpoint[key] for a
// non-empty `key`), NumPy .npz.
Checkpoint read_checkpoint(const std::string& path, const std::string& key = "");

// Hyperparameters from --config or --arch, then --labels and the flags on top.
HParams gather_hparams(const Options& o);

// Fills preprocessing and labels from `hp` (ImageNet statistics when none
// were given) and checks them against the config; `notes` gets a note for
// every preprocessing value that came from a default (summary.h).
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
// The same for tensors already read (o.checkpoint only names them in errors);
// `from_checkpoint` is Checkpoint::hparams.
Conversion convert(const Options& o, const TensorMap& tensors, const HParams& from_checkpoint = {});

int64_t count_params(const Model& m);

}  // namespace vitrt::conv
