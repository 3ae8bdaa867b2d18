#include "session.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace vitrt::tools {

Session::Session(const std::string& model_path, int threads, std::size_t max_arena_bytes, Observer observer)
    : Session(read_file(model_path, "model"), model_path, threads, max_arena_bytes, observer) {}

Session::Session(AlignedBuffer file, const std::string& name, int threads, std::size_t max_arena_bytes,
                 Observer observer)
    : file_(std::move(file)) {
  check(vitrt_open(&model_, file_.data(), file_.size()), "cannot open model '" + name + "'");
  check(vitrt_get_info(&model_, &info_), "cannot query model '" + name + "'");
  if (threads > 1) {
    pool_ = std::make_unique<ThreadPool>(threads);
    check(vitrt_set_parallel(&model_, &ThreadPool::parallel, pool_.get(), threads), "cannot use threads");
  }
  // Before sizing the arena: observing needs a little more of it.
  if (observer.fn) check(vitrt_set_observer(&model_, observer.fn, observer.ctx), "cannot observe");
  if (observer.attention)
    check(vitrt_set_attention_observer(&model_, observer.attention, observer.attention_ctx), "cannot observe attention");
  const std::size_t need = vitrt_arena_size(&model_);
  if (need > max_arena_bytes) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "needs a %.1f MiB arena, above the limit of %.1f MiB (--max-arena-mb raises it)",
                  double(need) / (1 << 20), double(max_arena_bytes) / (1 << 20));
    throw std::runtime_error("model '" + name + "' " + msg);
  }
  arena_ = AlignedBuffer(need);
  check(vitrt_bind_arena(&model_, arena_.data(), arena_.size()), "cannot bind arena");
}

// NaN/Inf in or out is an error, not a printed "nan" or a silent top-1.
const float* Session::run(const float* input) {
  const std::size_t n = input_count();
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(input[i])) throw std::runtime_error("input value " + std::to_string(i) + " is NaN or infinite");
  check(vitrt_run(&model_, input, n), "inference failed");
  const float* logits = vitrt_logits(&model_);
  for (int i = 0; i < info_.num_classes; ++i)
    if (!std::isfinite(logits[i]))
      throw std::runtime_error("inference produced a NaN or infinite logit (class " + std::to_string(i) + ")");
  return logits;
}

void Session::check(vitrt_status status, const std::string& what) const {
  if (status == VITRT_OK) return;
  std::string msg = what + ": " + vitrt_status_string(status);
  const char* detail = vitrt_last_error(&model_);
  if (detail && *detail) msg += std::string(": ") + detail;
  throw std::runtime_error(msg);
}

}  // namespace vitrt::tools
