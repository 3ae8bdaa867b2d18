// The vitrt-convert command line.
#pragma once

#include <string>
#include <vector>

#include "hparams.h"

namespace vitrt::conv {

struct Options {
  std::string checkpoint, output;
  std::string arch, config_path, labels_path;  // empty = not given
  std::string dtype = "fp32";
  std::string family;  // empty = detect from the tensors
  HParams flags;  // hyperparameters given directly as flags
  bool help = false;
};

// Parses argv[1..]; throws std::runtime_error with a one-line message.
Options parse_options(const std::vector<std::string>& args);

std::string usage();

}  // namespace vitrt::conv
