// vitrt-run: classify images (or a raw input tensor) with a vitrt model.
//
//   vitrt-run MODEL (IMAGE|DIR... | --tensor X.npy) [--top-k K] [--json]
//             [--logits-out Y.npy] [--threads N] [--dump-input Z.npy]
//             [--max-arena-mb N]
//   vitrt-run --list-kernels
//
// stdout: "arena: N bytes" (before inference), then per input its name and
// top-k lines "  rank  prob  index  label" (label only if the model has
// them); with --json instead one JSON array, one object per input:
//   [{"input": NAME, "top": [{"class": INDEX, "label": LABEL|null, "score": PROB}, ...]}, ...]
// stderr stays empty on success and holds one line on failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention_map.h"
#include "cli.h"
#include "image_files.h"
#include "npy.h"
#include "preprocess.h"
#include "session.h"

namespace vt = vitrt::tools;

namespace {

constexpr char kUsage[] =
    "usage: vitrt-run MODEL (IMAGE|DIR... | --tensor X.npy) [--top-k K] [--json] [--logits-out Y.npy]\n"
    "                 [--threads N] [--dump-input Z.npy] [--max-arena-mb N]\n"
    "                 [--attention-map OUT.png [--attention last|rollout]]\n"
    "       vitrt-run --list-kernels | --help | --version\n"
    "  IMAGE|DIR           PNG or JPEG files; a DIR stands for every image below it, sorted\n"
    "  --tensor X.npy      float32 [N, C, H, W] input instead of images (N runs)\n"
    "  --top-k K           classes listed per input (default 5)\n"
    "  --json              print one JSON array [{\"input\", \"top\": [{\"class\", \"label\", \"score\"}]}]\n"
    "  --logits-out Y.npy  write float32 [N, classes] logits\n"
    "  --threads N         worker threads (default: all cores)\n"
    "  --dump-input Z.npy  write the preprocessed [N, C, H, W] input (debugging)\n"
    "  --max-arena-mb N    refuse a model needing a larger arena (default 1024)\n"
    "  --attention-map OUT.png  write where the class token looked, over the input image\n"
    "                      (one input; blocks' head-mean attention, upsampled and blended)\n"
    "  --attention last|rollout  that map from the last block (default) or by attention\n"
    "                      rollout through every block\n"
    "  --list-kernels      print the kernel sets and whether this CPU has each\n"
    "                      (VITRT_KERNELS=NAME forces one)\n";

struct Options {
  std::string model, tensor, logits_out, dump_input, attention_map;
  vt::AttentionMode attention = vt::AttentionMode::LastBlock;
  std::vector<std::string> images;
  int top_k = 5, threads = vt::default_threads(), max_arena_mb = vt::kDefaultMaxArenaMb;
  bool json = false;
};

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tensor") o.tensor = vt::flag_value(argc, argv, i);
    else if (arg == "--top-k") o.top_k = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, 1 << 30);
    else if (arg == "--logits-out") o.logits_out = vt::flag_value(argc, argv, i);
    else if (arg == "--json") o.json = true;
    else if (arg == "--threads") o.threads = vt::parse_threads(vt::flag_value(argc, argv, i));
    else if (arg == "--dump-input") o.dump_input = vt::flag_value(argc, argv, i);
    else if (arg == "--attention-map") o.attention_map = vt::flag_value(argc, argv, i);
    else if (arg == "--attention") {
      const std::string mode = vt::flag_value(argc, argv, i);
      if (mode != "last" && mode != "rollout")
        throw vt::UsageError("invalid --attention '" + mode + "': expected last or rollout");
      o.attention = mode == "last" ? vt::AttentionMode::LastBlock : vt::AttentionMode::Rollout;
    }
    else if (arg == "--max-arena-mb")
      o.max_arena_mb = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxArenaMbFlag);
    else if (arg.size() > 1 && arg[0] == '-') throw vt::unknown_option(arg);
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

// The image files named, a directory standing for every image below it
// (the list vitrt-eval and vitrt-convert --calib take too).
std::vector<std::string> image_files(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!std::filesystem::is_directory(arg, ec)) {
      files.push_back(arg);
      continue;
    }
    const std::vector<std::string> found = vt::find_images(arg);
    if (found.empty())
      throw std::runtime_error("'" + arg + "': a directory with no images (" + vt::image_extensions() + ")");
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

Inputs load_images(const std::vector<std::string>& args, vt::Session& session) {
  Inputs in;
  for (const std::string& path : image_files(args)) {
    const std::vector<float> x = session.preprocess(vt::load_image(path));
    in.data.insert(in.data.end(), x.begin(), x.end());
    in.names.push_back(path);
  }
  return in;
}

struct Ranked {
  int index;
  double prob;
};

// The k most likely classes, ties by index (as vitrt-eval ranks them).
std::vector<Ranked> top_k(const float* logits, int classes, int k) {
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
  std::vector<Ranked> top;
  for (int r = 0; r < k; ++r) top.push_back({order[r], prob[order[r]] / sum});
  return top;
}

void print_top_k(const std::vector<Ranked>& top, const vt::Session& session) {
  for (std::size_t r = 0; r < top.size(); ++r) {
    const char* label = session.label(top[r].index);
    std::printf("  %zu  %.6f  %d%s%s\n", r + 1, top[r].prob, top[r].index, label ? "  " : "", label ? label : "");
  }
}

std::string json_entry(const std::string& name, const std::vector<Ranked>& top, const vt::Session& session) {
  std::string out = "{\"input\": " + vt::json_string(name) + ", \"top\": [";
  for (std::size_t r = 0; r < top.size(); ++r) {
    const char* label = session.label(top[r].index);
    char score[32];
    std::snprintf(score, sizeof score, "%.9g", top[r].prob);
    out += std::string(r ? ", " : "") + "{\"class\": " + std::to_string(top[r].index) +
           ", \"label\": " + (label ? vt::json_string(label) : "null") + ", \"score\": " + score + "}";
  }
  return out + "]}";
}

int run(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list-kernels") {
    vt::print_kernel_sets();
    return 0;
  }
  const Options o = parse_args(argc, argv);
  vt::AttentionRecorder attention;
  vt::Session::Observer observer{};
  if (!o.attention_map.empty()) observer = {nullptr, nullptr, vt::AttentionRecorder::record, &attention};
  vt::Session session(o.model, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb), observer);
  const vitrt_info& info = session.info();
  if (!o.json) std::printf("arena: %zu bytes\n", session.arena_bytes());

  const Inputs in = o.tensor.empty() ? load_images(o.images, session) : load_tensor(o.tensor, info);
  const int64_t n = int64_t(in.names.size());
  if (!o.attention_map.empty() && n != 1)
    throw vt::UsageError("--attention-map takes one input, got " + std::to_string(n));
  if (!o.dump_input.empty())
    vt::write_npy(o.dump_input, {n, info.channels, info.image_h, info.image_w}, in.data.data());

  const int classes = info.num_classes;
  std::vector<float> all_logits;
  std::string json;  // printed whole at the end: stdout is one document or nothing
  for (int64_t i = 0; i < n; ++i) {
    const float* logits = nullptr;
    try {
      logits = session.run(in.data.data() + i * session.input_count());
    } catch (const std::runtime_error& e) {  // a NaN/Inf logit: name the input
      throw std::runtime_error(in.names[i] + ": " + e.what());
    }
    all_logits.insert(all_logits.end(), logits, logits + classes);
    const std::vector<Ranked> top = top_k(logits, classes, o.top_k);
    if (o.json) {
      json += (i ? ",\n " : "[") + json_entry(in.names[i], top, session);
    } else {
      std::printf("%s\n", in.names[i].c_str());
      print_top_k(top, session);
    }
  }
  if (!o.logits_out.empty()) vt::write_npy(o.logits_out, {n, classes}, all_logits.data());
  if (!o.attention_map.empty()) {
    const int gh = info.image_h / info.patch_h, gw = info.image_w / info.patch_w;
    vt::write_attention_png(o.attention_map, attention.patch_map(o.attention, gh, gw), gh, gw, in.data.data(), info);
  }
  if (o.json) std::printf("%s]\n", json.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt-run", kUsage, argc, argv, [&] { return run(argc, argv); });
}
