#include "session.h"

#include <stdexcept>
#include <utility>

namespace vitrt::tools {

Session::Session(const std::string& model_path, int threads, Observer observer)
    : Session(read_file(model_path, "model"), model_path, threads, observer) {}

Session::Session(AlignedBuffer file, const std::string& name, int threads, Observer observer)
    : file_(std::move(file)) {
  check(vitrt_open(&model_, file_.data(), file_.size()), "cannot open model '" + name + "'");
  check(vitrt_get_info(&model_, &info_), "cannot query model '" + name + "'");
  if (threads > 1) {
    pool_ = std::make_unique<ThreadPool>(threads);
    check(vitrt_set_parallel(&model_, &ThreadPool::parallel, pool_.get(), threads), "cannot use threads");
  }
  // Before sizing the arena: observing needs a little more of it.
  if (observer.fn) check(vitrt_set_observer(&model_, observer.fn, observer.ctx), "cannot observe");
  arena_ = AlignedBuffer(vitrt_arena_size(&model_));
  check(vitrt_bind_arena(&model_, arena_.data(), arena_.size()), "cannot bind arena");
}

const float* Session::run(const float* input) {
  check(vitrt_run(&model_, input, input_count()), "inference failed");
  return vitrt_logits(&model_);
}

void Session::check(vitrt_status status, const std::string& what) const {
  if (status == VITRT_OK) return;
  std::string msg = what + ": " + vitrt_status_string(status);
  const char* detail = vitrt_last_error(&model_);
  if (detail && *detail) msg += std::string(": ") + detail;
  throw std::runtime_error(msg);
}

}  // namespace vitrt::tools
