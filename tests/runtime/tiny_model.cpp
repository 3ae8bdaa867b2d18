#include "tiny_model.h"

#include <cmath>
#include <memory>
#include <random>
#include <string>

namespace vitrt::test {
namespace {

class Filler {
 public:
  explicit Filler(uint32_t seed) : rng_(seed) {}

  conv::Tensor tensor(std::vector<int32_t> shape, float scale, float offset = 0.f) {
    conv::Tensor t;
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    t.shape = std::move(shape);
    std::uniform_real_distribution<float> u(-scale, scale);
    for (size_t i = 0; i < n; ++i) t.data.push_back(offset + u(rng_));
    return t;
  }
  conv::Linear linear(int32_t out, int32_t in, bool bias) {
    conv::Linear l;
    l.weight = tensor({out, in}, 1.f / std::sqrt(static_cast<float>(in)));
    if (bias) l.bias = tensor({out}, 0.1f);
    return l;
  }
  conv::Norm norm(int32_t dim, bool bias) {
    conv::Norm n;
    n.weight = tensor({dim}, 0.2f, 1.f);
    if (bias) n.bias = tensor({dim}, 0.1f);
    return n;
  }

 private:
  std::mt19937 rng_;
};

}  // namespace

conv::Model make_tiny(const TinyOptions& o, uint32_t seed) {
  Filler f(seed);
  conv::Model m;
  conv::Config& c = m.config;
  c.image_h = o.image_h;
  c.image_w = o.image_w;
  c.channels = o.channels;
  c.patch_h = o.patch_h;
  c.patch_w = o.patch_w;
  c.dim = o.dim;
  c.depth = o.depth;
  c.heads = o.heads;
  c.head_dim = o.head_dim;
  c.mlp_dim = o.mlp_dim;
  c.num_classes = o.num_classes;
  c.norm_placement = o.norm_placement;
  c.ln_eps = 1e-5f;
  c.mlp_activation = o.mlp_activation;
  c.pooling = o.pooling;
  c.class_token = o.class_token;
  c.dist_token = o.dist_token;
  c.pos_embed = o.pos_embed;
  c.pos_embed_patches_only = o.pos_patches_only;
  m.preprocess.mean.assign(o.channels, 0.5f);
  m.preprocess.std.assign(o.channels, 0.25f);

  const int32_t patches = (o.image_h / o.patch_h) * (o.image_w / o.patch_w);
  const int32_t tokens = patches + o.class_token + o.dist_token;
  const int32_t patch_len = o.channels * o.patch_h * o.patch_w;
  const int32_t inner = o.heads * o.head_dim;
  if (o.patch_norm_in) m.patch_norm_in = f.norm(patch_len, o.biases);
  int32_t embed_in = patch_len, channels = o.channels;
  for (const TinyConv& t : o.stem_convs) {
    conv::Conv2d cv;
    const int32_t fan_in = channels * t.kernel * t.kernel;
    cv.weight = f.tensor({t.out, channels, t.kernel, t.kernel}, 1.7f / std::sqrt(static_cast<float>(fan_in)));
    if (t.bias) cv.bias = f.tensor({t.out}, 0.3f);
    cv.stride = t.stride;
    cv.padding = t.padding;
    cv.relu = t.relu;
    m.stem_convs.push_back(std::move(cv));
    c.stem = 1;  // ConvStem
    embed_in = channels = t.out;
  }
  m.patch_embed = f.linear(o.dim, embed_in, o.biases);
  if (o.patch_norm_out) m.patch_norm_out = f.norm(o.dim, o.biases);
  if (o.class_token) m.cls_token = f.tensor({o.dim}, 1.f);
  if (o.dist_token) m.dist_token = f.tensor({o.dim}, 1.f);
  if (o.pos_embed) m.pos_embed = f.tensor({o.pos_patches_only ? patches : tokens, o.dim}, 0.5f);
  for (int32_t i = 0; i < o.depth; ++i) {
    conv::Block b;
    b.norm1 = f.norm(o.dim, o.biases);
    b.qkv = f.linear(3 * inner, o.dim, o.biases);
    if (o.proj) b.proj = f.linear(o.dim, inner, o.biases);
    b.norm2 = f.norm(o.dim, o.biases);
    b.fc1 = f.linear(o.mlp_dim, o.dim, o.biases);
    b.fc2 = f.linear(o.dim, o.mlp_dim, o.biases);
    m.blocks.push_back(std::move(b));
  }
  if (o.final_norm) m.norm = f.norm(o.dim, o.biases);
  if (o.fc_norm) m.fc_norm = f.norm(o.dim, o.biases);
  int32_t features = o.dim;
  if (o.pre_logits) {
    m.pre_logits.push_back(f.linear(o.pre_logits, o.dim, o.biases));
    if (o.pre_logits2) m.pre_logits.push_back(f.linear(o.pre_logits2, o.pre_logits, o.biases));
    m.pre_logits_act = o.pre_logits_act;
    features = o.pre_logits2 ? o.pre_logits2 : o.pre_logits;
  }
  m.head = f.linear(o.num_classes, features, o.biases);
  if (o.dist_token) m.head_dist = f.linear(o.num_classes, o.dim, o.biases);
  if (o.labels)
    for (int32_t i = 0; i < o.num_classes; ++i) m.labels.push_back("class " + std::to_string(i));
  return m;
}

std::vector<float> random_image(const conv::Model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.f, 2.f);
  std::vector<float> img(static_cast<size_t>(m.config.channels) * m.config.image_h * m.config.image_w);
  for (float& v : img) v = u(rng);
  return img;
}

vitrt_status open_and_run(const std::vector<uint8_t>& file, const std::vector<float>& image,
                          std::vector<float>* logits, std::string* error, int threads,
                          vitrt_parallel_fn parallel) {
  Aligned bytes(file);
  vitrt_model m;
  vitrt_status st = vitrt_open(&m, bytes.data(), bytes.size());
  if (st == VITRT_OK && threads > 1) st = vitrt_set_parallel(&m, parallel, nullptr, threads);
  std::unique_ptr<Aligned> arena;
  if (st == VITRT_OK) {
    arena = std::make_unique<Aligned>(vitrt_arena_size(&m));
    st = vitrt_bind_arena(&m, arena->data(), arena->size());
  }
  if (st == VITRT_OK) st = vitrt_run(&m, image.data(), image.size());
  if (st != VITRT_OK) {
    *error = vitrt_last_error(&m);
    return st;
  }
  vitrt_info info;
  vitrt_get_info(&m, &info);
  logits->assign(vitrt_logits(&m), vitrt_logits(&m) + info.num_classes);
  return VITRT_OK;
}

}  // namespace vitrt::test
