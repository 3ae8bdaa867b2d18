// Small random-weight models for the sample-tool tests (make_model.cpp,
// test_hostile.cpp, samples_probe.cpp): one block, dim 8, patches of 4 by default.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "model_writer.h"

namespace vitrt::test {

class RandomModel {
 public:
  explicit RandomModel(unsigned seed = 42) : rng_(seed) {}

  // A model of `classes` classes taking [channels, height, width] images
  // (multiples of the patch); preprocessing as conv::Preprocess's defaults
  // (ImageNet statistics for 3 channels, 0.5 / 0.25 for 1).
  conv::Model make(int channels, int height, int width, int classes, int patch_h = 4, int patch_w = 4) {
    conv::Model m;
    conv::Config& c = m.config;
    c.channels = channels;
    c.image_h = height;
    c.image_w = width;
    c.patch_h = patch_h;
    c.patch_w = patch_w;
    c.dim = 8;
    c.depth = 1;
    c.heads = 2;
    c.head_dim = 4;
    c.mlp_dim = 16;
    c.num_classes = classes;
    if (channels == 1) {
      m.preprocess.mean = {0.5f};
      m.preprocess.std = {0.25f};
    }
    const int patches = (c.image_h / c.patch_h) * (c.image_w / c.patch_w);
    m.patch_embed = linear(c.dim, c.channels * c.patch_h * c.patch_w);
    m.cls_token = random({c.dim}, 1.f);
    m.pos_embed = random({patches + 1, c.dim}, 0.5f);
    conv::Block b;
    b.norm1 = norm(c.dim);
    b.qkv = linear(3 * c.heads * c.head_dim, c.dim);
    b.proj = linear(c.dim, c.heads * c.head_dim);
    b.norm2 = norm(c.dim);
    b.fc1 = linear(c.mlp_dim, c.dim);
    b.fc2 = linear(c.dim, c.mlp_dim);
    m.blocks.push_back(b);
    m.norm = norm(c.dim);
    m.head = linear(c.num_classes, c.dim);
    return m;
  }

 private:
  conv::Tensor random(std::vector<int32_t> shape, float scale, float offset = 0.f) {
    std::size_t n = 1;
    for (int32_t d : shape) n *= std::size_t(d);
    std::uniform_real_distribution<float> u(-scale, scale);
    conv::Tensor t{std::move(shape), {}};
    for (std::size_t i = 0; i < n; ++i) t.data.push_back(offset + u(rng_));
    return t;
  }
  conv::Linear linear(int32_t out, int32_t in) { return {random({out, in}, 1.f), random({out}, 0.5f)}; }
  conv::Norm norm(int32_t dim) { return {random({dim}, 0.2f, 1.f), random({dim}, 0.1f)}; }

  std::mt19937 rng_;
};

}  // namespace vitrt::test
