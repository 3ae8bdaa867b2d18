// vitrt-run: classify images (or a raw input tensor) with a vitrt model.
//
//   vitrt-run MODEL (IMAGE... | --tensor X.npy) [--top-k K]
//             [--logits-out Y.npy] [--threads N] [--dump-input Z.npy]
//             [--max-arena-mb N]
//   vitrt-run --list-kernels
//
// stdout: "arena: N bytes" (before inference), then per input its name and
// top-k lines "  rank  prob  index  label" (label only if the model has
// them). stderr stays empty on success and holds one line on failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "npy.h"
#include "preprocess.h"
#include "session.h"

namespace vt = vitrt::tools;

namespace {

constexpr char kUsage[] =
    "usage: vitrt-run MODEL (IMAGE... | --tensor X.npy) [--top-k K] [--logits-out Y.npy] [--threads N]\n"
    "  --tensor X.npy      float32 [N, C, H, W] input instead of images (N runs)\n"
    "  --top-k K           classes listed per input (default 5)\n"
    "  --logits-out Y.npy  write float32 [N, classes] logits\n"
    "  --threads N         worker threads (default: all cores)\n"
    "  --dump-input Z.npy  write the preprocessed [N, C, H, W] input (debugging)\n"
    "  --max-arena-mb N    refuse a model needing a larger arena (default 1024)\n"
    "  --list-kernels      print the kernel sets and whether this CPU has each\n"
    "                      (VITRT_KERNELS=NAME forces one)\n";

struct Options {
  std::string model, tensor, logits_out, dump_input;
  std::vector<std::string> images;
  int top_k = 5, threads = vt::default_threads(), max_arena_mb = vt::kDefaultMaxArenaMb;
};

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tensor") o.tensor = vt::flag_value(argc, argv, i);
    else if (arg == "--top-k") o.top_k = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, 1 << 30);
    else if (arg == "--logits-out") o.logits_out = vt::flag_value(argc, argv, i);
    else if (arg == "--threads") o.threads = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxThreads);
    else if (arg == "--dump-input") o.dump_input = vt::flag_value(argc, argv, i);
    else if (arg == "--max-arena-mb")
      o.max_arena_mb = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxArenaMbFlag);
    else if (arg.size() > 1 && arg[0] == '-') throw vt::UsageError("unknown option '" + arg + "'");
    else positional.push_back(arg);
  }
  if (positional.empty()) throw vt::UsageError("missing MODEL");
  o.model = positional[0];
  o.images.assign(positional.begin() + 1, positional.end());
  if (o.images.empty() == o.tensor.empty()) throw vt::UsageError("give either IMAGE files or --tensor X.npy");
  return o;
}

// Inputs, one [C, H, W] block each, and their names for the report.
struct Inputs {
  std::vector<std::string> names;
  std::vector<float> data;
};

Inputs load_tensor(const std::string& path, const vitrt_info& info) {
  vt::NpyArray a = vt::read_npy(path);
  const std::vector<int64_t> want{info.channels, info.image_h, info.image_w};
  if (a.shape.size() != 4 || a.shape[0] < 1 || !std::equal(want.begin(), want.end(), a.shape.begin() + 1)) {
    std::string got;
    for (int64_t d : a.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
    throw std::runtime_error("'" + path + "' has shape [" + got + "], the model takes [N, " +
                             std::to_string(info.channels) + ", " + std::to_string(info.image_h) + ", " +
                             std::to_string(info.image_w) + "]");
  }
  const auto bad = std::find_if(a.data.begin(), a.data.end(), [](float v) { return !std::isfinite(v); });
  if (bad != a.data.end())
    throw std::runtime_error("'" + path + "' holds a NaN or infinite value (flat index " +
                             std::to_string(bad - a.data.begin()) + ")");
  Inputs in;
  for (int64_t n = 0; n < a.shape[0]; ++n) in.names.push_back(path + "[" + std::to_string(n) + "]");
  in.data = std::move(a.data);
  return in;
}

Inputs load_images(const std::vector<std::string>& paths, const vitrt_info& info) {
  const vt::PreprocessSpec spec = vt::spec_from_info(info);
  Inputs in;
  for (const std::string& path : paths) {
    const std::vector<float> x = vt::preprocess(vt::load_image(path, info.channels), spec);
    in.data.insert(in.data.end(), x.begin(), x.end());
    in.names.push_back(path);
  }
  return in;
}

void print_top_k(const float* logits, int classes, int k, const vt::Session& session) {
  // Softmax in double, shifted by the max so exp cannot overflow.
  const float max_logit = *std::max_element(logits, logits + classes);
  std::vector<double> prob(classes);
  double sum = 0.0;
  for (int i = 0; i < classes; ++i) sum += prob[i] = std::exp(double(logits[i]) - max_logit);
  std::vector<int> order(classes);
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  for (int r = 0; r < k; ++r) {
    const char* label = session.label(order[r]);
    std::printf("  %d  %.6f  %d%s%s\n", r + 1, prob[order[r]] / sum, order[r], label ? "  " : "", label ? label : "");
  }
}

int run(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc == 2 && std::string(argv[1]) == "--list-kernels") {
    vt::print_kernel_sets();
    return 0;
  }
  const Options o = parse_args(argc, argv);
  vt::Session session(o.model, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
  const vitrt_info& info = session.info();
  std::printf("arena: %zu bytes\n", session.arena_bytes());

  const Inputs in = o.tensor.empty() ? load_images(o.images, info) : load_tensor(o.tensor, info);
  const int64_t n = int64_t(in.names.size());
  if (!o.dump_input.empty())
    vt::write_npy(o.dump_input, {n, info.channels, info.image_h, info.image_w}, in.data.data());

  const int classes = info.num_classes;
  std::vector<float> all_logits;
  for (int64_t i = 0; i < n; ++i) {
    const float* logits = nullptr;
    try {
      logits = session.run(in.data.data() + i * session.input_count());
    } catch (const std::runtime_error& e) {  // a NaN/Inf logit: name the input
      throw std::runtime_error(in.names[i] + ": " + e.what());
    }
    all_logits.insert(all_logits.end(), logits, logits + classes);
    std::printf("%s\n", in.names[i].c_str());
    print_top_k(logits, classes, o.top_k, session);
  }
  if (!o.logits_out.empty()) vt::write_npy(o.logits_out, {n, classes}, all_logits.data());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt-run", [&] { return run(argc, argv); });
}
