#include "planner/planner.h"

namespace vitrt::planner {

bool LinearPlanner::plan(const BufferRequest* requests, int n, uint64_t* offsets,
                         uint64_t* total) const {
  if (n < 0 || n > kMaxBuffers) return false;
  uint64_t end = 0;
  for (int i = 0; i < n; ++i) {
    offsets[i] = end;
    end += align_up(requests[i].bytes);
  }
  *total = end;
  return true;
}

}  // namespace vitrt::planner
