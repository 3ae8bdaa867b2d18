// A fixed pool of std::threads behind the runtime's vitrt_parallel_fn hook.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

class ThreadPool {
 public:
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

  std::mutex mutex_;
  std::condition_variable work_ready_, job_done_;
  vitrt_task_fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int ntasks_ = 0, next_ = 0, unfinished_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vitrt::tools
