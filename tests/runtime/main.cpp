// vitrt_runtime_tests' main: the kernel set under test is the one
// VITRT_KERNELS names (the runtime picks it up at every vitrt_open), or the
// default. A set this CPU lacks is reported as skipped (exit 77, which ctest
// shows as "Skipped"), never run and never passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "kernels/kernels.h"

int main(int argc, char** argv) {
  const char* name = std::getenv("VITRT_KERNELS");
  if (name && *name) {
    const char* why = "";
    if (!vitrt::kernels::find_ops(name, &why)) {
      std::printf("kernel set %s: SKIPPED: %s\n", name, why);
      return 77;
    }
  }
  std::printf("kernel set under test: %s\n",
              name && *name ? name : vitrt::kernels::default_ops().name);
  return Catch::Session().run(argc, argv);
}
