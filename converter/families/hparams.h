// Hyperparameters that do not come from (or must agree with) the weights,
// gathered from several sources. Each value remembers where it came from so
// that a contradiction names its origin. Precedence, highest first:
// command-line flags > --config / --arch > the checkpoint's own 'arch'
// entry (source "the checkpoint's arch '...'") > inferred from the weights.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "readers/json.h"

namespace vitrt::conv {

template <class T>
struct Param {
  std::optional<T> value;
  std::string source;  // "--heads", "--arch vit_base_patch16_224", "config.json", ...

  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
  void set(T v, std::string src) { value = std::move(v); source = std::move(src); }
};

// Pooling as the checkpoint family names it; the mapper picks the schema enum.
enum class Pool { Token, Mean };

struct HParams {
  Param<int> dim, depth, heads, mlp_dim, num_classes, channels;
  Param<int> image_h, image_w, patch_h, patch_w;
  Param<bool> class_token, dist_token, fc_norm, qkv_bias, pos_embed_patches_only;
  Param<Pool> pool;
  Param<float> ln_eps, crop_pct;
  Param<int> interpolation;  // schema Interpolation
  Param<int> resize;         // schema ResizeMode
  Param<std::vector<float>> mean, std;
  Param<std::vector<std::string>> labels;
  Param<std::string> arch;   // the architecture name, for the summary
};

// `base` with every value that `over` sets replaced.
HParams overlay(HParams base, const HParams& over);

// Hyperparameters from a timm / Hugging Face hub config.json, or from a
// Hugging Face transformers ViT config. A known "architecture" contributes
// its arch-table entry, which the file's explicit values override.
HParams hparams_from_config(const Json& config, const std::string& source);

// What the flags and config files ask for, against the runtime's limits
// (vitrt.h), before any tensor work: a config asking for a 40000-pixel image
// would otherwise resample the position embedding into gigabytes.
void check_limits(const HParams& hp);

// Checks that `given`, if set, equals what the weights say.
template <class T>
void check_matches(const Param<T>& given, const T& from_weights, const std::string& what) {
  if (given && *given != from_weights)
    throw std::runtime_error(what + " " + std::to_string(*given) + " (from " + given.source +
                             ") contradicts the checkpoint weights, which have " + std::to_string(from_weights));
}
inline void check_matches(const Param<bool>& given, bool from_weights, const std::string& what) {
  if (given && *given != from_weights)
    throw std::runtime_error(std::string(*given ? "" : "no ") + what + " (from " + given.source +
                             ") contradicts the checkpoint weights, which have " + (from_weights ? "" : "no ") + what);
}

}  // namespace vitrt::conv
