#include "model_writer.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "quant/quantize.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt::conv {
namespace {

namespace fb = flatbuffers;
namespace s = vitrt::schema;

constexpr uint32_t kSchemaVersion = 1;
constexpr size_t kTensorAlignment = 64;  // see schema/vitrt.fbs
constexpr float kHalfOverflow = 65520.f;  // rounds to float16 infinity

// Bytes a tensor takes in the file, at least: its padded data (Panel16 pads
// rows to 16, Blocked16x4 to 16x4 tiles, with a scale and a sum per row).
uint64_t tensor_bytes(const Tensor& t, bool linear) {
  if (!t.present()) return 0;
  uint64_t n = 1;
  for (int32_t d : t.shape) n *= static_cast<uint64_t>(d > 0 ? d : 0);
  if (!(linear || t.dtype == DType::I8) || t.shape.size() != 2) return n * sizeof(float);
  const uint64_t rows = (static_cast<uint64_t>(t.shape[0]) + 15) / 16 * 16;
  const uint64_t cols = static_cast<uint64_t>(t.shape[1]);
  switch (t.dtype) {
    case DType::F32: return rows * cols * 4;
    case DType::F16: return rows * cols * 2;
    case DType::I8: return rows * ((cols + 3) / 4 * 4) + static_cast<uint64_t>(t.shape[0]) * 8;
  }
  return n * sizeof(float);
}

// The file's size, estimated from below, so a model past FlatBuffers' 2 GiB
// limit is refused before gigabytes are packed (the builder would abort).
uint64_t min_file_bytes(const Model& m) {
  uint64_t n = 0;
  for_each_tensor(m, [&](const Tensor& x, bool linear) { n += tensor_bytes(x, linear); });
  for (const std::string& label : m.labels) n += label.size();
  return n;
}

class Writer {
 public:
  explicit Writer(fb::FlatBufferBuilder& b) : b_(b) {}

  // A Linear weight (`linear`) is stored in the order the kernels read:
  // Panel16 for F32 / F16, Blocked16x4 for I8; everything else RowMajor.
  fb::Offset<s::Tensor> tensor(const Tensor& t, const std::string& name, bool linear = false) {
    if (!t.present()) {
      if (!t.data.empty()) throw std::runtime_error(name + ": data without a shape");
      return 0;
    }
    size_t count = 1;
    for (int32_t d : t.shape) {
      if (d <= 0) throw std::runtime_error(name + ": non-positive dimension");
      count *= static_cast<size_t>(d);
    }
    if (count != t.data.size())
      throw std::runtime_error(name + ": shape holds " + std::to_string(count) +
                               " values, data has " + std::to_string(t.data.size()));
    if ((linear || t.dtype == DType::I8) && t.shape.size() != 2)
      throw std::runtime_error(name + ": a Linear needs an [out, in] weight");
    // A NaN or Inf weight would run, and answer NaN for every image.
    for (size_t i = 0; i < count; ++i) {
      const float v = t.data[i];
      if (!std::isfinite(v) || (t.dtype == DType::F16 && std::fabs(v) >= kHalfOverflow))
        throw std::runtime_error(name + ": value " + std::to_string(i) + " is " +
                                 (std::isfinite(v) ? std::to_string(v) + ", beyond float16's range"
                                                   : std::string(std::isnan(v) ? "NaN" : "infinite")));
    }
    auto shape = b_.CreateVector(t.shape);
    const s::WeightLayout layout = linear ? s::WeightLayout::Panel16 : s::WeightLayout::RowMajor;
    switch (t.dtype) {
      case DType::F32: {
        const std::vector<float> data = linear ? pack_panel16(t.data, t.shape[0], t.shape[1]) : t.data;
        return s::CreateTensor(b_, s::DType::F32, shape,
                               aligned_bytes(data.data(), data.size() * sizeof(float)), 0, layout);
      }
      case DType::F16: {
        std::vector<uint16_t> half(t.data.size());
        for (size_t i = 0; i < half.size(); ++i) half[i] = float_to_half(t.data[i]);
        if (linear) half = pack_panel16(half, t.shape[0], t.shape[1]);
        return s::CreateTensor(b_, s::DType::F16, shape,
                               aligned_bytes(half.data(), half.size() * sizeof(uint16_t)), 0, layout);
      }
      case DType::I8: {
        const QuantizedWeight qw = quantize_per_channel(t.data, t.shape[0], t.shape[1]);
        const std::vector<int8_t> packed = pack_blocked16x4(qw.q, t.shape[0], t.shape[1]);
        auto data = aligned_bytes(packed.data(), packed.size());
        return s::CreateTensor(b_, s::DType::I8, shape, data, b_.CreateVector(qw.scales),
                               s::WeightLayout::Blocked16x4, b_.CreateVector(qw.sums));
      }
    }
    throw std::runtime_error(name + ": unknown dtype");
  }

  fb::Offset<s::Linear> linear(const Linear& l, const std::string& name) {
    if (!l.weight.present()) {
      if (l.bias.present()) throw std::runtime_error(name + ": bias without weight");
      return 0;
    }
    if (!(l.input_scale >= 0.f && std::isfinite(l.input_scale)))
      throw std::runtime_error(name + ": input_scale must be finite and >= 0");
    auto w = tensor(l.weight, name + ".weight", true);
    auto bias = tensor(l.bias, name + ".bias");
    return s::CreateLinear(b_, w, bias, l.input_scale);
  }

  fb::Offset<s::Norm> norm(const Norm& n, const std::string& name) {
    if (!n.weight.present()) {
      if (n.bias.present()) throw std::runtime_error(name + ": bias without weight");
      return 0;
    }
    auto w = tensor(n.weight, name + ".weight");
    auto bias = tensor(n.bias, name + ".bias");
    return s::CreateNorm(b_, w, bias);
  }

 private:
  // Align the vector body, not just its length prefix: the runtime reads
  // the weights in place with 64-byte loads. Little-endian host assumed.
  fb::Offset<fb::Vector<uint8_t>> aligned_bytes(const void* src, size_t bytes) {
    b_.ForceVectorAlignment(bytes, 1, kTensorAlignment);
    uint8_t* dst = nullptr;
    auto data = b_.CreateUninitializedVector(bytes, 1, &dst);
    if (bytes) std::memcpy(dst, src, bytes);
    return data;
  }

  fb::FlatBufferBuilder& b_;
};

void check_structure(const Model& m) {
  const Config& c = m.config;
  if (c.image_h <= 0 || c.image_w <= 0 || c.channels <= 0 || c.patch_h <= 0 || c.patch_w <= 0 ||
      c.dim <= 0 || c.depth <= 0 || c.heads <= 0 || c.head_dim <= 0 || c.mlp_dim <= 0 ||
      c.num_classes <= 0)
    throw std::runtime_error("config: every size must be positive");
  if (static_cast<int32_t>(m.blocks.size()) != c.depth)
    throw std::runtime_error("config.depth is " + std::to_string(c.depth) + " but the model has " +
                             std::to_string(m.blocks.size()) + " blocks");
  if (!m.labels.empty() && static_cast<int32_t>(m.labels.size()) != c.num_classes)
    throw std::runtime_error("labels: " + std::to_string(m.labels.size()) + " entries for " +
                             std::to_string(c.num_classes) + " classes");
  if (!m.patch_embed.weight.present()) throw std::runtime_error("patch_embed: missing");
  if (!m.head.weight.present()) throw std::runtime_error("head: missing");
  const uint64_t bytes = min_file_bytes(m);
  if (bytes >= FLATBUFFERS_MAX_BUFFER_SIZE)
    throw std::runtime_error("the model would take over " + std::to_string(bytes >> 20) +
                             " MiB, past the 2 GiB limit of a model file (FlatBuffers)");
}

}  // namespace

void for_each_tensor(const Model& m, const std::function<void(const Tensor&, bool)>& fn) {
  auto lin = [&](const Linear& l) { fn(l.weight, true); fn(l.bias, false); };
  auto norm = [&](const Norm& l) { fn(l.weight, false); fn(l.bias, false); };
  norm(m.patch_norm_in);
  lin(m.patch_embed);
  norm(m.patch_norm_out);
  for (const Conv2d& s : m.stem_convs) { fn(s.weight, false); fn(s.bias, false); }
  fn(m.cls_token, false);
  fn(m.dist_token, false);
  fn(m.pos_embed, false);
  for (const Block& b : m.blocks) {
    norm(b.norm1); lin(b.qkv); lin(b.proj); norm(b.norm2); lin(b.fc1); lin(b.fc2);
  }
  norm(m.norm);
  norm(m.fc_norm);
  for (const Linear& l : m.pre_logits) lin(l);
  lin(m.head);
  lin(m.head_dist);
}

std::vector<uint8_t> write_model(const Model& m) {
  check_structure(m);
  const Config& c = m.config;

  fb::FlatBufferBuilder b(1 << 20);
  Writer w(b);

  // Children first: FlatBuffers tables can only reference finished objects.
  auto patch_norm_in = w.norm(m.patch_norm_in, "patch_norm_in");
  auto patch_embed = w.linear(m.patch_embed, "patch_embed");
  auto patch_norm_out = w.norm(m.patch_norm_out, "patch_norm_out");

  fb::Offset<fb::Vector<fb::Offset<s::Conv2d>>> stem_convs = 0;
  if (!m.stem_convs.empty()) {
    std::vector<fb::Offset<s::Conv2d>> convs;
    for (size_t i = 0; i < m.stem_convs.size(); ++i) {
      const Conv2d& cv = m.stem_convs[i];
      const std::string name = "stem_convs[" + std::to_string(i) + "]";
      auto weight = w.tensor(cv.weight, name + ".weight");
      auto bias = w.tensor(cv.bias, name + ".bias");
      convs.push_back(s::CreateConv2d(b, weight, bias, cv.stride, cv.padding, cv.relu));
    }
    stem_convs = b.CreateVector(convs);
  }

  auto cls_token = w.tensor(m.cls_token, "cls_token");
  auto dist_token = w.tensor(m.dist_token, "dist_token");
  auto pos_embed = w.tensor(m.pos_embed, "pos_embed");

  std::vector<fb::Offset<s::Block>> blocks;
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const Block& bl = m.blocks[i];
    const std::string name = "blocks[" + std::to_string(i) + "].";
    auto norm1 = w.norm(bl.norm1, name + "norm1");
    auto qkv = w.linear(bl.qkv, name + "qkv");
    auto proj = w.linear(bl.proj, name + "proj");
    auto norm2 = w.norm(bl.norm2, name + "norm2");
    auto fc1 = w.linear(bl.fc1, name + "fc1");
    auto fc2 = w.linear(bl.fc2, name + "fc2");
    blocks.push_back(s::CreateBlock(b, norm1, qkv, proj, norm2, fc1, fc2));
  }
  auto blocks_vec = b.CreateVector(blocks);

  auto norm = w.norm(m.norm, "norm");
  auto fc_norm = w.norm(m.fc_norm, "fc_norm");
  fb::Offset<fb::Vector<fb::Offset<s::Linear>>> pre_logits = 0;
  if (!m.pre_logits.empty()) {
    std::vector<fb::Offset<s::Linear>> layers;
    for (size_t i = 0; i < m.pre_logits.size(); ++i) {
      const std::string name = "pre_logits[" + std::to_string(i) + "]";
      if (!m.pre_logits[i].weight.present()) throw std::runtime_error(name + ": missing weight");
      layers.push_back(w.linear(m.pre_logits[i], name));
    }
    pre_logits = b.CreateVector(layers);
  }
  auto head = w.linear(m.head, "head");
  auto head_dist = w.linear(m.head_dist, "head_dist");

  fb::Offset<fb::Vector<fb::Offset<fb::String>>> labels = 0;
  if (!m.labels.empty()) labels = b.CreateVectorOfStrings(m.labels);

  const Preprocess& p = m.preprocess;
  auto preprocess = s::CreatePreprocess(
      b, p.mean.empty() ? 0 : b.CreateVector(p.mean), p.std.empty() ? 0 : b.CreateVector(p.std),
      static_cast<s::ResizeMode>(p.resize), p.crop_pct,
      static_cast<s::Interpolation>(p.interpolation));

  const float attn_scale =
      c.attn_scale != 0.f ? c.attn_scale : 1.f / std::sqrt(static_cast<float>(c.head_dim));
  auto config = s::CreateConfig(
      b, c.image_h, c.image_w, c.channels, c.patch_h, c.patch_w, c.dim, c.depth, c.heads,
      c.head_dim, c.mlp_dim, c.num_classes, static_cast<s::NormPlacement>(c.norm_placement),
      c.ln_eps, static_cast<s::Activation>(c.mlp_activation), attn_scale,
      static_cast<s::Pooling>(c.pooling), c.class_token, c.dist_token,
      static_cast<s::PosEmbedKind>(c.pos_embed), c.pos_embed_patches_only,
      static_cast<s::StemKind>(c.stem));

  s::ModelBuilder mb(b);
  mb.add_schema_version(kSchemaVersion);
  mb.add_config(config);
  mb.add_preprocess(preprocess);
  if (!labels.IsNull()) mb.add_labels(labels);
  mb.add_patch_norm_in(patch_norm_in);
  mb.add_patch_embed(patch_embed);
  mb.add_patch_norm_out(patch_norm_out);
  mb.add_stem_convs(stem_convs);
  mb.add_cls_token(cls_token);
  mb.add_dist_token(dist_token);
  mb.add_pos_embed(pos_embed);
  mb.add_blocks(blocks_vec);
  mb.add_norm(norm);
  mb.add_fc_norm(fc_norm);
  mb.add_pre_logits(pre_logits);
  mb.add_pre_logits_act(static_cast<s::Activation>(m.pre_logits_act));
  mb.add_head(head);
  mb.add_head_dist(head_dist);
  s::FinishModelBuffer(b, mb.Finish());

  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

}  // namespace vitrt::conv
