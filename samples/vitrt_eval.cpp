// vitrt-eval: accuracy of a vitrt model on an ImageFolder tree.
//
//   vitrt-eval MODEL DIR [--json] [--compare OTHER_MODEL] [--threads N] [--max-arena-mb N]
//
// DIR holds one subfolder per class; as in torchvision's ImageFolder, the
// class index is the folder's position in byte-order sorted folder names and
// every file below it (recursively) with an image extension is a sample.
// Reports top-1 and top-5 accuracy (top-5 = top-min(5, classes)).
// --compare runs a second model on the same images and adds its accuracy,
// how often both models agree on the top-1 class, and the mean cosine of the
// two logit vectors. Progress goes to stderr; with --json stdout is exactly
// one JSON object.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "preprocess.h"
#include "session.h"

namespace vt = vitrt::tools;
namespace fs = std::filesystem;

namespace {

constexpr char kUsage[] =
    "usage: vitrt-eval MODEL DIR [--json] [--compare OTHER_MODEL] [--threads N] [--max-arena-mb N]\n"
    "  DIR                    ImageFolder tree: one subfolder per class, in sorted order\n"
    "  --json                 print one JSON object {\"top1\", \"top5\", \"n\", ...} instead of text\n"
    "  --compare OTHER_MODEL  also run OTHER_MODEL: its accuracy, top-1 agreement, mean logit cosine\n"
    "  --threads N            worker threads per model (default: all cores)\n"
    "  --max-arena-mb N       refuse a model needing a larger arena (default 1024)\n";

constexpr int kTopK = 5;

struct Options {
  std::string model, dir, compare;
  bool json = false;
  int threads = vt::default_threads(), max_arena_mb = vt::kDefaultMaxArenaMb;
};

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") o.json = true;
    else if (arg == "--compare") o.compare = vt::flag_value(argc, argv, i);
    else if (arg == "--threads") o.threads = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxThreads);
    else if (arg == "--max-arena-mb")
      o.max_arena_mb = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxArenaMbFlag);
    else if (arg.size() > 1 && arg[0] == '-') throw vt::UsageError("unknown option '" + arg + "'");
    else positional.push_back(arg);
  }
  if (positional.empty()) throw vt::UsageError("missing MODEL");
  if (positional.size() < 2) throw vt::UsageError("missing DIR");
  if (positional.size() > 2) throw vt::UsageError("unexpected argument '" + positional[2] + "'");
  o.model = positional[0];
  o.dir = positional[1];
  return o;
}

struct Sample {
  std::string path;
  int label;
};

// torchvision.datasets.folder.IMG_EXTENSIONS, matched case-insensitively.
bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"})
    if (ext == e) return true;
  return false;
}

// ImageFolder's class list and samples. std::string orders by unsigned byte,
// as Python's sorted() orders UTF-8 names.
std::vector<Sample> scan_image_folder(const std::string& dir, int& num_classes) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw std::runtime_error("'" + dir + "': no such directory");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("'" + dir + "': not a directory");
  std::vector<std::string> classes;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  if (classes.empty()) throw std::runtime_error("'" + dir + "' has no class folders");
  std::sort(classes.begin(), classes.end());
  num_classes = int(classes.size());

  std::vector<Sample> samples;
  for (int label = 0; label < num_classes; ++label) {
    const fs::path class_dir = fs::path(dir) / classes[label];
    std::vector<std::string> files;
    for (const fs::directory_entry& e :
         fs::recursive_directory_iterator(class_dir, fs::directory_options::follow_directory_symlink))
      if (!e.is_directory() && has_image_extension(e.path())) files.push_back(e.path().string());
    if (files.empty()) throw std::runtime_error("class folder '" + class_dir.string() + "' has no images");
    std::sort(files.begin(), files.end());
    for (std::string& f : files) samples.push_back({std::move(f), label});
  }
  return samples;
}

// Position of class `c` when classes are ordered by logit, ties by index as
// vitrt-run lists them; a NaN logit ranks last.
int rank_of(const float* logits, int classes, int c) {
  if (std::isnan(logits[c])) return classes;
  int rank = 0;
  for (int j = 0; j < classes; ++j)
    if (logits[j] > logits[c] || (logits[j] == logits[c] && j < c)) ++rank;
  return rank;
}

int argmax(const float* logits, int classes) {
  for (int c = 0; c < classes; ++c)
    if (rank_of(logits, classes, c) == 0) return c;
  return 0;  // all NaN
}

double cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// One model's preprocessing and tallies.
struct Evaluated {
  std::unique_ptr<vt::Session> session;
  vt::PreprocessSpec spec;
  long top1 = 0, topk = 0;

  Evaluated(const std::string& path, int threads, std::size_t max_arena_bytes)
      : session(std::make_unique<vt::Session>(path, threads, max_arena_bytes)),
        spec(vt::spec_from_info(session->info())) {}

  const float* run(const std::vector<float>& input, int label, const std::string& path) {
    const float* logits = nullptr;
    try {
      logits = session->run(input.data());
    } catch (const std::runtime_error& e) {  // a NaN/Inf logit: name the image
      throw std::runtime_error(path + ": " + e.what());
    }
    const int rank = rank_of(logits, session->info().num_classes, label);
    top1 += rank == 0;
    topk += rank < kTopK;
    return logits;
  }
};

bool same_preprocessing(const vt::PreprocessSpec& a, const vt::PreprocessSpec& b) {
  const int n = std::min(a.channels, 4);  // the spec holds 4; models may have up to 16 channels
  return a.height == b.height && a.width == b.width && a.channels == b.channels && a.resize == b.resize &&
         a.interpolation == b.interpolation && a.crop_pct == b.crop_pct &&
         std::equal(a.mean, a.mean + n, b.mean) && std::equal(a.std, a.std + n, b.std);
}

void check_compatible(const vitrt_info& a, const vitrt_info& b, const Options& o) {
  auto shape = [](const vitrt_info& i) {
    return "[" + std::to_string(i.channels) + ", " + std::to_string(i.image_h) + ", " + std::to_string(i.image_w) + "]";
  };
  if (a.channels != b.channels || a.image_h != b.image_h || a.image_w != b.image_w)
    throw std::runtime_error("'" + o.compare + "' takes input " + shape(b) + ", '" + o.model + "' takes " + shape(a));
  if (a.num_classes != b.num_classes)
    throw std::runtime_error("'" + o.compare + "' has " + std::to_string(b.num_classes) + " classes, '" + o.model +
                             "' has " + std::to_string(a.num_classes));
}

int run(int argc, char** argv) {
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const Options o = parse_args(argc, argv);
  Evaluated main_model(o.model, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
  std::unique_ptr<Evaluated> other;
  if (!o.compare.empty()) {
    other = std::make_unique<Evaluated>(o.compare, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
    check_compatible(main_model.session->info(), other->session->info(), o);
  }
  const int classes = main_model.session->info().num_classes;

  int folders = 0;
  const std::vector<Sample> samples = scan_image_folder(o.dir, folders);
  if (folders != classes)
    throw std::runtime_error("'" + o.dir + "' has " + std::to_string(folders) + " class folders, the model has " +
                             std::to_string(classes) + " classes");

  const bool shared_input = other && same_preprocessing(main_model.spec, other->spec);
  const int channels = main_model.spec.channels;
  long agree = 0;
  double cosine_sum = 0;
  const std::size_t n = samples.size();
  for (std::size_t i = 0; i < n; ++i) {
    const vt::PlanarImage img = vt::load_image(samples[i].path, channels);
    const std::vector<float> x = vt::preprocess(img, main_model.spec);
    const float* logits = main_model.run(x, samples[i].label, samples[i].path);
    if (other) {
      // The runtime reuses its logits buffer: copy before the next run.
      const std::vector<float> mine(logits, logits + classes);
      const std::vector<float> x_other = shared_input ? std::vector<float>() : vt::preprocess(img, other->spec);
      const float* theirs = other->run(shared_input ? x : x_other, samples[i].label, samples[i].path);
      agree += argmax(mine.data(), classes) == argmax(theirs, classes);
      cosine_sum += cosine(mine.data(), theirs, classes);
    }
    if ((i + 1) * 10 / n != i * 10 / n) std::fprintf(stderr, "vitrt-eval: %zu/%zu images\n", i + 1, n);
  }

  const double dn = double(n);
  if (o.json) {
    std::printf("{\"top1\": %.10g, \"top5\": %.10g, \"n\": %zu", main_model.top1 / dn, main_model.topk / dn, n);
    if (other)
      std::printf(", \"top1_other\": %.10g, \"top5_other\": %.10g, \"agreement\": %.10g, \"mean_cosine\": %.10g",
                  other->top1 / dn, other->topk / dn, agree / dn, cosine_sum / dn);
    std::printf("}\n");
    return 0;
  }
  const int k = std::min(kTopK, classes);
  std::printf("%s on %s: %zu images, %d classes\n", o.model.c_str(), o.dir.c_str(), n, classes);
  std::printf("  top-1: %.4f (%ld/%zu)\n  top-%d: %.4f (%ld/%zu)\n", main_model.top1 / dn, main_model.top1, n, k,
              main_model.topk / dn, main_model.topk, n);
  if (other) {
    std::printf("%s:\n  top-1: %.4f (%ld/%zu)\n  top-%d: %.4f (%ld/%zu)\n", o.compare.c_str(), other->top1 / dn,
                other->top1, n, k, other->topk / dn, other->topk, n);
    std::printf("top-1 agreement: %.4f (%ld/%zu)\nmean logit cosine: %.6f\n", agree / dn, agree, n, cosine_sum / dn);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt-eval", [&] { return run(argc, argv); });
}
