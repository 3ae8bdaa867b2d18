#include "summary.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "aligned_buffer.h"

namespace vitrt::conv {
namespace {

constexpr int kStretch = 1, kBilinear = 0;                           // schema ResizeMode / Interpolation
constexpr const char* kFamilyDefault = "the family's default preprocessing";  // families.cpp

// The shortest decimal that reads back as `v` (0.875, not 0.875000000).
std::string decimal(float v) {
  char buf[32];
  *std::to_chars(buf, buf + sizeof buf - 1, v).ptr = '\0';
  return buf;
}

std::string values(const float* v, int n) {
  std::string s;
  for (int c = 0; c < n; ++c) s += (c ? "," : "") + decimal(v[c]);
  return s;
}

const char* dtype_name(DType d) { return d == DType::F32 ? "fp32" : d == DType::F16 ? "fp16" : "int8"; }

// Per dtype, the blocks whose `layer` has it: "int8" when every block
// agrees, else "int8 (blocks 0, 2-3), fp32 (block 1)".
std::string block_dtypes(const Model& m, const Linear Block::*layer) {
  std::string s;
  for (DType d : {DType::F32, DType::F16, DType::I8}) {
    std::string ranges;
    int count = 0;
    for (size_t begin = 0; begin < m.blocks.size(); ++begin) {
      if ((m.blocks[begin].*layer).weight.dtype != d) continue;
      size_t end = begin + 1;
      while (end < m.blocks.size() && (m.blocks[end].*layer).weight.dtype == d) ++end;
      ranges += (ranges.empty() ? "" : ", ") + std::to_string(begin) +
                (end - begin > 1 ? "-" + std::to_string(end - 1) : "");
      count += int(end - begin);
      begin = end - 1;
    }
    if (count == 0) continue;
    s += std::string(s.empty() ? "" : ", ") + dtype_name(d);
    if (count < int(m.blocks.size())) s += (count > 1 ? " (blocks " : " (block ") + ranges + ")";
  }
  return s;
}

}  // namespace

std::string describe_preprocess(const vitrt_info& info) {
  const char* interp = info.interpolation == kBilinear ? "bilinear" : "bicubic";
  std::string s;
  if (info.resize_mode == kStretch) {
    s = "resize to " + std::to_string(info.image_h) + "x" + std::to_string(info.image_w) + ", " + interp +
        ", antialiased";
  } else {
    // As the tools compute it (timm: floor(img_size / crop_pct) of the
    // decimal given, so 224 / 0.9 is 248).
    const int side = std::min(info.image_h, info.image_w);
    const double crop = std::strtod(decimal(info.crop_pct).c_str(), nullptr);
    s = "resize shorter side to " + std::to_string(int(std::floor(side / crop))) + " (" + std::to_string(side) +
        " / crop_pct " + decimal(info.crop_pct) + "), " + interp + ", antialiased; centre crop " +
        std::to_string(info.image_h) + "x" + std::to_string(info.image_w);
  }
  s += info.channels == 3 ? "; RGB" : info.channels == 1 ? "; grey (PIL 'L')" : "; " + std::to_string(info.channels) +
                                                                                    " channels (tensor input only)";
  s += "; pixels / 255, mean " + values(info.mean, info.channels) + " std " + values(info.std, info.channels);
  return s;
}

std::string describe_dtypes(const Model& m) {
  std::string s = std::string("patch_embed ") + dtype_name(m.patch_embed.weight.dtype);
  if (!m.blocks.empty()) {
    const std::string qkv = block_dtypes(m, &Block::qkv), fc1 = block_dtypes(m, &Block::fc1),
                      fc2 = block_dtypes(m, &Block::fc2);
    const bool has_proj = m.blocks[0].proj.weight.present();
    const std::string proj = has_proj ? block_dtypes(m, &Block::proj) : qkv;
    if (qkv == proj && qkv == fc1 && qkv == fc2)
      s += std::string(has_proj ? ", qkv/proj/fc1/fc2 " : ", qkv/fc1/fc2 ") + qkv;
    else
      s += ", qkv " + qkv + (has_proj ? ", proj " + proj : "") + ", fc1 " + fc1 + ", fc2 " + fc2;
  }
  s += std::string(", head ") + dtype_name(m.head.weight.dtype);
  if (!m.pre_logits.empty()) s += std::string(" (with pre_logits)");
  return s + "; other tensors fp32";
}

std::vector<std::string> preprocess_default_notes(const HParams& hp) {
  std::string vitrt_default, family_default;  // the values each default supplied
  auto check = [&](bool given, const std::string& source, const std::string& what) {
    if (given && source != kFamilyDefault) return;
    std::string& list = given ? family_default : vitrt_default;
    list += (list.empty() ? "" : ", ") + what;
  };
  const bool stretch = hp.resize && *hp.resize == kStretch;
  check(bool(hp.resize), hp.resize.source, stretch ? "resize stretch" : "resize crop");
  if (!stretch) check(bool(hp.crop_pct), hp.crop_pct.source, "crop_pct " + (hp.crop_pct ? decimal(*hp.crop_pct) : "0.875"));
  check(bool(hp.interpolation), hp.interpolation.source,
        std::string("interpolation ") + (hp.interpolation && *hp.interpolation == kBilinear ? "bilinear" : "bicubic"));
  auto stats = [](const Param<std::vector<float>>& p) { return values(p->data(), int(p->size())); };
  if (!hp.mean || !hp.std) check(false, "", "mean/std ImageNet's");
  else check(true, hp.mean.source, "mean " + stats(hp.mean) + " std " + stats(hp.std));
  std::string said;
  if (!vitrt_default.empty()) said = vitrt_default + " (vitrt's defaults, as timm's)";
  if (!family_default.empty()) said += (said.empty() ? "" : "; ") + family_default + " (" + kFamilyDefault + ")";
  if (said.empty()) return {};
  return {"note: preprocessing not from the checkpoint, --arch, --config or a flag: " + said +
          "; if the model was trained otherwise, pass --resize, --crop-pct, --interpolation, --mean, --std"};
}

std::string summary(const Conversion& c, const std::string& output, const std::vector<uint8_t>& file) {
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
                double(count_params(c.model)) / 1e6, output.c_str(), double(file.size()) / (1 << 20));
  // What the runtime reads back from the file, not what was meant to go in.
  tools::AlignedBuffer bytes(file.size());
  std::memcpy(bytes.data(), file.data(), file.size());
  vitrt_model rt;
  vitrt_info info;
  if (vitrt_open(&rt, bytes.data(), bytes.size()) != VITRT_OK || vitrt_get_info(&rt, &info) != VITRT_OK)
    throw std::runtime_error(std::string("the written model does not open: ") + vitrt_last_error(&rt));
  return std::string(buf) + "\npreprocessing: " + describe_preprocess(info) + "\nweights: " + describe_dtypes(c.model) +
         "\narena: " + std::to_string(vitrt_arena_size(&rt)) + " bytes (1 thread, kernels " + vitrt_kernels(&rt) + ")";
}

}  // namespace vitrt::conv
