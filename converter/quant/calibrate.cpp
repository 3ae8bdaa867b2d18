#include "quant/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "aligned_buffer.h"
#include "cli.h"
#include "image_files.h"

namespace vitrt::conv {

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
  // The tools' one image list (host/image_files.h): --calib takes the files
  // vitrt-eval would; a listed file that is not PNG or JPEG is refused by
  // load_image with its format named, not skipped silently.
  std::vector<std::string> images;
  try {
    images = tools::find_images(dir);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("--calib ") + e.what());
  }
  if (images.empty()) throw std::runtime_error("--calib '" + dir + "': no images (" + tools::image_extensions() + ")");
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
    : session_(aligned_copy(file), name, 1, tools::arena_mb_to_bytes(tools::kDefaultMaxArenaMb),
               {fn, ctx, nullptr, nullptr}) {}

std::vector<float> ObservedModel::input(const std::string& image_path) {
  return session_.preprocess(tools::load_image(image_path));
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
    try {
      model.run(model.input(images[i]));
    } catch (const std::exception&) {
      if (i > 0) log << "\n";  // the error's line after the progress line, not glued to it
      throw;
    }
    log << "\rvitrt-convert: calibrating: " << i + 1 << "/" << images.size() << " images" << std::flush;
  }
  log << "\n";
  set_input_scales(m, ranges);
}

}  // namespace vitrt::conv
