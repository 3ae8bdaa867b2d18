// vitrt-eval: accuracy of a vitrt model on an ImageFolder tree.
//
//   vitrt-eval MODEL DIR [--json] [--per-class] [--compare OTHER_MODEL] [--threads N] [--max-arena-mb N]
//
// DIR holds one subfolder per class; every file below it (recursively) with
// an image extension is a sample. A folder's class is the model's label of
// that name when every folder names one (case, spaces and punctuation aside:
// "golden_retriever" is "golden retriever"), which may be a subset of the
// model's classes; otherwise, as in torchvision's ImageFolder, the folder's
// position in byte-order sorted folder names, which then must be as many as
// the classes. The report says which mapping was used.
// Reports top-1 and top-5 accuracy (top-5 = top-min(5, classes)), the argmax
// always over all of the model's classes; --per-class adds a table.
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
#include "image_files.h"
#include "preprocess.h"
#include "session.h"

namespace vt = vitrt::tools;
namespace fs = std::filesystem;

namespace {

constexpr char kUsage[] =
    "usage: vitrt-eval MODEL DIR [--json] [--per-class] [--compare OTHER_MODEL] [--threads N] [--max-arena-mb N]\n"
    "       vitrt-eval --help | --version\n"
    "  DIR                    ImageFolder tree: one subfolder per class, named as the model's labels\n"
    "                         (any subset of them), else as many as the classes, in sorted order\n"
    "  --json                 print one JSON object {\"top1\", \"top5\", \"n\", ...} instead of text\n"
    "  --per-class            also the images, top-1 and top-5 of each class folder\n"
    "  --compare OTHER_MODEL  also run OTHER_MODEL: its accuracy, top-1 agreement, mean logit cosine\n"
    "  --threads N            worker threads per model (default: all cores)\n"
    "  --max-arena-mb N       refuse a model needing a larger arena (default 1024)\n";

constexpr int kTopK = 5;

struct Options {
  std::string model, dir, compare;
  bool json = false, per_class = false;
  int threads = vt::default_threads(), max_arena_mb = vt::kDefaultMaxArenaMb;
};

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") o.json = true;
    else if (arg == "--per-class") o.per_class = true;
    else if (arg == "--compare") o.compare = vt::flag_value(argc, argv, i);
    else if (arg == "--threads") o.threads = vt::parse_threads(vt::flag_value(argc, argv, i));
    else if (arg == "--max-arena-mb")
      o.max_arena_mb = vt::parse_int(arg, vt::flag_value(argc, argv, i), 1, vt::kMaxArenaMbFlag);
    else if (arg.size() > 1 && arg[0] == '-') throw vt::unknown_option(arg);
    else positional.push_back(arg);
  }
  if (positional.empty()) throw vt::UsageError("missing MODEL");
  if (positional.size() < 2) throw vt::UsageError("missing DIR");
  if (positional.size() > 2) throw vt::UsageError("unexpected argument '" + positional[2] + "'");
  o.model = positional[0];
  o.dir = positional[1];
  return o;
}

// A class folder: its model class and tallies.
struct ClassFolder {
  std::string name;
  int model_class = 0;
  std::vector<std::string> files;
  long top1 = 0, topk = 0;
};

// The class folders of `dir` in byte order (std::string orders by unsigned
// byte, as Python's sorted() orders UTF-8 names), each with its images.
std::vector<ClassFolder> scan_class_folders(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw std::runtime_error("'" + dir + "': no such directory");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("'" + dir + "': not a directory");
  std::vector<ClassFolder> folders;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_directory()) folders.push_back({e.path().filename().string(), 0, {}});
  if (folders.empty()) throw std::runtime_error("'" + dir + "' has no class folders");
  std::sort(folders.begin(), folders.end(), [](const ClassFolder& a, const ClassFolder& b) { return a.name < b.name; });
  for (ClassFolder& f : folders) {
    const std::string path = (fs::path(dir) / f.name).string();
    f.files = vt::find_images(path);
    if (f.files.empty())
      throw std::runtime_error("class folder '" + path + "' has no images (" + vt::image_extensions() + ")");
  }
  return folders;
}

// A name as folder and label compare: ASCII lower case, every run of other
// characters one '_' ("T-shirt/top" and "t_shirt_top" alike).
std::string name_key(const std::string& s) {
  std::string key;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c >= 0x80) key += char(std::tolower(c));
    else if (!key.empty() && key.back() != '_') key += '_';
  }
  if (!key.empty() && key.back() == '_') key.pop_back();
  return key;
}

// Sets each folder's model class to the label it names; "" on success, else
// why the folders do not map (then nothing is to be relied on).
std::string map_by_labels(std::vector<ClassFolder>& folders, const vt::Session& session) {
  const int classes = session.info().num_classes;
  if (!session.label(0)) return "the model has no labels";
  std::vector<int> owner(classes, -1);  // folder of each class
  for (int f = 0; f < int(folders.size()); ++f) {
    const std::string& name = folders[f].name;
    std::vector<int> exact, similar;
    for (int c = 0; c < classes; ++c) {
      const std::string label = session.label(c);
      if (label == name) exact.push_back(c);
      else if (name_key(label) == name_key(name)) similar.push_back(c);
    }
    const std::vector<int>& match = exact.empty() ? similar : exact;
    if (match.empty()) return "no label is '" + name + "'";
    if (match.size() > 1)
      return "folder '" + name + "' matches classes " + std::to_string(match[0]) + " and " + std::to_string(match[1]);
    if (owner[match[0]] >= 0)
      return "folders '" + folders[owner[match[0]]].name + "' and '" + name + "' both match class " +
             std::to_string(match[0]);
    owner[match[0]] = f;
    folders[f].model_class = match[0];
  }
  return "";
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
  long top1 = 0, topk = 0;
  int last_rank = 0;  // of the label in the last run

  Evaluated(const std::string& path, int threads, std::size_t max_arena_bytes)
      : session(std::make_unique<vt::Session>(path, threads, max_arena_bytes)) {}

  const float* run(const std::vector<float>& input, int label, const std::string& path) {
    const float* logits = nullptr;
    try {
      logits = session->run(input.data());
    } catch (const std::runtime_error& e) {  // a NaN/Inf logit: name the image
      throw std::runtime_error(path + ": " + e.what());
    }
    last_rank = rank_of(logits, session->info().num_classes, label);
    top1 += last_rank == 0;
    topk += last_rank < kTopK;
    return logits;
  }
};

bool same_preprocessing(const vitrt_info& a, const vitrt_info& b) {
  const int n = std::min(a.channels, 4);  // info holds 4; models may have up to 16 channels
  return a.image_h == b.image_h && a.image_w == b.image_w && a.channels == b.channels &&
         a.resize_mode == b.resize_mode && a.interpolation == b.interpolation && a.crop_pct == b.crop_pct &&
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

// Whether the folders were mapped by label, or else why not (they are then
// the model's classes in sorted order).
struct Mapping {
  bool by_labels;
  std::string why_not;
};

Mapping map_classes(std::vector<ClassFolder>& folders, const vt::Session& session, const std::string& dir) {
  const int classes = session.info().num_classes;
  const std::string why = map_by_labels(folders, session);
  if (why.empty()) return {true, ""};
  if (int(folders.size()) != classes)
    throw std::runtime_error("'" + dir + "' has " + std::to_string(folders.size()) + " class folders, the model has " +
                             std::to_string(classes) + " classes, and folders are mapped to a subset of them only by " +
                             "the model's labels: " + why);
  for (int c = 0; c < classes; ++c) folders[c].model_class = c;
  return {false, why};
}

void print_json(const std::vector<ClassFolder>& folders, const Mapping& mapping, std::size_t n,
                const Evaluated& main_model, const Evaluated* other, long agree, double cosine_sum, bool per_class) {
  const double dn = double(n);
  std::printf("{\"top1\": %.10g, \"top5\": %.10g, \"n\": %zu, \"classes\": %zu, \"mapping\": \"%s\"",
              main_model.top1 / dn, main_model.topk / dn, n, folders.size(), mapping.by_labels ? "labels" : "sorted");
  if (other)
    std::printf(", \"top1_other\": %.10g, \"top5_other\": %.10g, \"agreement\": %.10g, \"mean_cosine\": %.10g",
                other->top1 / dn, other->topk / dn, agree / dn, cosine_sum / dn);
  if (per_class) {
    std::printf(", \"per_class\": [");
    for (std::size_t f = 0; f < folders.size(); ++f) {
      const ClassFolder& c = folders[f];
      const double cn = double(c.files.size());
      std::printf("%s{\"class\": %d, \"folder\": %s, \"n\": %zu, \"top1\": %.10g, \"top5\": %.10g}", f ? ", " : "",
                  c.model_class, vt::json_string(c.name).c_str(), c.files.size(), c.top1 / cn, c.topk / cn);
    }
    std::printf("]");
  }
  std::printf("}\n");
}

void print_text(const Options& o, const std::vector<ClassFolder>& folders, const Mapping& mapping, std::size_t n,
                const Evaluated& main_model, const Evaluated* other, long agree, double cosine_sum) {
  const double dn = double(n);
  const int classes = main_model.session->info().num_classes, k = std::min(kTopK, classes);
  std::printf("%s on %s: %zu images, %zu class folders\n", o.model.c_str(), o.dir.c_str(), n, folders.size());
  if (mapping.by_labels)
    std::printf("  classes: folder names = the model's labels (%zu of %d classes; argmax over all %d)\n",
                folders.size(), classes, classes);
  else
    std::printf("  classes: sorted folder order, as torchvision's ImageFolder (by label: %s)\n",
                mapping.why_not.c_str());
  std::printf("  top-1: %.4f (%ld/%zu)\n  top-%d: %.4f (%ld/%zu)\n", main_model.top1 / dn, main_model.top1, n, k,
              main_model.topk / dn, main_model.topk, n);
  if (o.per_class) {
    std::printf("  class  images   top-1   top-%d  folder\n", k);
    for (const ClassFolder& c : folders) {
      const double cn = double(c.files.size());
      const char* label = main_model.session->label(c.model_class);
      const bool show_label = label && !mapping.by_labels;  // by label the folder name says it
      std::printf("  %5d  %6zu  %.4f  %.4f  %s%s%s%s\n", c.model_class, c.files.size(), c.top1 / cn, c.topk / cn,
                  c.name.c_str(), show_label ? " (" : "", show_label ? label : "", show_label ? ")" : "");
    }
  }
  if (other) {
    std::printf("%s:\n  top-1: %.4f (%ld/%zu)\n  top-%d: %.4f (%ld/%zu)\n", o.compare.c_str(), other->top1 / dn,
                other->top1, n, k, other->topk / dn, other->topk, n);
    std::printf("top-1 agreement: %.4f (%ld/%zu)\nmean logit cosine: %.6f\n", agree / dn, agree, n, cosine_sum / dn);
  }
}

int run(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  Evaluated main_model(o.model, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
  std::unique_ptr<Evaluated> other;
  if (!o.compare.empty()) {
    other = std::make_unique<Evaluated>(o.compare, o.threads, vt::arena_mb_to_bytes(o.max_arena_mb));
    check_compatible(main_model.session->info(), other->session->info(), o);
  }
  const int classes = main_model.session->info().num_classes;
  std::vector<ClassFolder> folders = scan_class_folders(o.dir);
  const Mapping mapping = map_classes(folders, *main_model.session, o.dir);

  const bool shared_input = other && same_preprocessing(main_model.session->info(), other->session->info());
  long agree = 0;
  double cosine_sum = 0;
  std::size_t n = 0, done = 0;
  for (const ClassFolder& f : folders) n += f.files.size();
  for (ClassFolder& f : folders) {
    for (const std::string& path : f.files) {
      const vt::Image img = vt::load_image(path);
      const std::vector<float> x = main_model.session->preprocess(img);
      const float* logits = main_model.run(x, f.model_class, path);
      f.top1 += main_model.last_rank == 0;
      f.topk += main_model.last_rank < kTopK;
      if (other) {
        // The runtime reuses its logits buffer: copy before the next run.
        const std::vector<float> mine(logits, logits + classes);
        const std::vector<float> x_other = shared_input ? std::vector<float>() : other->session->preprocess(img);
        const float* theirs = other->run(shared_input ? x : x_other, f.model_class, path);
        agree += argmax(mine.data(), classes) == argmax(theirs, classes);
        cosine_sum += cosine(mine.data(), theirs, classes);
      }
      ++done;
      if (done * 10 / n != (done - 1) * 10 / n) std::fprintf(stderr, "vitrt-eval: %zu/%zu images\n", done, n);
    }
  }
  if (o.json) print_json(folders, mapping, n, main_model, other.get(), agree, cosine_sum, o.per_class);
  else print_text(o, folders, mapping, n, main_model, other.get(), agree, cosine_sum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt-eval", kUsage, argc, argv, [&] { return run(argc, argv); });
}
