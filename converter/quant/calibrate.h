// Calibration (--calib DIR): the fp32 model runs in the runtime on every
// image of a directory, the runtime's Linear observer records what each
// Linear reads, and each int8 Linear gets a static per-tensor input scale
// (schema Linear.input_scale) instead of per-token scales at run time.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "model_writer.h"
#include "preprocess.h"
#include "session.h"

namespace vitrt::conv {

// The Linears present in `m` under the runtime's observer names
// ("patch_embed", "blocks.N.qkv|proj|fc1|fc2", "pre_logits.N", "head",
// "head_dist"), in the order a run reaches them.
std::vector<std::pair<std::string, Linear*>> named_linears(Model& m);

// Files under `dir` (recursively, sorted) with an image extension, the same
// list as every tool's (host/image_files.h). Throws when `dir` is not a
// directory or holds no such file.
std::vector<std::string> find_images(const std::string& dir);

// A model file run from memory with an observer, on images decoded and
// preprocessed exactly as vitrt-run does (host/).
class ObservedModel {
 public:
  // `name` labels the model in errors.
  ObservedModel(const std::vector<uint8_t>& file, const std::string& name, vitrt_observer_fn fn, void* ctx);

  // The model input for one image; throws naming an undecodable file.
  std::vector<float> input(const std::string& image_path);
  // Runs `input`, reporting each Linear to the observer; returns the logits.
  const float* run(const std::vector<float>& input) { return session_.run(input.data()); }
  int classes() const { return session_.info().num_classes; }

 private:
  tools::Session session_;
};

// Largest |input| of each Linear over every run it observed.
class InputRanges {
 public:
  // A vitrt_observer_fn; ctx is the InputRanges.
  static void observe(void* ctx, const vitrt_linear_event* e);
  const std::map<std::string, float>& absmax() const { return absmax_; }

 private:
  std::map<std::string, float> absmax_;
};

// The static input scale of a Linear whose inputs reach `absmax`: the int8
// step that maps absmax to 127 (1 for all-zero inputs, like per-token).
float static_input_scale(float absmax);

// Sets input_scale of every I8 Linear of `m` from `ranges`; F32 and F16
// Linears keep 0. Throws if an I8 Linear was never observed.
void set_input_scales(Model& m, const InputRanges& ranges);

// The whole of --calib: runs `reference` (m written as fp32) on `images`,
// progress on `log`, then set_input_scales.
void calibrate(Model& m, const std::vector<uint8_t>& reference, const std::vector<std::string>& images,
               std::ostream& log);

}  // namespace vitrt::conv
