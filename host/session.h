// A model ready to run, as both sample tools use it: file read into an
// aligned buffer, opened, optional thread pool, arena allocated and bound.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.h"
#include "preprocess.h"
#include "thread_pool.h"
#include "vitrt/vitrt.h"

namespace vitrt::tools {

class Session {
 public:
  // Optional: the runtime reports every Linear of each run to fn
  // (vitrt_set_observer), and each head's attention probabilities to
  // attention (vitrt_set_attention_observer); null members are none.
  struct Observer {
    vitrt_observer_fn fn;
    void* ctx;
    vitrt_attention_fn attention;
    void* attention_ctx;
  };

  // Throws std::runtime_error carrying the runtime's vitrt_last_error(), or
  // when the model needs an arena above `max_arena_bytes` (a model file is
  // untrusted: a small one may ask for gigabytes).
  Session(const std::string& model_path, int threads, std::size_t max_arena_bytes, Observer observer = {});
  // A model file already in memory; `name` labels it in errors.
  Session(AlignedBuffer file, const std::string& name, int threads, std::size_t max_arena_bytes,
          Observer observer = {});
  // The runtime handle may point into itself; keep it in place.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const vitrt_info& info() const { return info_; }
  std::size_t model_bytes() const { return file_.size(); }
  std::size_t arena_bytes() const { return arena_.size(); }
  std::size_t input_count() const { return std::size_t(info_.channels) * info_.image_h * info_.image_w; }

  // The model's input for an image, as the model records it (vitrt_preprocess).
  std::vector<float> preprocess(const Image& img) { return tools::preprocess(&model_, img); }
  // One [1, C, H, W] input (input_count() floats) -> num_classes logits;
  // throws when the input or a logit is NaN or infinite.
  const float* run(const float* input);
  // Class label, or nullptr when the model has none.
  const char* label(int i) const { return vitrt_label(&model_, i); }

 private:
  void check(vitrt_status status, const std::string& what) const;

  AlignedBuffer file_;
  std::unique_ptr<ThreadPool> pool_;
  vitrt_model model_{};
  vitrt_info info_{};
  AlignedBuffer arena_;
};

}  // namespace vitrt::tools
