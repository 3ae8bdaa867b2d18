// vitrt-bench: latency of one model on a fixed pseudo-random input.
//
//   vitrt-bench MODEL [--threads N] [--runs R] [--warmup W] [--json] [--max-arena-mb N]
//
// --json prints exactly one JSON object on stdout (and nothing else).
// Besides latency it reports the kernel set the runtime chose (CPU features,
// or VITRT_KERNELS) and the process's peak resident memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "session.h"

namespace vt = vitrt::tools;

namespace {

constexpr char kUsage[] =
    "usage: vitrt-bench MODEL [--threads N] [--runs R] [--warmup W] [--json]\n"
    "       vitrt-bench --list-kernels | --help | --version\n"
    "  --threads N     worker threads (default: all cores)\n"
    "  --runs R        timed runs (default 20)\n"
    "  --warmup W      untimed runs first (default 3)\n"
    "  --json          print one JSON object instead of text\n"
    "  --max-arena-mb N  refuse a model needing a larger arena (default 1024)\n"
    "  --list-kernels  print the kernel sets and whether this CPU has each\n"
    "                  (VITRT_KERNELS=NAME forces one)\n";

struct Options {
  std::string model;
  int threads = vt::default_threads(), runs = 20, warmup = 3, max_arena_mb = vt::kDefaultMaxArenaMb;
  bool json = false;
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads") o.threads = vt::parse_threads(vt::flag_value(argc, argv, i));
    else if (arg == "--runs") o.runs = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, 1000000);
    else if (arg == "--warmup") o.warmup = vt::parse_int(arg, vt::flag_value(argc, argv, i), 0, 1000000);
    else if (arg == "--json") o.json = true;
    else if (arg == "--max-arena-mb")
      o.max_arena_mb = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxArenaMbFlag);
    else if (arg.size() > 1 && arg[0] == '-') throw vt::unknown_option(arg);
    else if (o.model.empty()) o.model = arg;
    else throw vt::UsageError("unexpected argument '" + arg + "'");
  }
  if (o.model.empty()) throw vt::UsageError("missing MODEL");
  return o;
}

// Same input on every machine and run: a 64-bit LCG mapped to [-1, 1).
std::vector<float> bench_input(std::size_t count) {
  std::vector<float> x(count);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (float& v : x) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = float(int64_t(state >> 40) - (1 << 23)) / float(1 << 23);
  }
  return x;
}

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double p) {
  const std::size_t rank = std::size_t(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

// The kernel set a handle opened on `file` runs with: the same choice the
// Session's own (private) handle makes. "" when the file does not open;
// the Session then reports why.
std::string kernel_set(const vt::AlignedBuffer& file) {
  vitrt_model probe;
  if (vitrt_open(&probe, file.data(), file.size()) != VITRT_OK) return "";
  return vitrt_kernels(&probe);
}

// High-water mark of this process's resident memory: VmHWM of
// /proc/self/status (Linux), else ru_maxrss, which Linux carries over from
// the process image before execve (a large parent would inflate it).
std::size_t peak_rss_bytes() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f)) found = std::sscanf(line, "VmHWM: %llu kB", &kib) == 1;
    std::fclose(f);
    if (found) return std::size_t(kib) * 1024;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return std::size_t(usage.ru_maxrss) * 1024;
}

int run(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list-kernels") {
    vt::print_kernel_sets();
    return 0;
  }
  const Options o = parse_args(argc, argv);
  vt::AlignedBuffer file = vt::read_file(o.model, "model");
  const std::string kernels = kernel_set(file);
  vt::Session session(std::move(file), o.model, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
  const std::vector<float> input = bench_input(session.input_count());

  for (int i = 0; i < o.warmup; ++i) session.run(input.data());
  std::vector<double> ms(o.runs);
  for (double& t : ms) {
    const auto start = std::chrono::steady_clock::now();
    session.run(input.data());
    t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::sort(ms.begin(), ms.end());
  const std::size_t mid = ms.size() / 2;
  const double median = ms.size() % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2.0;
  const double p90 = percentile(ms, 90.0);
  const std::size_t peak_rss = peak_rss_bytes();

  if (o.json) {
    std::printf(
        "{\"model\":%s,\"threads\":%d,\"runs\":%d,\"warmup\":%d,\"latency_ms_median\":%.4f,"
        "\"latency_ms_p90\":%.4f,\"arena_bytes\":%zu,\"model_bytes\":%zu,\"kernels\":%s,"
        "\"peak_rss_bytes\":%zu}\n",
        vt::json_string(o.model).c_str(), o.threads, o.runs, o.warmup, median, p90, session.arena_bytes(),
        session.model_bytes(), vt::json_string(kernels).c_str(), peak_rss);
  } else {
    std::printf("model: %s\nmodel bytes: %zu\narena bytes: %zu\nthreads: %d\nruns: %d (warmup %d)\n",
                o.model.c_str(), session.model_bytes(), session.arena_bytes(), o.threads, o.runs, o.warmup);
    std::printf("kernels: %s\n", kernels.c_str());
    std::printf("latency median: %.3f ms\nlatency p90: %.3f ms\n", median, p90);
    std::printf("peak rss bytes: %zu\n", peak_rss);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt-bench", kUsage, argc, argv, [&] { return run(argc, argv); });
}
