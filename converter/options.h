// The vitrt-convert command line.
#pragma once

#include <string>
#include <vector>

#include "families/hparams.h"
#include "model_writer.h"

namespace vitrt::conv {

struct Options {
  std::string checkpoint, output;
  std::string arch, config_path, labels_path;  // empty = not given
  DType dtype = DType::F32;             // of the Linear weights (--dtype)
  std::vector<std::string> keep_float;  // --keep-float: layers left F32
  std::string calib_dir;  // --calib: images for static int8 input scales / --report
  bool report = false;    // --report: per-layer accuracy vs fp32 on the --calib images
  std::string family;  // empty = detect from the tensors
  std::string key;     // --key: the state dict checkpoint[key] (empty = unwrap.h's search)
  HParams flags;  // hyperparameters given directly as flags
  bool inspect = false;  // --inspect: describe the checkpoint instead of converting
  bool json = false;     // --inspect of a model file: print JSON
};

// Parses argv[1..]; throws tools::UsageError (host/cli.h) with a one-line
// message. --help and --version are the shared main's (guarded_main).
Options parse_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace vitrt::conv
