#include "thread_pool.h"

#include <chrono>
#include <stdexcept>

namespace vitrt::tools {

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) throw std::invalid_argument("thread count must be at least 1");
  workers_.reserve(threads - 1);
  for (int i = 1; i < threads; ++i) workers_.emplace_back(&ThreadPool::worker, this);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    jobs_.fetch_add(1);  // ends any spin
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

template <typename Done>
void ThreadPool::spin(std::unique_lock<std::mutex>& lock, Done done) {
  using clock = std::chrono::steady_clock;
  lock.unlock();
  const auto until = clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int i = 1; !done(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && clock::now() > until) break;
  }
  lock.lock();
}

void ThreadPool::run(vitrt_task_fn fn, void* ctx, int ntasks) {
  if (ntasks <= 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  fn_ = fn;
  ctx_ = ctx;
  ntasks_ = ntasks;
  next_ = 0;
  unfinished_.store(ntasks);
  jobs_.fetch_add(1);
  work_ready_.notify_all();
  work(lock);
  if (unfinished_.load() != 0) spin(lock, [this] { return unfinished_.load() == 0; });
  job_done_.wait(lock, [this] { return unfinished_.load() == 0; });
}

void ThreadPool::parallel(void* pool, vitrt_task_fn fn, void* ctx, int ntasks) {
  static_cast<ThreadPool*>(pool)->run(fn, ctx, ntasks);
}

void ThreadPool::worker() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (!stop_ && next_ >= ntasks_) {
      const uint64_t seen = jobs_.load();
      spin(lock, [this, seen] { return jobs_.load() != seen; });
      work_ready_.wait(lock, [this] { return stop_ || next_ < ntasks_; });
    }
    if (stop_) return;
    work(lock);
  }
}

void ThreadPool::work(std::unique_lock<std::mutex>& lock) {
  // The job cannot change while tasks are unclaimed (run() waits for all of
  // them), so fn/ctx read at claim time belong to the claimed task.
  while (next_ < ntasks_) {
    const int task = next_++;
    const vitrt_task_fn fn = fn_;
    void* const ctx = ctx_;
    lock.unlock();
    fn(ctx, task);
    lock.lock();
    if (unfinished_.fetch_sub(1) == 1) job_done_.notify_all();
  }
}

}  // namespace vitrt::tools
