#include "cli.h"

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <thread>

#include "vitrt/vitrt.h"

namespace vitrt::tools {

int default_threads() {
  const unsigned cores = std::thread::hardware_concurrency();  // 0 = unknown
  return cores == 0 ? 1 : cores > unsigned(kMaxThreads) ? kMaxThreads : int(cores);
}

void print_kernel_sets() {
  const char* const* names;
  const int count = vitrt_kernel_sets(&names);
  for (int i = 0; i < count; ++i) {
    const char* why = "";
    if (vitrt_kernels_supported(names[i], &why)) std::printf("%s yes\n", names[i]);
    else std::printf("%s no: %s\n", names[i], why);
  }
}

std::string flag_value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) throw UsageError(std::string(argv[i]) + " needs a value");
  return argv[++i];
}

int parse_int(const std::string& flag, const std::string& value, int min_value, int max_value) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || v < min_value || v > max_value) {
    throw UsageError(flag + " takes an integer in [" + std::to_string(min_value) + ", " +
                     std::to_string(max_value) + "], got '" + value + "'");
  }
  return int(v);
}

namespace {

// Callers parse error lines, so a message (which may quote paths or runtime
// text) must not span lines.
std::string one_line(const char* text) {
  std::string s(text);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int guarded_main(const char* tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: error: %s (see %s --help)\n", tool, one_line(e.what()).c_str(), tool);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, one_line(e.what()).c_str());
    return 1;
  }
}

}  // namespace vitrt::tools
