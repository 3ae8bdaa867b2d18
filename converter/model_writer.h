// Builds a vitrt model file (FlatBuffers, 64-byte aligned tensor data) from
// weights already in the runtime's conventions (see schema/vitrt.fbs). Shared
// by the converter and by tests that need hand-made models.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vitrt::conv {

// How write_model() stores a tensor (schema DType): F16 and I8 are for Linear
// weights only (I8: per-channel scales, Blocked16x4, see quantize.h).
enum class DType { F32, F16, I8 };

// A tensor held as fp32 and stored as `dtype`; empty shape = absent.
struct Tensor {
  std::vector<int32_t> shape;
  std::vector<float> data;
  DType dtype = DType::F32;
  bool present() const { return !shape.empty(); }
};

struct Linear {
  Tensor weight, bias;       // weight [out, in]
  float input_scale = 0.f;   // I8 weight: static input scale, 0 = per token at run time
};
struct Norm { Tensor weight, bias; };
struct Conv2d { Tensor weight, bias; int32_t stride = 1, padding = 0; bool relu = false; };

struct Block {
  Norm norm1;
  Linear qkv;     // [3 * heads * head_dim, dim], q|k|v, head-major
  Linear proj;    // absent weight = identity
  Norm norm2;
  Linear fc1, fc2;
};

// Mirrors schema Config; enum fields hold the schema enum values.
struct Config {
  int32_t image_h = 0, image_w = 0, channels = 3, patch_h = 0, patch_w = 0;
  int32_t dim = 0, depth = 0, heads = 0, head_dim = 0, mlp_dim = 0, num_classes = 0;
  int32_t norm_placement = 0;   // NormPlacement
  float ln_eps = 1e-6f;
  int32_t mlp_activation = 1;   // Activation::GeluErf
  float attn_scale = 0.f;       // 0 = head_dim^-0.5
  int32_t pooling = 0;          // Pooling
  bool class_token = true, dist_token = false;
  int32_t pos_embed = 1;        // PosEmbedKind::Learned
  bool pos_embed_patches_only = false;
  int32_t stem = 0;             // StemKind::Patchify
};

struct Preprocess {
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  int32_t resize = 0;           // ResizeMode::ShorterSideCrop
  float crop_pct = 0.875f;
  int32_t interpolation = 1;    // Interpolation::Bicubic
};

struct Model {
  Config config;
  Preprocess preprocess;
  std::vector<std::string> labels;
  Norm patch_norm_in;
  Linear patch_embed;           // [dim, channels * patch_h * patch_w], (c, p, q) order
  Norm patch_norm_out;
  std::vector<Conv2d> stem_convs;
  Tensor cls_token, dist_token, pos_embed;
  std::vector<Block> blocks;
  Norm norm, fc_norm;
  std::vector<Linear> pre_logits;  // each followed by pre_logits_act
  int32_t pre_logits_act = 0;   // Activation
  Linear head, head_dist;
};

// Calls fn(tensor, linear_weight) for every tensor of `m`, present or not
// (linear_weight: a Linear's weight, which F16 / I8 dtypes encode).
void for_each_tensor(const Model& m, const std::function<void(const Tensor&, bool)>& fn);

// Serialises `m`, encoding each tensor as its `dtype` asks; the result is the
// whole file. Throws std::runtime_error on an inconsistent model (the
// runtime's checks are the final word).
std::vector<uint8_t> write_model(const Model& m);

}  // namespace vitrt::conv
