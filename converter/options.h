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
  HParams flags;  // hyperparameters given directly as flags
  bool help = false;
  bool inspect = false;  // --inspect: describe the checkpoint instead of converting
};

// Parses argv[1..]; throws std::runtime_error with a one-line message.
Options parse_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace vitrt::conv
