#include "attention_map.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace vitrt::tools {

void AttentionRecorder::record(void* ctx, const vitrt_attention_event* e) {
  auto& r = *static_cast<AttentionRecorder*>(ctx);
  const size_t n = size_t(e->tokens) * e->tokens;
  if (e->head == 0) {
    r.tokens_ = e->tokens;
    r.prefix_ = e->prefix;
    r.blocks_.emplace_back(n, 0.0);
  }
  std::vector<double>& mean = r.blocks_.back();
  for (size_t i = 0; i < n; ++i) mean[i] += double(e->probs[i]) / e->heads;
}

std::vector<float> AttentionRecorder::patch_map(AttentionMode mode, int grid_h, int grid_w) const {
  if (blocks_.empty()) throw std::runtime_error("no attention was recorded");
  const size_t t = size_t(tokens_);
  if (size_t(grid_h) * grid_w + prefix_ != t)
    throw std::runtime_error("the model's tokens are not its patch grid plus class tokens");
  // The query rows that classify: the class token, or every token (mean pooling).
  std::vector<double> query(t, 0.0);
  if (prefix_ > 0) query[0] = 1.0;
  else std::fill(query.begin(), query.end(), 1.0 / double(t));
  // rollout: query^T A_L ... A_1, applied from the last block down.
  std::vector<double> weights = query;
  const size_t first = mode == AttentionMode::Rollout ? 0 : blocks_.size() - 1;
  for (size_t b = blocks_.size(); b-- > first;) {
    const std::vector<double>& a = blocks_[b];
    std::vector<double> next(t, 0.0);
    for (size_t i = 0; i < t; ++i) {
      if (weights[i] == 0.0) continue;
      const bool residual = mode == AttentionMode::Rollout;
      // Row i of 0.5 A + 0.5 I, renormalised (it sums to 1 already).
      for (size_t j = 0; j < t; ++j)
        next[j] += weights[i] * (residual ? 0.5 * a[i * t + j] + (i == j ? 0.5 : 0.0) : a[i * t + j]);
    }
    weights.swap(next);
  }
  std::vector<float> map(t - prefix_);
  double sum = 0.0;
  for (size_t p = 0; p < map.size(); ++p) sum += weights[prefix_ + p];
  for (size_t p = 0; p < map.size(); ++p) map[p] = float(sum > 0 ? weights[prefix_ + p] / sum : 0.0);
  return map;
}

namespace {

// Bilinear sample of the grid at pixel (y, x) of an h x w picture, as
// F.interpolate(align_corners=False) places cell centres.
float sample(const std::vector<float>& map, int gh, int gw, int y, int x, int h, int w) {
  const float sy = std::clamp((y + 0.5f) * gh / h - 0.5f, 0.f, float(gh - 1));
  const float sx = std::clamp((x + 0.5f) * gw / w - 0.5f, 0.f, float(gw - 1));
  const int y0 = int(sy), x0 = int(sx), y1 = std::min(y0 + 1, gh - 1), x1 = std::min(x0 + 1, gw - 1);
  const float fy = sy - y0, fx = sx - x0;
  auto at = [&](int r, int c) { return map[size_t(r) * gw + c]; };
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

// The "jet" colour map: blue (low) - cyan - yellow - red (high).
void jet(float v, float rgb[3]) {
  for (int c = 0; c < 3; ++c) rgb[c] = std::clamp(1.5f - std::fabs(4.f * v - float(3 - c)), 0.f, 1.f);
}

}  // namespace

void write_attention_png(const std::string& path, const std::vector<float>& map, int grid_h, int grid_w,
                         const float* input, const vitrt_info& info) {
  const int h = info.image_h, w = info.image_w, channels = info.channels;
  if (channels != 1 && channels != 3) throw std::runtime_error("attention maps need a grey or RGB model");
  const float peak = *std::max_element(map.begin(), map.end());
  const int zoom = std::max(1, (224 + std::min(h, w) - 1) / std::min(h, w));
  const int oh = h * zoom, ow = w * zoom;
  const size_t plane = size_t(h) * w;
  std::vector<uint8_t> rgb(size_t(oh) * ow * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float heat[3];
      jet(peak > 0 ? sample(map, grid_h, grid_w, y, x, h, w) / peak : 0.f, heat);
      for (int c = 0; c < 3; ++c) {
        const int ch = channels == 3 ? c : 0;
        const float px = std::clamp(input[ch * plane + size_t(y) * w + x] * info.std[ch] + info.mean[ch], 0.f, 1.f);
        const auto v = uint8_t(std::lround(255.f * (0.5f * px + 0.5f * heat[c])));
        for (int dy = 0; dy < zoom; ++dy)
          for (int dx = 0; dx < zoom; ++dx) rgb[(size_t(y * zoom + dy) * ow + size_t(x * zoom + dx)) * 3 + c] = v;
      }
    }
  if (!stbi_write_png(path.c_str(), ow, oh, 3, rgb.data(), ow * 3))
    throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace vitrt::tools
