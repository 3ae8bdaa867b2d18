#include "convert.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "aligned_buffer.h"
#include "families/families.h"
#include "readers/json.h"
#include "readers/npz.h"
#include "readers/pytorch.h"
#include "quant/quantize.h"
#include "readers/safetensors.h"
#include "families/timm_arch.h"
#include "readers/unwrap.h"
#include "summary.h"
#include "vitrt/vitrt.h"

namespace vitrt::conv {

std::shared_ptr<const std::vector<uint8_t>> read_file(const std::string& path) {
  // Checked first as the tools check theirs: a directory opens as a stream
  // of "infinite" size (out of memory), an empty file reads as corrupt.
  const std::uintmax_t size = tools::input_file_size(path, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  auto bytes = std::make_shared<std::vector<uint8_t>>(size_t(size));
  if (!in.read(reinterpret_cast<char*>(bytes->data()), std::streamsize(size)))
    throw std::runtime_error("cannot read " + path);
  return bytes;
}

Checkpoint read_checkpoint(const std::string& path, const std::string& key) {
  auto bytes = read_file(path);
  Checkpoint ck;
  auto single = [&](const char* format) {  // a file of one state dict: nothing for --key to pick
    if (!key.empty())
      throw std::runtime_error("--key " + key + ": " + path + " is a " + format +
                               " file, which holds one state dict; --key picks one of a torch.save checkpoint's");
    ck.format = std::string(format) + (strip_data_parallel_prefix(ck.tensors) ? ", 'module.' prefix removed" : "");
    return ck;
  };
  if (looks_like_safetensors(*bytes) || (path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0)) {
    ck.tensors = read_safetensors(bytes, path);
    return single("safetensors");
  }
  if (looks_like_zip(*bytes)) {
    ZipArchive zip(bytes, path);
    if (is_torch_zip(zip)) {
      StateDict sd = unwrap_state_dict(read_torch_zip(zip, path), path, key);
      ck.tensors = std::move(sd.tensors);
      ck.format = "PyTorch (torch.save zip), tensors of " + sd.origin;
      if (!sd.arch.empty()) {
        const std::string source = "the checkpoint's arch '" + sd.arch + "'";
        const auto known = find_arch(sd.arch, source);
        if (known) ck.hparams = *known;
        ck.format += "; " + source + (known ? "" : ", not a known architecture (ignored)");
      }
      return ck;
    }
    if (is_npz(zip)) {
      ck.tensors = read_npz(zip, path);
      return single("NumPy .npz");
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
  // Editors leave blank lines at the end; they are no classes.
  while (!labels.empty() && labels.back().find_first_not_of(" \t\r") == std::string::npos) labels.pop_back();
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
  for (std::string& note : preprocess_default_notes(hp)) notes.push_back(std::move(note));
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
  } else if (m.config.num_classes == 1000 && hp.arch && find_arch(*hp.arch, hp.arch.source)) {
    // Every known architecture is an ImageNet-1k one: a 1000-class head is its.
    m.labels = imagenet_labels();
    notes.push_back("note: no --labels given; recording the ImageNet-1k class names (" + hp.arch.source +
                    " with a 1000-class head)");
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

Conversion convert(const Options& o) {
  const Checkpoint ck = read_checkpoint(o.checkpoint, o.key);
  return convert(o, ck.tensors, ck.hparams);
}

Conversion convert(const Options& o, const TensorMap& tensors, const HParams& from_checkpoint) {
  HParams hp = overlay(from_checkpoint, gather_hparams(o));
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

}  // namespace vitrt::conv
