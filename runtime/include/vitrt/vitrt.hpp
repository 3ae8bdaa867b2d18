// Header-only C++ wrapper over the C API: same semantics, no exceptions, no
// heap. Errors are returned as vitrt_status; last_error() has the details.
#pragma once

#include <stddef.h>

#include "vitrt/vitrt.h"

namespace vitrt {

class Model {
 public:
  vitrt_status open(const void* data, size_t size) { return vitrt_open(&m_, data, size); }
  size_t arena_size() const { return vitrt_arena_size(&m_); }
  vitrt_status bind_arena(void* arena, size_t size) { return vitrt_bind_arena(&m_, arena, size); }
  vitrt_status set_parallel(vitrt_parallel_fn parallel, void* pool, int threads) {
    return vitrt_set_parallel(&m_, parallel, pool, threads);
  }
  vitrt_status set_observer(vitrt_observer_fn fn, void* ctx) { return vitrt_set_observer(&m_, fn, ctx); }
  vitrt_status set_attention_observer(vitrt_attention_fn fn, void* ctx) {
    return vitrt_set_attention_observer(&m_, fn, ctx);
  }
  vitrt_status set_kernels(const char* name) { return vitrt_set_kernels(&m_, name); }
  const char* kernels() const { return vitrt_kernels(&m_); }
  size_t preprocess_scratch_size(int32_t height, int32_t width, int32_t format) const {
    return vitrt_preprocess_scratch_size(&m_, height, width, format);
  }
  vitrt_status preprocess(const uint8_t* pixels, int32_t height, int32_t width, int32_t format, size_t row_stride,
                          void* scratch, size_t scratch_size, float* out, size_t out_count) {
    return vitrt_preprocess(&m_, pixels, height, width, format, row_stride, scratch, scratch_size, out, out_count);
  }
  vitrt_status run(const float* input, size_t count) { return vitrt_run(&m_, input, count); }
  const float* logits() const { return vitrt_logits(&m_); }
  vitrt_status info(vitrt_info* out) const { return vitrt_get_info(&m_, out); }
  const char* label(int32_t i) const { return vitrt_label(&m_, i); }
  const char* last_error() const { return vitrt_last_error(&m_); }

  vitrt_model* handle() { return &m_; }

 private:
  vitrt_model m_{};
};

}  // namespace vitrt
