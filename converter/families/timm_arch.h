// Named timm architectures (--arch, or "architecture" in a config.json):
// their fixed hyperparameters and preprocessing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "families/hparams.h"

namespace vitrt::conv {

// Hyperparameters of `name` (a ".tag" suffix such as ".augreg_in21k_ft_in1k"
// is ignored), attributed to `source`; nullopt if the name is unknown.
std::optional<HParams> find_arch(const std::string& name, const std::string& source);

// As find_arch, but an unknown name throws listing the known ones.
HParams arch_hparams(const std::string& name, const std::string& source);

std::vector<std::string> known_archs();

// The 1000 ImageNet-1k class names in class-index order ("tench",
// "goldfish", ...): what a model of a known architecture with a 1000-class
// head records when no --labels are given.
const std::vector<std::string>& imagenet_labels();

}  // namespace vitrt::conv
