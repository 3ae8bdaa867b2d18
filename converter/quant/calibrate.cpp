#include "quant/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "aligned_buffer.h"
#include "cli.h"

namespace vitrt::conv {

namespace fs = std::filesystem;

std::vector<std::pair<std::string, Linear*>> named_linears(Model& m) {
  std::vector<std::pair<std::string, Linear*>> out;
  auto add = [&](std::string name, Linear& l) {
    if (l.weight.present()) out.emplace_back(std::move(name), &l);
  };
  add("patch_embed", m.patch_embed);
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    add(b + "qkv", m.blocks[i].qkv);
    add(b + "proj", m.blocks[i].proj);
    add(b + "fc1", m.blocks[i].fc1);
    add(b + "fc2", m.blocks[i].fc2);
  }
  for (size_t i = 0; i < m.pre_logits.size(); ++i) add("pre_logits." + std::to_string(i), m.pre_logits[i]);
  add("head", m.head);
  add("head_dist", m.head_dist);
  return out;
}

std::vector<std::string> find_images(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("--calib " + dir + ": not a directory");
  // Image extensions; a file that is not PNG or JPEG is refused by
  // load_image with its format named, not skipped silently.
  static const char* const kExtensions[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                            ".ppm", ".pgm", ".pnm", ".psd", ".hdr", ".pic"};
  std::vector<std::string> images;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions))
      images.push_back(it->path().string());
  }
  if (ec) throw std::runtime_error("--calib " + dir + ": " + ec.message());
  if (images.empty()) throw std::runtime_error("--calib " + dir + ": no images (png, jpg, bmp, ...) found");
  std::sort(images.begin(), images.end());
  return images;
}

namespace {

tools::AlignedBuffer aligned_copy(const std::vector<uint8_t>& bytes) {
  tools::AlignedBuffer buf(bytes.size());
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  return buf;
}

}  // namespace

ObservedModel::ObservedModel(const std::vector<uint8_t>& file, const std::string& name, vitrt_observer_fn fn,
                             void* ctx)
    : session_(aligned_copy(file), name, 1, tools::arena_mb_to_bytes(tools::kDefaultMaxArenaMb), {fn, ctx}),
      spec_(tools::spec_from_info(session_.info())) {}

std::vector<float> ObservedModel::input(const std::string& image_path) const {
  return tools::preprocess(tools::load_image(image_path, session_.info().channels), spec_);
}

void InputRanges::observe(void* ctx, const vitrt_linear_event* e) {
  float& m = static_cast<InputRanges*>(ctx)->absmax_[e->name];
  for (size_t i = 0, n = size_t(e->rows) * size_t(e->in); i < n; ++i) m = std::max(m, std::fabs(e->input[i]));
}

// Abs-max rather than a percentile: it is exact, independent of image order
// and never clips a calibration value. ViTs' outlier channels (large
// LayerNorm outputs) carry real signal, so clipping them to refine the step
// of the others is not a safe default; --report shows each layer's cost and
// --keep-float keeps the layers that suffer.
float static_input_scale(float absmax) { return absmax > 0.f ? absmax / 127.f : 1.f; }

void set_input_scales(Model& m, const InputRanges& ranges) {
  for (auto& [name, linear] : named_linears(m)) {
    if (linear->weight.dtype != DType::I8) continue;
    const auto it = ranges.absmax().find(name);
    if (it == ranges.absmax().end()) throw std::runtime_error("calibration did not observe " + name);
    linear->input_scale = static_input_scale(it->second);
  }
}

void calibrate(Model& m, const std::vector<uint8_t>& reference, const std::vector<std::string>& images,
               std::ostream& log) {
  InputRanges ranges;
  ObservedModel model(reference, "fp32 calibration model", &InputRanges::observe, &ranges);
  for (size_t i = 0; i < images.size(); ++i) {
    model.run(model.input(images[i]));
    log << "\rcalibrating: " << i + 1 << "/" << images.size() << " images" << std::flush;
  }
  log << "\n";
  set_input_scales(m, ranges);
}

}  // namespace vitrt::conv
