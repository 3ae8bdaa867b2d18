#include "cli.h"

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>
#include <thread>

namespace vitrt::tools {

UsageError unknown_option(const std::string& arg) { return UsageError("unknown option '" + arg + "'"); }

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

int parse_threads(const std::string& value) { return parse_int("--threads", value, 1, kMaxThreads); }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

const char* version() { return VITRT_VERSION_STRING; }

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
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", tool);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, one_line(e.what()).c_str());
    return 1;
  }
}

int guarded_main(const char* tool, const std::string& usage, int argc, char** argv,
                 const std::function<int()>& body) {
  // Anywhere, as users append --help to a command that just failed.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage.c_str(), stdout);
      return 0;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--version") {
      std::printf("%s %s\n", tool, version());
      return 0;
    }
  }
  return guarded_main(tool, body);
}

}  // namespace vitrt::tools
