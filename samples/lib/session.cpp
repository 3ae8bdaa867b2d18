#include "session.h"

#include <stdexcept>

namespace vitrt::tools {

Session::Session(const std::string& model_path, int threads) : file_(read_file(model_path, "model")) {
  check(vitrt_open(&model_, file_.data(), file_.size()), "cannot open model '" + model_path + "'");
  check(vitrt_get_info(&model_, &info_), "cannot query model '" + model_path + "'");
  if (threads > 1) {
    pool_ = std::make_unique<ThreadPool>(threads);
    check(vitrt_set_parallel(&model_, &ThreadPool::parallel, pool_.get(), threads), "cannot use threads");
  }
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
