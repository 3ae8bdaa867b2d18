// Memory planners: random buffer sets must never place two simultaneously
// live buffers on overlapping bytes.
#include <catch2/catch.hpp>

#include <random>

#include "planner/planner.h"

using namespace vitrt::planner;

namespace {

void check_plan(const BufferRequest* req, int n, const uint64_t* off, uint64_t total) {
  for (int i = 0; i < n; ++i) {
    REQUIRE(off[i] % kAlignment == 0);
    REQUIRE(off[i] + req[i].bytes <= total);
    for (int j = 0; j < i; ++j) {
      const bool live_together =
          req[i].first_use <= req[j].last_use && req[j].first_use <= req[i].last_use;
      const bool share_bytes = req[i].bytes && req[j].bytes && off[i] < off[j] + req[j].bytes &&
                               off[j] < off[i] + req[i].bytes;
      REQUIRE_FALSE((live_together && share_bytes));
    }
  }
}

}  // namespace

TEST_CASE("planners keep live buffers apart", "[unit][planner]") {
  std::mt19937 rng(42);
  const LinearPlanner linear;
  const GreedyPlanner greedy;
  for (int trial = 0; trial < 500; ++trial) {
    const int n = 1 + rng() % kMaxBuffers;
    BufferRequest req[kMaxBuffers];
    uint64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      const int a = rng() % 10, b = rng() % 10;
      req[i] = {rng() % 4 == 0 ? 0u : 1 + rng() % 5000, std::min(a, b), std::max(a, b)};
      sum += align_up(req[i].bytes);
    }
    uint64_t off_l[kMaxBuffers], off_g[kMaxBuffers], total_l, total_g;
    REQUIRE(linear.plan(req, n, off_l, &total_l));
    REQUIRE(greedy.plan(req, n, off_g, &total_g));
    check_plan(req, n, off_l, total_l);
    check_plan(req, n, off_g, total_g);
    REQUIRE(total_l == sum);
    REQUIRE(total_g <= total_l);
  }
}

TEST_CASE("greedy planner reuses space of disjoint lifetimes", "[unit][planner]") {
  const BufferRequest req[3] = {{1000, 0, 1}, {1000, 2, 3}, {100, 1, 2}};
  uint64_t off[3], total;
  REQUIRE(GreedyPlanner().plan(req, 3, off, &total));
  REQUIRE(off[0] == off[1]);
  REQUIRE(total == 1024 + 128);
  REQUIRE_FALSE(GreedyPlanner().plan(req, kMaxBuffers + 1, off, &total));
}
