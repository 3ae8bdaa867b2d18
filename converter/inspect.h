// vitrt-convert --inspect: what a checkpoint is and what converting it needs.
#pragma once

#include <string>

#include "options.h"

namespace vitrt::conv {

// The report printed by --inspect: format, tensor count and a few names,
// detected family and the hyperparameters the mapping arrives at with the
// given flags - or what must still be given. Throws only when the
// checkpoint (or a --config / --labels file) cannot be read.
std::string inspect(const Options& o);

}  // namespace vitrt::conv
