#include "families/family_mocov3.h"

#include <climits>
#include <cmath>
#include <stdexcept>

#include "families/mapper_util.h"
#include "families/sincos.h"

namespace vitrt::conv {
namespace {

constexpr int32_t kPoolClassToken = 0, kPoolMeanPatches = 1;
constexpr int32_t kPosEmbedSinCos2D = 2, kStemConv = 1, kActRelu = 3;
constexpr double kBatchNormEps = 1e-5;  // torch's default; moco-v3 never changes it
constexpr double kPosEmbedTolerance = 1e-5;
const std::string kBase = "base_encoder.";
const char* const kIgnoredPrefixes[] = {"momentum_encoder.", "predictor."};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool has_encoder(const TensorMap& tensors) { return tensors.count(kBase + "cls_token") != 0; }

// The ViT's tensors under timm names: base_encoder.* of a pretraining
// checkpoint (the other networks dropped), else everything. BatchNorm's
// num_batches_tracked counters only matter for training and are dropped.
TensorMap encoder_tensors(const TensorMap& tensors) {
  const bool pretraining = has_encoder(tensors);
  TensorMap out;
  for (const auto& [name, t] : tensors) {
    if (ends_with(name, ".num_batches_tracked")) continue;
    if (!pretraining) {
      out.emplace(name, t);
      continue;
    }
    if (starts_with(name, kBase)) {
      out.emplace(name.substr(kBase.size()), t);
      continue;
    }
    bool ignored = false;
    for (const char* p : kIgnoredPrefixes) ignored = ignored || starts_with(name, p);
    if (!ignored)
      throw std::runtime_error("unexpected tensor " + name + " in a MoCo v3 pretraining checkpoint (base_encoder.*, "
                               "momentum_encoder.*, predictor.*)");
  }
  return out;
}

// Largest |pos_embed - sin-cos formula| for the checkpoint's own grid.
double sincos_error(const std::vector<float>& pos, int grid_h, int grid_w, int dim) {
  const std::vector<float> want = sincos_2d_pos_embed(grid_h, grid_w, dim);
  if (want.size() != pos.size()) return INFINITY;
  double err = 0;
  for (size_t i = 0; i < pos.size(); ++i) err = std::fmax(err, std::fabs(double(pos[i]) - want[i]));
  return err;
}

// Eval-mode BatchNorm {prefix}running_mean/var (+ optional affine
// weight/bias) on the output channels of `weight` [out, ...] / `bias`,
// folded into them.
void fold_batchnorm(TensorPool& pool, const std::string& prefix, Tensor& weight, Tensor& bias) {
  const int64_t out = to_int(weight.shape[0], prefix + " channel count");
  const Tensor mean = pool.take(prefix + "running_mean", {out});
  const Tensor var = pool.take(prefix + "running_var", {out});
  const Tensor gamma = pool.take_optional(prefix + "weight", {out});
  const Tensor beta = pool.take_optional(prefix + "bias", {out});
  if (gamma.present() != beta.present())
    throw std::runtime_error(prefix + "weight and " + prefix + "bias: BatchNorm has one without the other");
  if (!bias.present()) bias = Tensor{{int32_t(out)}, std::vector<float>(size_t(out), 0.f)};
  const size_t per = weight.data.size() / size_t(out);
  for (size_t o = 0; o < size_t(out); ++o) {
    const double scale = (gamma.present() ? gamma.data[o] : 1.0) / std::sqrt(double(var.data[o]) + kBatchNormEps);
    for (size_t i = 0; i < per; ++i) weight.data[o * per + i] = float(weight.data[o * per + i] * scale);
    bias.data[o] = float((double(bias.data[o]) - mean.data[o]) * scale + (beta.present() ? beta.data[o] : 0.0));
  }
}

std::string layer(const std::string& seq, int k) { return seq + "." + std::to_string(k) + "."; }

// vits.py ConvStem: patch_embed.proj = n x [Conv2d 3x3 stride 2 padding 1,
// BatchNorm2d, ReLU], then a 1x1 Conv2d to dim. Stride and padding are not
// in the weights; they are vits.py's. The patch is 2^n (16 for n = 4).
void take_conv_stem(TensorPool& pool, const HParams& hp, Model& m) {
  const std::string seq = "patch_embed.proj";
  int k = 0;
  int64_t in = 0, channels = 0;
  for (; pool.has(layer(seq, k + 1) + "running_mean"); k += 3) {
    const std::string conv = layer(seq, k) + "weight";
    const auto& ws = pool.shape(conv);
    if (ws.size() != 4 || ws[2] != 3 || ws[3] != 3 || (in && ws[1] != in))
      throw std::runtime_error(conv + ": expected a 3x3 convolution from " +
                               (in ? std::to_string(in) : std::string("the image's")) + " channels, got " +
                               shape_string(ws));
    if (!in) channels = ws[1];
    Conv2d cv;
    cv.weight = pool.take(conv, ws);
    cv.bias = pool.take_optional(layer(seq, k) + "bias", {ws[0]});
    fold_batchnorm(pool, layer(seq, k + 1), cv.weight, cv.bias);
    cv.stride = 2;
    cv.padding = 1;
    cv.relu = true;
    m.stem_convs.push_back(std::move(cv));
    in = ws[0];
  }
  if (m.stem_convs.empty()) throw std::runtime_error(seq + ": no Conv2d + BatchNorm2d layers (MoCo v3 ConvStem)");
  if (m.stem_convs.size() > 8) throw std::runtime_error(seq + ": more stride-2 convolutions than any image allows");
  const std::string last = layer(seq, k) + "weight";
  const auto& ls = pool.shape(last);
  if (ls.size() != 4 || ls[1] != in || ls[2] != 1 || ls[3] != 1)
    throw std::runtime_error(last + ": expected the ConvStem's final 1x1 convolution from " + std::to_string(in) +
                             " channels, got " + shape_string(ls));
  const int64_t patch = int64_t{1} << m.stem_convs.size();
  set_stem(m.config, hp, ls[0], channels, patch, patch);
  m.config.stem = kStemConv;
  m.patch_embed.weight = pool.take(last, ls, {ls[0], in});
  m.patch_embed.bias = pool.take_optional(layer(seq, k) + "bias", {ls[0]});
}

// main_lincls.py: head = Linear. Pretraining: the projection MLP of
// builder.py's _build_mlp(3, dim, 4096, 256): Linear (no bias) at head.0,
// head.3, head.6, each followed by a BatchNorm1d (the last affine=False),
// ReLU after all but the last: the hidden layers become pre_logits.
void take_head(TensorPool& pool, Model& m, int64_t dim) {
  if (pool.has("head.weight")) {
    m.head = take_linear(pool, "head.", -1, dim);
  } else {
    std::vector<Linear> layers;
    for (int k = 0; pool.has(layer("head", k) + "weight"); k += 3) {
      const int64_t in = layers.empty() ? dim : layers.back().weight.shape[0];
      const auto& ws = pool.shape(layer("head", k) + "weight");
      if (ws.size() != 2)
        throw std::runtime_error(layer("head", k) + "weight must be a Linear weight, got " + shape_string(ws));
      Linear l = take_linear(pool, layer("head", k), ws[0], in);
      if (pool.has(layer("head", k + 1) + "running_mean")) fold_batchnorm(pool, layer("head", k + 1), l.weight, l.bias);
      layers.push_back(std::move(l));
    }
    if (layers.empty())
      throw std::runtime_error("the checkpoint has neither a classifier head (head.weight) nor the MoCo v3 "
                               "projection MLP (head.0.weight); vitrt needs one");
    m.head = std::move(layers.back());
    layers.pop_back();
    m.pre_logits = std::move(layers);
    m.pre_logits_act = m.pre_logits.empty() ? 0 : kActRelu;
  }
  m.config.num_classes = to_int(m.head.weight.shape[0], "class count");
}

// The image size (flags/config, else the checkpoint's square pos_embed
// grid) and the sin-cos embedding for its grid. A checkpoint pos_embed must
// be the formula for its own grid: anything else is a learned embedding
// this family would silently replace.
void set_pos_embed(TensorPool& pool, const HParams& hp, Model& m) {
  Config& c = m.config;
  const int64_t dim = c.dim;
  if (pool.has("pos_embed")) {
    const auto& ps = pool.shape("pos_embed");
    if (ps.size() != 3 || ps[0] != 1 || ps[2] != dim || ps[1] < 2)
      throw std::runtime_error("pos_embed must be [1, 1 + patches, " + std::to_string(dim) + "], got " + shape_string(ps));
    const Tensor pos = pool.take("pos_embed", ps);
    int grid_h = int(exact_sqrt(ps[1] - 1)), grid_w = grid_h;
    if (hp.image_h && hp.image_w && int64_t(*hp.image_h / c.patch_h) * (*hp.image_w / c.patch_w) + 1 == ps[1]) {
      grid_h = *hp.image_h / c.patch_h;
      grid_w = *hp.image_w / c.patch_w;
    }
    if (!grid_h)
      throw std::runtime_error("pos_embed of " + std::to_string(ps[1]) + " tokens: not 1 + a square grid; pass --image-size H[xW]");
    const double err = sincos_error(pos.data, grid_h, grid_w, c.dim);
    if (!(err <= kPosEmbedTolerance))
      throw std::runtime_error("pos_embed differs from MoCo v3's fixed 2-D sin-cos embedding for a " +
                               std::to_string(grid_h) + "x" + std::to_string(grid_w) + " grid by up to " +
                               std::to_string(err) + "; if it was trained, convert with --family timm");
    if (!hp.image_h) {
      c.image_h = grid_h * c.patch_h;
      c.image_w = grid_w * c.patch_w;
    }
  } else if (!hp.image_h) {
    throw std::runtime_error("the checkpoint has no pos_embed to infer the image size from; pass --image-size or --arch");
  }
  if (hp.image_h && hp.image_w) {
    c.image_h = *hp.image_h;
    c.image_w = *hp.image_w;
  }
  if (c.image_h % c.patch_h || c.image_w % c.patch_w)
    throw std::runtime_error("image size " + std::to_string(c.image_h) + "x" + std::to_string(c.image_w) +
                             " is not divisible by the patch size " + std::to_string(c.patch_h));
  check_matches(hp.pos_embed_patches_only, false, "pos_embed without prefix tokens (no_embed_class)");
  const int grid_h = c.image_h / c.patch_h, grid_w = c.image_w / c.patch_w;
  c.pos_embed = kPosEmbedSinCos2D;
  m.pos_embed = Tensor{{1 + grid_h * grid_w, c.dim}, sincos_2d_pos_embed(grid_h, grid_w, c.dim)};
}

}  // namespace

bool is_mocov3_vit(const TensorMap& tensors) {
  if (has_encoder(tensors)) return true;
  if (tensors.count("patch_embed.proj.0.weight") && tensors.count("patch_embed.proj.1.running_mean")) return true;
  const auto it = tensors.find("pos_embed");
  if (it == tensors.end()) return false;
  const auto& s = it->second.shape;
  if (s.size() != 3 || s[0] != 1 || s[2] % 4 || s[2] <= 0 || s[2] > INT32_MAX) return false;
  const int64_t side = exact_sqrt(s[1] - 1);
  return side && sincos_error(to_float(it->second, "pos_embed"), int(side), int(side), int(s[2])) <= kPosEmbedTolerance;
}

Model map_mocov3_vit(const TensorMap& tensors, const HParams& hp) {
  const TensorMap encoder = encoder_tensors(tensors);
  TensorPool pool(encoder);
  Model m;
  Config& c = m.config;

  if (pool.has("patch_embed.proj.0.weight")) take_conv_stem(pool, hp, m);
  else m.patch_embed = take_conv_patch_embed(pool, "patch_embed.proj.weight", "patch_embed.proj.bias", hp, c);
  const int64_t dim = c.dim;
  if (dim % 4) throw std::runtime_error("embedding dim " + std::to_string(dim) + ": the 2-D sin-cos position embedding needs a multiple of 4");

  if (!pool.has("cls_token")) throw std::runtime_error("the checkpoint has no cls_token; MoCo v3 ViTs have one");
  m.cls_token = pool.take("cls_token", {1, 1, dim}, {dim});
  check_matches(hp.class_token, true, "class token");
  check_matches(hp.dist_token, false, "distillation token");

  m.blocks = take_timm_blocks(pool, hp, c);
  m.norm = take_norm(pool, "norm.", dim);
  m.fc_norm = take_norm(pool, "fc_norm.", dim);  // timm >= 0.6 with global_pool='avg'
  check_matches(hp.fc_norm, m.fc_norm.weight.present(), "fc_norm");
  const bool mean = hp.pool ? *hp.pool == Pool::Mean : m.fc_norm.weight.present();
  c.pooling = mean ? kPoolMeanPatches : kPoolClassToken;

  take_head(pool, m, dim);
  check_matches(hp.num_classes, c.num_classes, "num_classes");
  set_pos_embed(pool, hp, m);

  pool.require_all_taken("MoCo v3 ViT");
  return m;
}

}  // namespace vitrt::conv
