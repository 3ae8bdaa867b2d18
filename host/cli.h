// Command-line plumbing shared by vitrt-run and vitrt-bench: every error
// becomes one stderr line and a non-zero exit code.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

namespace vitrt::tools {

// Thrown for misuse of the command line; guarded_main adds the usage hint.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The value after flag argv[i] (advancing i); UsageError when absent.
std::string flag_value(int argc, char** argv, int& i);

// Integer in [min_value, max_value]; UsageError naming `flag` otherwise.
int parse_int(const std::string& flag, const std::string& value, int min_value, int max_value);

// The default --threads of every tool: all cores (as ONNX Runtime), within
// the runtime's 1..kMaxThreads.
int default_threads();
constexpr int kMaxThreads = 64;  // the runtime's limit (vitrt_set_parallel)

// Arena cap of every tool (--max-arena-mb): what a model may make it allocate.
constexpr int kDefaultMaxArenaMb = 1024;
constexpr int kMaxArenaMbFlag = 1 << 20;  // 1 TiB: --max-arena-mb's upper bound
inline std::size_t arena_mb_to_bytes(int mb) { return std::size_t(mb) << 20; }

// Prints every kernel set of this build and whether this CPU supports it
// ("NAME yes" / "NAME no: reason"), for --list-kernels.
void print_kernel_sets();

// Runs `body`, turning any exception into "tool: error: message" on stderr
// and exit code 1 (2 for usage errors).
int guarded_main(const char* tool, const std::function<int()>& body);

}  // namespace vitrt::tools
