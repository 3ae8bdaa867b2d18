// Arena planning: place buffers with known sizes and lifetimes at 64-byte
// aligned offsets. Strategies are interchangeable (cf. TFLM memory_planner/):
// LinearPlanner never reuses memory, GreedyPlanner shares space between
// buffers whose lifetimes do not overlap. Fixed capacity, no heap.
#pragma once

#include <stdint.h>

namespace vitrt::planner {

constexpr uint64_t kAlignment = 64;
constexpr int kMaxBuffers = 32;

// Live from step first_use to step last_use inclusive; 0 bytes = unused.
struct BufferRequest {
  uint64_t bytes;
  int first_use, last_use;
};

class MemoryPlanner {
 public:
  // Fills offsets[0..n) and *total (a multiple of kAlignment). Returns false
  // when n exceeds kMaxBuffers.
  virtual bool plan(const BufferRequest* requests, int n, uint64_t* offsets,
                    uint64_t* total) const = 0;

 protected:
  ~MemoryPlanner() = default;
};

class LinearPlanner final : public MemoryPlanner {
 public:
  bool plan(const BufferRequest* requests, int n, uint64_t* offsets,
            uint64_t* total) const override;
};

// Largest buffer first, each at the lowest offset free for its lifetime.
class GreedyPlanner final : public MemoryPlanner {
 public:
  bool plan(const BufferRequest* requests, int n, uint64_t* offsets,
            uint64_t* total) const override;
};

inline uint64_t align_up(uint64_t bytes) { return (bytes + kAlignment - 1) & ~(kAlignment - 1); }

}  // namespace vitrt::planner
