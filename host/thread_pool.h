// A fixed pool of std::threads behind the runtime's vitrt_parallel_fn hook.
// A ViT run is ~100 short parallel jobs, so waking a sleeping thread each
// time (tens of microseconds) would cost more than it saves: idle threads
// first spin briefly (kSpinMicros, bounded, so an oversubscribed machine
// loses no more than that), then sleep on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

class ThreadPool {
 public:
  static constexpr int kSpinMicros = 50;

  // `threads` counts the caller, which works too: threads - 1 workers.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return int(workers_.size()) + 1; }

  // fn(ctx, 0..ntasks-1) across the pool; returns when all have finished.
  // One caller at a time, and tasks must not call run() themselves.
  void run(vitrt_task_fn fn, void* ctx, int ntasks);

  // Matches vitrt_parallel_fn with `pool` = this.
  static void parallel(void* pool, vitrt_task_fn fn, void* ctx, int ntasks);

 private:
  void worker();
  // Claims and runs tasks of the current job until none are left unclaimed.
  void work(std::unique_lock<std::mutex>& lock);
  // Spins (lock released) for at most kSpinMicros while `done` is false.
  template <typename Done>
  static void spin(std::unique_lock<std::mutex>& lock, Done done);

  std::mutex mutex_;
  std::condition_variable work_ready_, job_done_;
  vitrt_task_fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int ntasks_ = 0, next_ = 0;
  // Written under mutex_; also read without it while spinning.
  std::atomic<int> unfinished_{0};
  std::atomic<uint64_t> jobs_{0};  // jobs started
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vitrt::tools
