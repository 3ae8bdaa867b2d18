#include "reference_vit.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "test_values.h"

namespace vitrt::test {
namespace {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows of tokens

double at(const conv::Tensor& t, size_t i) { return t.present() ? t.data[i] : 0.0; }

// reference_logits' LinearFn, if it was given one (tests run one at a time).
const LinearFn* linear_override = nullptr;

Vec linear(const conv::Linear& l, const Vec& x) {
  if (linear_override) return (*linear_override)(l, x);
  const size_t out = l.weight.shape[0], in = l.weight.shape[1];
  Vec y(out);
  for (size_t o = 0; o < out; ++o) {
    double s = at(l.bias, o);
    for (size_t i = 0; i < in; ++i) s += l.weight.data[o * in + i] * x[i];
    y[o] = s;
  }
  return y;
}

Vec layernorm(const conv::Norm& n, const Vec& x, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  for (double v : x) var += (v - mean) * (v - mean);
  var /= x.size();
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = (x[i] - mean) / std::sqrt(var + eps) * n.weight.data[i] + at(n.bias, i);
  return y;
}

double activate(int act, double v) {
  switch (act) {
    case 1: return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    case 2: return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    case 3: return v > 0 ? v : 0;
    case 4: return std::tanh(v);
    default: return v;
  }
}

Mat map_rows(const Mat& x, const std::function<Vec(const Vec&)>& f) {
  Mat y;
  for (const Vec& r : x) y.push_back(f(r));
  return y;
}

// bf16: q, k, v and the softmax numerators rounded to bf16 (the sum stays
// the unrounded numerators'), as Ops::attention_bf16 computes.
Mat attention(const conv::Block& b, const conv::Config& c, const Mat& x, bool bf16_rounding) {
  const size_t n = x.size(), hd = c.head_dim, inner = c.heads * hd;
  const double scale = c.attn_scale != 0 ? c.attn_scale : 1 / std::sqrt(double(hd));
  Mat qkv = map_rows(x, [&](const Vec& r) { return linear(b.qkv, r); });
  auto round = [&](double v) { return bf16_rounding ? float(bf16(float(v))) : v; };
  for (Vec& r : qkv)
    for (double& v : r) v = round(v);
  Mat out(n, Vec(inner, 0.0));
  for (int h = 0; h < c.heads; ++h) {
    for (size_t i = 0; i < n; ++i) {
      Vec s(n);
      double mx = -1e300, sum = 0;
      for (size_t j = 0; j < n; ++j) {
        double d = 0;
        for (size_t e = 0; e < hd; ++e) d += qkv[i][h * hd + e] * qkv[j][inner + h * hd + e];
        s[j] = d * scale;
        mx = std::max(mx, s[j]);
      }
      for (double& v : s) {
        sum += (v = std::exp(v - mx));
        v = round(v);
      }
      for (size_t j = 0; j < n; ++j)
        for (size_t e = 0; e < hd; ++e) out[i][h * hd + e] += s[j] / sum * qkv[j][2 * inner + h * hd + e];
    }
  }
  if (!b.proj.weight.present()) return out;
  return map_rows(out, [&](const Vec& r) { return linear(b.proj, r); });
}

Mat mlp(const conv::Block& b, int act, const Mat& x) {
  return map_rows(x, [&](const Vec& r) {
    Vec h = linear(b.fc1, r);
    for (double& v : h) v = activate(act, v);
    return linear(b.fc2, h);
  });
}

Mat add(const Mat& a, const Mat& b) {
  Mat y = a;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[i].size(); ++j) y[i][j] += b[i][j];
  return y;
}

Vec mean_rows(const Mat& x, size_t first) {
  Vec y(x[0].size(), 0.0);
  for (size_t i = first; i < x.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j) y[j] += x[i][j] / double(x.size() - first);
  return y;
}

struct FeatureMap {
  int c, h, w;
  Vec v;  // [c, h, w]
  double at(int ch, int y, int x) const { return v[(size_t(ch) * h + y) * w + x]; }
};

FeatureMap conv2d(const conv::Conv2d& cv, const FeatureMap& in) {
  const int out = cv.weight.shape[0], k = cv.weight.shape[2], s = cv.stride, pad = cv.padding;
  FeatureMap y{out, (in.h + 2 * pad - k) / s + 1, (in.w + 2 * pad - k) / s + 1, {}};
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < y.h; ++i)
      for (int j = 0; j < y.w; ++j) {
        double sum = at(cv.bias, o);
        for (int ch = 0; ch < in.c; ++ch)
          for (int p = 0; p < k; ++p)
            for (int q = 0; q < k; ++q) {
              const int yy = i * s + p - pad, xx = j * s + q - pad;
              if (yy >= 0 && yy < in.h && xx >= 0 && xx < in.w)
                sum += cv.weight.data[((size_t(o) * in.c + ch) * k + p) * k + q] * in.at(ch, yy, xx);
            }
        y.v.push_back(cv.relu && sum < 0 ? 0 : sum);
      }
  return y;
}

}  // namespace

std::vector<double> reference_logits(const conv::Model& m, const std::vector<float>& img,
                                     const LinearFn& linear_fn, bool bf16_int8_attention) {
  struct Override {  // set for this call only
    explicit Override(const LinearFn& f) { linear_override = f ? &f : nullptr; }
    ~Override() { linear_override = nullptr; }
  } override_linear(linear_fn);
  const conv::Config& c = m.config;
  const double eps = c.ln_eps;
  auto ln = [&](const conv::Norm& n) { return [&](const Vec& r) { return layernorm(n, r, eps); }; };

  // ConvStem: the image through stem_convs; each grid cell's channel vector
  // then goes through patch_embed (the final 1x1 convolution).
  FeatureMap map{c.channels, c.image_h, c.image_w, Vec(img.begin(), img.end())};
  for (const conv::Conv2d& cv : m.stem_convs) map = conv2d(cv, map);
  // Otherwise patches in raster order, each flattened (c, p, q) like a Conv2d kernel.
  Mat x;
  for (int gy = 0; gy < c.image_h / c.patch_h; ++gy)
    for (int gx = 0; gx < c.image_w / c.patch_w; ++gx) {
      Vec p;
      if (c.stem == 1) {
        for (int ch = 0; ch < map.c; ++ch) p.push_back(map.at(ch, gy, gx));
      } else {
        for (int ch = 0; ch < c.channels; ++ch)
          for (int py = 0; py < c.patch_h; ++py)
            for (int px = 0; px < c.patch_w; ++px)
              p.push_back(img[(ch * c.image_h + gy * c.patch_h + py) * c.image_w + gx * c.patch_w + px]);
      }
      if (m.patch_norm_in.weight.present()) p = layernorm(m.patch_norm_in, p, eps);
      p = linear(m.patch_embed, p);
      if (m.patch_norm_out.weight.present()) p = layernorm(m.patch_norm_out, p, eps);
      x.push_back(p);
    }
  const size_t dim = c.dim;
  auto add_pos = [&](Mat& t) {
    for (size_t i = 0; i < t.size(); ++i)
      for (size_t j = 0; j < dim; ++j) t[i][j] += m.pos_embed.data[i * dim + j];
  };
  if (c.pos_embed && c.pos_embed_patches_only) add_pos(x);
  Mat prefix;
  if (c.class_token) prefix.emplace_back(m.cls_token.data.begin(), m.cls_token.data.end());
  if (c.dist_token) prefix.emplace_back(m.dist_token.data.begin(), m.dist_token.data.end());
  x.insert(x.begin(), prefix.begin(), prefix.end());
  if (c.pos_embed && !c.pos_embed_patches_only) add_pos(x);

  for (const conv::Block& b : m.blocks) {
    const bool bf16 = bf16_int8_attention && b.qkv.weight.dtype == conv::DType::I8;
    if (c.norm_placement == 1) {
      x = map_rows(add(x, attention(b, c, x, bf16)), ln(b.norm1));
      x = map_rows(add(x, mlp(b, c.mlp_activation, x)), ln(b.norm2));
    } else {
      x = add(x, attention(b, c, map_rows(x, ln(b.norm1)), bf16));
      x = add(x, mlp(b, c.mlp_activation, map_rows(x, ln(b.norm2))));
    }
  }
  if (m.norm.weight.present()) x = map_rows(x, ln(m.norm));

  if (c.dist_token) {
    Vec a = linear(m.head, x[0]), d = linear(m.head_dist, x[1]);
    for (size_t i = 0; i < a.size(); ++i) a[i] = (a[i] + d[i]) / 2;
    return a;
  }
  Vec f = c.pooling == 0 ? x[0] : mean_rows(x, c.pooling == 1 ? prefix.size() : 0);
  if (m.fc_norm.weight.present()) f = layernorm(m.fc_norm, f, eps);
  for (const conv::Linear& l : m.pre_logits) {
    f = linear(l, f);
    for (double& v : f) v = activate(m.pre_logits_act, v);
  }
  return linear(m.head, f);
}

}  // namespace vitrt::test
