#include "inspect.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "convert.h"
#include "families/families.h"
#include "inspect_model.h"
#include "cli.h"

namespace vitrt::conv {
namespace {

constexpr size_t kNamesShown = 8;

void list_tensors(std::ostream& out, const TensorMap& tensors, size_t limit) {
  size_t n = 0;
  for (const auto& [name, t] : tensors) {
    if (n++ == limit) {
      out << "  ... (" << tensors.size() - limit << " more)\n";
      break;
    }
    out << "  " << name << " " << raw_dtype_name(t.dtype) << " " << shape_string(t.shape) << "\n";
  }
}

const Family* detect(const TensorMap& tensors) {
  for (const Family& f : families())
    if (f.detect(tensors)) return &f;
  return nullptr;
}

// `heads_unknown`: the mapping only succeeded with a placeholder head count.
void print_model(std::ostream& out, const Model& m, const std::string& heads_unknown) {
  const Config& c = m.config;
  const char* pooling = c.dist_token ? "cls + dist tokens" : c.pooling == 0 ? "cls token" : "mean of patches";
  out << "  image " << c.image_h << "x" << c.image_w << ", patch " << c.patch_h << "x" << c.patch_w << ", channels "
      << c.channels << "\n"
      << "  dim " << c.dim << ", depth " << c.depth << ", mlp " << c.mlp_dim << ", layernorm eps " << c.ln_eps << "\n";
  if (heads_unknown.empty()) out << "  heads " << c.heads << "\n";
  else out << "  heads: unknown - " << heads_unknown << "\n";
  out << "  tokens: " << (c.class_token ? "cls " : "") << (c.dist_token ? "dist " : "") << "+ patches, pooling "
      << pooling << ", " << c.num_classes << " classes\n";
}

}  // namespace

std::string inspect(const Options& o) {
  {
    // A model file: by its identifier (bytes 4-7), without reading a large
    // checkpoint twice.
    std::ifstream in(o.checkpoint, std::ios::binary);
    std::vector<uint8_t> head(8);
    if (in.read(reinterpret_cast<char*>(head.data()), 8) && looks_like_vitrt_model(head)) {
      const auto file = read_file(o.checkpoint);
      return inspect_model(o.checkpoint, *file, o.json);
    }
  }
  if (o.json) throw tools::UsageError("--json: only for model files (.vitrt)");
  std::ostringstream out;
  const Checkpoint ck = read_checkpoint(o.checkpoint, o.key);
  const TensorMap& tensors = ck.tensors;
  out << "checkpoint: " << o.checkpoint << "\nformat: " << ck.format << "\ntensors: " << tensors.size() << "\n";

  const Family* family = o.family.empty() ? detect(tensors) : &find_family(o.family, tensors, o.checkpoint);
  if (!family) {
    std::string known;
    for (const Family& f : families()) known += std::string(known.empty() ? "" : ", ") + f.name;
    out << "family: none detected (supported: " << known << "); the tensors are:\n";
    list_tensors(out, tensors, SIZE_MAX);
    return out.str();
  }
  list_tensors(out, tensors, kNamesShown);
  out << "family: " << family->name << " (" << family->description << ")"
      << (o.family.empty() ? "" : ", from --family") << "\n";

  const HParams hp = overlay(ck.hparams, gather_hparams(o));
  Model m;
  std::string heads_unknown;
  try {
    m = family->map(tensors, hp);
  } catch (const std::runtime_error& e) {
    // The head count is the one thing weights never tell. If it alone is
    // missing, a placeholder lets the rest be shown.
    HParams guess = hp;
    guess.heads.set(1, "--inspect");
    if (!hp.heads) {
      try {
        m = family->map(tensors, guess);
        heads_unknown = e.what();
      } catch (const std::runtime_error&) {
        // something else is missing too: report the first error
      }
    }
    if (heads_unknown.empty()) {
      out << "model: cannot be mapped yet: " << e.what() << "\n";
      return out.str();
    }
  }
  out << (heads_unknown.empty() ? "model:\n" : "model (incomplete):\n");
  print_model(out, m, heads_unknown);
  std::vector<std::string> notes;
  try {
    finish_model(m, hp, notes);
  } catch (const std::runtime_error& e) {
    notes.push_back(std::string("preprocessing: ") + e.what());
  }
  for (const std::string& note : notes) out << note << "\n";
  return out.str();
}

}  // namespace vitrt::conv
