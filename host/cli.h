// Command-line plumbing shared by every tool (vitrt-convert, vitrt-run,
// vitrt-bench, vitrt-eval), so they behave alike: --help anywhere and
// --version exit 0, every error becomes one stderr line "TOOL: error: ..."
// with exit code 2 for misuse of the command line and 1 for anything else.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

// Thrown for misuse of the command line; guarded_main adds the usage hint
// and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "unknown option '--x'", the one wording of every tool.
UsageError unknown_option(const std::string& arg);

// The value after flag argv[i] (advancing i); UsageError when absent.
std::string flag_value(int argc, char** argv, int& i);

// Integer in [min_value, max_value]; UsageError naming `flag` otherwise.
int parse_int(const std::string& flag, const std::string& value, int min_value, int max_value);

// --threads: exactly the runtime's range, 1..VITRT_MAX_THREADS
// (vitrt_set_parallel refuses more).
constexpr int kMaxThreads = VITRT_MAX_THREADS;
int parse_threads(const std::string& value);
// The default --threads of every tool: all cores (as ONNX Runtime), within
// that range.
int default_threads();

// Arena cap of every tool (--max-arena-mb): what a model may make it allocate.
constexpr int kDefaultMaxArenaMb = 1024;
constexpr int kMaxArenaMbFlag = 1 << 20;  // 1 TiB: --max-arena-mb's upper bound
inline std::size_t arena_mb_to_bytes(int mb) { return std::size_t(mb) << 20; }

// Prints every kernel set of this build and whether this CPU supports it
// ("NAME yes" / "NAME no: reason"), for --list-kernels.
void print_kernel_sets();

// `s` as a JSON string literal, quotes included.
std::string json_string(const std::string& s);

// The tools' version: VITRT_VERSION_STRING, the CMake project's ("0.1.0").
const char* version();

// A tool's main: --help / -h anywhere on the command line prints `usage`
// and --version prints "TOOL VERSION" (both exit 0); otherwise runs `body`,
// turning any exception into "TOOL: error: message" on stderr and exit code
// 1 (2 for usage errors).
int guarded_main(const char* tool, const std::string& usage, int argc, char** argv,
                 const std::function<int()>& body);
// The same without the --help / --version handling (test helpers).
int guarded_main(const char* tool, const std::function<int()>& body);

}  // namespace vitrt::tools
