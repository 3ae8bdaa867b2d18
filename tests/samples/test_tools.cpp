#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include "cli.h"
#include "thread_pool.h"

namespace vt = vitrt::tools;

TEST_CASE("thread pool runs every task exactly once, job after job", "[unit][pool]") {
  for (int threads : {1, 2, 4}) {
    vt::ThreadPool pool(threads);
    CHECK(pool.threads() == threads);
    for (int ntasks : {0, 1, 3, 17, 64}) {
      for (int rep = 0; rep < 200; ++rep) {
        std::vector<std::atomic<int>> hits(ntasks);
        vitrt_parallel_fn parallel = &vt::ThreadPool::parallel;
        parallel(&pool, [](void* ctx, int t) { (*static_cast<std::vector<std::atomic<int>>*>(ctx))[t]++; },
                 &hits, ntasks);
        for (auto& h : hits) REQUIRE(h.load() == 1);
      }
    }
  }
  CHECK_THROWS(vt::ThreadPool(0));
}

TEST_CASE("integer flags are validated", "[unit][cli]") {
  CHECK(vt::parse_int("--runs", "20", 1, 100) == 20);
  CHECK_THROWS_AS(vt::parse_int("--runs", "0", 1, 100), vt::UsageError);
  CHECK_THROWS_AS(vt::parse_int("--runs", "2x", 1, 100), vt::UsageError);
  CHECK_THROWS_AS(vt::parse_int("--runs", "", 1, 100), vt::UsageError);
  CHECK_THROWS_AS(vt::parse_int("--runs", "99999999999999999999", 1, 100), vt::UsageError);
  CHECK_THROWS_WITH(vt::parse_int("--threads", "-1", 1, 8), Catch::Contains("--threads"));
}
