#include "planner/planner.h"

namespace vitrt::planner {
namespace {

bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

}  // namespace

bool GreedyPlanner::plan(const BufferRequest* requests, int n, uint64_t* offsets,
                         uint64_t* total) const {
  if (n < 0 || n > kMaxBuffers) return false;
  // Placement order: size descending, index ascending on ties (insertion sort).
  int order[kMaxBuffers];
  for (int i = 0; i < n; ++i) {
    int j = i;
    while (j > 0 && requests[order[j - 1]].bytes < requests[i].bytes) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = i;
  }

  uint64_t end = 0;
  for (int a = 0; a < n; ++a) {
    const int b = order[a];
    const uint64_t size = align_up(requests[b].bytes);
    offsets[b] = 0;
    if (size == 0) continue;
    // Bump the candidate past any conflicting placed buffer until none
    // conflicts; each bump moves strictly upwards, so this terminates.
    uint64_t candidate = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (int p = 0; p < a; ++p) {
        const int o = order[p];
        const uint64_t o_size = align_up(requests[o].bytes);
        if (o_size == 0 || !lifetimes_overlap(requests[b], requests[o])) continue;
        if (candidate < offsets[o] + o_size && offsets[o] < candidate + size) {
          candidate = offsets[o] + o_size;
          moved = true;
        }
      }
    }
    offsets[b] = candidate;
    if (candidate + size > end) end = candidate + size;
  }
  *total = end;
  return true;
}

}  // namespace vitrt::planner
