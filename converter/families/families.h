// The checkpoint families vitrt-convert understands. Each entry recognises a
// family from tensor names/shapes and maps its tensors into a vitrt Model; a
// new family is one new family_<name>.cpp and one line in families.cpp.
#pragma once

#include <string>
#include <vector>

#include "families/hparams.h"
#include "model_writer.h"
#include "readers/tensors.h"

namespace vitrt::conv {

struct Family {
  const char* name;         // the --family value
  const char* description;  // for --help, --inspect and error messages
  bool (*detect)(const TensorMap& tensors);
  // Maps every tensor (anything not understood is an error) and fills
  // Model::config; preprocessing and labels are left to the caller.
  Model (*map)(const TensorMap& tensors, const HParams& hp);
  // The upstream code base's own evaluation preprocessing (mean/std, resize),
  // used where --arch, --config and the flags say nothing; null = none known.
  void (*preprocess_defaults)(HParams& hp);
};

const std::vector<Family>& families();

// The family named `name` (throws listing the known names), or, for an
// empty name, the first whose detect() accepts `tensors` (throws naming
// some of the tensors when none does).
const Family& find_family(const std::string& name, const TensorMap& tensors, const std::string& path);

}  // namespace vitrt::conv
