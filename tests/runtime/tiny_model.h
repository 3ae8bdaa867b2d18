// Small random ViTs for the runtime tests, plus aligned byte storage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "model_writer.h"
#include "vitrt/vitrt.h"

namespace vitrt::test {

// One ConvStem convolution (square kernel) of a tiny model.
struct TinyConv {
  int32_t out, kernel, stride, padding;
  bool relu, bias;
};

// Deliberately odd sizes so every kernel hits its remainder paths.
struct TinyOptions {
  int32_t image_h = 9, image_w = 8, channels = 3, patch_h = 3, patch_w = 2;
  int32_t dim = 27, depth = 2, heads = 3, head_dim = 9, mlp_dim = 37, num_classes = 7;
  int32_t norm_placement = 0, mlp_activation = 1, pooling = 0, pos_embed = 1;
  bool class_token = true, dist_token = false, pos_patches_only = false;
  bool proj = true, biases = true, patch_norm_in = false, patch_norm_out = false;
  bool final_norm = true, fc_norm = false, labels = false;
  int32_t pre_logits = 0;  // features; 0 = no pre_logits
  int32_t pre_logits2 = 0;  // features of a second pre_logits layer; 0 = none
  int32_t pre_logits_act = 0;
  // Non-empty: a ConvStem; image / patch must then be its output grid.
  std::vector<TinyConv> stem_convs;
};

conv::Model make_tiny(const TinyOptions& o, uint32_t seed);

std::vector<float> random_image(const conv::Model& m, uint32_t seed);

// Opens `file` (copied to aligned memory), binds an exact-size arena, runs
// `image` and returns the status of the first failing step; on success fills
// `logits`. `error` receives vitrt_last_error on failure.
vitrt_status open_and_run(const std::vector<uint8_t>& file, const std::vector<float>& image,
                          std::vector<float>* logits, std::string* error, int threads = 1,
                          vitrt_parallel_fn parallel = nullptr);

// Bytes at a VITRT_ARENA_ALIGNMENT (64) aligned address, as a model file or
// arena needs; `shift` offsets the start to test misalignment.
class Aligned {
 public:
  explicit Aligned(size_t size, size_t shift = 0) : storage_(size + 64 + shift), size_(size) {
    auto addr = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + ((64 - addr % 64) % 64) + shift;
  }
  Aligned(const std::vector<uint8_t>& bytes, size_t shift = 0) : Aligned(bytes.size(), shift) {
    if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
  }
  uint8_t* data() { return data_; }
  size_t size() const { return size_; }

 private:
  std::vector<uint8_t> storage_;
  uint8_t* data_;
  size_t size_;
};

}  // namespace vitrt::test
