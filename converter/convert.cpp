#include "convert.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "families/families.h"
#include "readers/json.h"
#include "readers/npz.h"
#include "readers/pytorch.h"
#include "quant/quantize.h"
#include "readers/safetensors.h"
#include "families/timm_arch.h"
#include "readers/unwrap.h"
#include "vitrt/vitrt.h"

namespace vitrt::conv {

std::shared_ptr<const std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  auto bytes = std::make_shared<std::vector<uint8_t>>();
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) throw std::runtime_error("cannot read " + path);
  in.seekg(0);
  bytes->resize(size_t(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes->data()), size))
    throw std::runtime_error("cannot read " + path);
  return bytes;
}

TensorMap read_checkpoint(const std::string& path, std::string* format) {
  auto bytes = read_file(path);
  auto says = [&](const std::string& f) { if (format) *format = f; };
  if (looks_like_safetensors(*bytes) || (path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0)) {
    TensorMap tensors = read_safetensors(bytes, path);
    says(strip_data_parallel_prefix(tensors) ? "safetensors, 'module.' prefix removed" : "safetensors");
    return tensors;
  }
  if (looks_like_zip(*bytes)) {
    ZipArchive zip(bytes, path);
    if (is_torch_zip(zip)) {
      StateDict sd = unwrap_state_dict(read_torch_zip(zip, path), path);
      says("PyTorch (torch.save zip), tensors of " + sd.origin);
      return std::move(sd.tensors);
    }
    if (is_npz(zip)) {
      TensorMap tensors = read_npz(zip, path);
      says(strip_data_parallel_prefix(tensors) ? "NumPy .npz, 'module.' prefix removed" : "NumPy .npz");
      return tensors;
    }
    throw std::runtime_error(path + ": a zip archive holding neither a torch.save checkpoint (*/data.pkl) nor .npy arrays");
  }
  if (looks_like_legacy_torch(*bytes))
    throw std::runtime_error(path + ": legacy torch.save format; re-save with torch.save(..., _use_new_zipfile_serialization=True)");
  throw std::runtime_error(path + ": unrecognised checkpoint format (supported: .safetensors, "
                           "PyTorch .pt/.pth/.pth.tar saved by torch.save, NumPy .npz)");
}

namespace {

std::vector<std::string> read_labels(const std::string& path) {
  auto bytes = read_file(path);
  std::vector<std::string> labels;
  std::string line;
  for (uint8_t b : *bytes) {
    if (b == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      labels.push_back(line);
      line.clear();
    } else {
      line += char(b);
    }
  }
  if (!line.empty()) labels.push_back(line);
  if (labels.empty()) throw std::runtime_error(path + ": no labels");
  return labels;
}

std::vector<float> per_channel(const Param<std::vector<float>>& p, int channels, const char* what) {
  if (p->size() == 1) return std::vector<float>(size_t(channels), p->front());
  if (int(p->size()) != channels)
    throw std::runtime_error(std::string(what) + " (from " + p.source + ") has " + std::to_string(p->size()) +
                             " values but the model has " + std::to_string(channels) + " channels");
  return *p;
}

}  // namespace

HParams gather_hparams(const Options& o) {
  HParams hp;
  if (!o.arch.empty()) hp = arch_hparams(o.arch, "--arch " + o.arch);
  if (!o.config_path.empty()) {
    auto bytes = read_file(o.config_path);
    Json config;
    try {
      config = parse_json(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    } catch (const JsonError& e) {
      throw std::runtime_error(o.config_path + ": invalid JSON: " + e.what());
    }
    hp = hparams_from_config(config, o.config_path);
  }
  if (!o.labels_path.empty()) hp.labels.set(read_labels(o.labels_path), "--labels " + o.labels_path);
  return overlay(hp, o.flags);
}

void finish_model(Model& m, const HParams& hp, std::vector<std::string>& notes) {
  const int channels = m.config.channels;
  Preprocess& p = m.preprocess;  // defaults: ImageNet statistics
  if (!hp.mean || !hp.std)
    notes.push_back("note: no " + std::string(!hp.mean && !hp.std ? "mean/std" : !hp.mean ? "mean" : "std") +
                    " given; using ImageNet's (mean 0.485,0.456,0.406 std 0.229,0.224,0.225)");
  if (hp.mean) p.mean = per_channel(hp.mean, channels, "mean");
  if (hp.std) p.std = per_channel(hp.std, channels, "std");
  for (float s : p.std)
    if (!(s > 0)) throw std::runtime_error("std values must be positive (from " + hp.std.source + ")");
  if (int(p.mean.size()) != channels || int(p.std.size()) != channels)
    throw std::runtime_error("the model has " + std::to_string(channels) + " channels; pass --mean and --std");
  if (hp.crop_pct) {
    if (*hp.crop_pct > 1.0f) throw std::runtime_error("crop_pct above 1 (from " + hp.crop_pct.source + ")");
    p.crop_pct = *hp.crop_pct;
  }
  if (hp.interpolation) p.interpolation = *hp.interpolation;
  if (hp.resize) p.resize = *hp.resize;
  if (hp.labels) {
    if (int(hp.labels->size()) != m.config.num_classes)
      throw std::runtime_error(std::to_string(hp.labels->size()) + " labels (from " + hp.labels.source +
                               ") but the model has " + std::to_string(m.config.num_classes) + " classes");
    m.labels = *hp.labels;
  }
}

void check_limits(const Model& m) {
  auto in_range = [](int64_t v, int64_t max, const std::string& what) {
    if (v < 1 || v > max)
      throw std::runtime_error(what + " " + std::to_string(v) + " is outside the runtime's limits 1.." +
                               std::to_string(max));
  };
  const Config& c = m.config;
  in_range(c.image_h, VITRT_MAX_IMAGE_SIDE, "image height");
  in_range(c.image_w, VITRT_MAX_IMAGE_SIDE, "image width");
  in_range(c.channels, VITRT_MAX_CHANNELS, "channels");
  in_range(c.patch_h, std::min(c.image_h, VITRT_MAX_PATCH), "patch height");
  in_range(c.patch_w, std::min(c.image_w, VITRT_MAX_PATCH), "patch width");
  in_range(c.dim, VITRT_MAX_DIM, "dim");
  in_range(c.depth, VITRT_MAX_DEPTH, "depth");
  in_range(c.heads, VITRT_MAX_HEADS, "heads");
  in_range(c.head_dim, VITRT_MAX_DIM, "head_dim");
  in_range(int64_t(c.heads) * c.head_dim, VITRT_MAX_DIM, "heads*head_dim");
  in_range(c.mlp_dim, VITRT_MAX_MLP, "mlp_dim");
  in_range(c.num_classes, VITRT_MAX_CLASSES, "num_classes");
  const int64_t tokens = int64_t(c.image_h / c.patch_h) * (c.image_w / c.patch_w) + c.class_token + c.dist_token;
  in_range(tokens, VITRT_MAX_TOKENS, "tokens");
  in_range(int64_t(c.depth) * c.heads * tokens * tokens, VITRT_MAX_ATTENTION, "depth*heads*tokens^2");
  for (const Linear& l : m.pre_logits)
    if (l.weight.present()) in_range(l.weight.shape[0], VITRT_MAX_DIM, "pre_logits features");
  for (const Conv2d& s : m.stem_convs)
    if (s.weight.present()) in_range(s.weight.shape[0], VITRT_MAX_DIM, "stem channels");
  const Preprocess& p = m.preprocess;
  if (!(p.crop_pct >= VITRT_MIN_CROP_PCT && p.crop_pct <= 1.f))
    throw std::runtime_error("crop_pct " + std::to_string(p.crop_pct) + " is outside 0.1..1");
  for (float v : p.mean)
    if (!std::isfinite(v)) throw std::runtime_error("mean values must be finite");
  for (float v : p.std)
    if (!std::isfinite(v)) throw std::runtime_error("std values must be finite");
}

Conversion convert(const Options& o) { return convert(o, read_checkpoint(o.checkpoint)); }

Conversion convert(const Options& o, const TensorMap& tensors) {
  HParams hp = gather_hparams(o);
  check_limits(hp);
  const Family& family = find_family(o.family, tensors, o.checkpoint);
  if (family.preprocess_defaults) {
    HParams defaults;
    family.preprocess_defaults(defaults);
    hp = overlay(defaults, hp);
  }
  Conversion c;
  c.family = family.description;
  c.model = family.map(tensors, hp);
  finish_model(c.model, hp, c.notes);
  check_limits(c.model);
  set_weight_dtype(c.model, o.dtype, o.keep_float);
  return c;
}

int64_t count_params(const Model& m) {
  int64_t n = 0;
  for_each_tensor(m, [&](const Tensor& x, bool) { n += int64_t(x.data.size()); });
  return n;
}

std::string summary(const Conversion& c, const std::string& output, size_t bytes) {
  const Config& k = c.model.config;
  const int patches = (k.image_h / k.patch_h) * (k.image_w / k.patch_w);
  std::string prefix = k.dist_token ? "cls + dist + " : k.class_token ? "cls + " : "";
  const char* pool = k.dist_token ? "cls+dist tokens" : k.pooling == 0 ? "cls token"
                     : k.pooling == 1 ? "mean of patches"
                                      : "mean of all tokens";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: dim %d, depth %d, heads %d, mlp %d, image %dx%d, patch %dx%d, tokens %d (%s%d patches), "
                "pooling %s, %d classes, %.2fM params -> %s (%.1f MiB)",
                c.family.c_str(), k.dim, k.depth, k.heads, k.mlp_dim, k.image_h, k.image_w, k.patch_h, k.patch_w,
                patches + int(k.class_token) + int(k.dist_token), prefix.c_str(), patches, pool, k.num_classes,
                double(count_params(c.model)) / 1e6, output.c_str(), double(bytes) / (1 << 20));
  return buf;
}

}  // namespace vitrt::conv
