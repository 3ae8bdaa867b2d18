// vitrt_set_attention_observer: every head of every block reported once per
// run with softmax(q k^T * scale), checked against probabilities computed in
// double from the q and k of the reference forward pass.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "reference_vit.h"
#include "tiny_model.h"
#include "vitrt/vitrt.hpp"

using namespace vitrt::test;
using vitrt::conv::Linear;

namespace {

struct Head {
  int block, head, heads, tokens, prefix;
  std::vector<float> probs;
};

void record(void* ctx, const vitrt_attention_event* e) {
  static_cast<std::vector<Head>*>(ctx)->push_back(
      {e->block, e->head, e->heads, e->tokens, e->prefix,
       std::vector<float>(e->probs, e->probs + size_t(e->tokens) * e->tokens)});
}

std::vector<double> exact_linear(const Linear& l, const std::vector<double>& x) {
  const int out = l.weight.shape[0], in = l.weight.shape[1];
  std::vector<double> y(static_cast<size_t>(out), 0.0);
  for (int o = 0; o < out; ++o) {
    double s = l.bias.present() ? l.bias.data[size_t(o)] : 0.0;
    for (int k = 0; k < in; ++k) s += double(l.weight.data[size_t(o) * in + k]) * x[size_t(k)];
    y[size_t(o)] = s;
  }
  return y;
}

void check_attention(const TinyOptions& o, uint32_t seed) {
  const vitrt::conv::Model model = make_tiny(o, seed);
  const auto image = random_image(model, seed + 1);
  // The qkv rows [tokens, 3 * heads * head_dim] of each block, in double.
  std::map<const Linear*, std::vector<double>> qkv;
  reference_logits(model, image, [&](const Linear& l, const std::vector<double>& x) {
    std::vector<double> y = exact_linear(l, x);
    qkv[&l].insert(qkv[&l].end(), y.begin(), y.end());
    return y;
  });
  const int heads = o.heads, hd = o.head_dim, inner = heads * hd;
  const double scale = model.config.attn_scale != 0 ? model.config.attn_scale : 1.0 / std::sqrt(double(hd));

  Aligned file(vitrt::conv::write_model(model));
  vitrt::Model m;
  REQUIRE(m.open(file.data(), file.size()) == VITRT_OK);
  std::vector<Head> seen;
  REQUIRE(m.set_attention_observer(record, &seen) == VITRT_OK);
  Aligned arena(m.arena_size());
  REQUIRE(m.bind_arena(arena.data(), arena.size()) == VITRT_OK);
  REQUIRE(m.run(image.data(), image.size()) == VITRT_OK);
  const std::vector<float> logits(m.logits(), m.logits() + o.num_classes);

  REQUIRE(seen.size() == size_t(o.depth * heads));
  for (const Head& h : seen) {
    const int t = h.tokens;
    INFO("block " << h.block << " head " << h.head);
    REQUIRE(h.block == int(&h - seen.data()) / heads);
    REQUIRE(h.head == int(&h - seen.data()) % heads);
    REQUIRE(h.heads == heads);
    REQUIRE(h.prefix == int(o.class_token) + int(o.dist_token));
    const std::vector<double>& rows = qkv.at(&model.blocks[size_t(h.block)].qkv);
    REQUIRE(rows.size() == size_t(t) * 3 * inner);
    for (int i = 0; i < t; ++i) {
      std::vector<double> s(static_cast<size_t>(t), 0.0);
      double mx = -1e300, sum = 0;
      for (int j = 0; j < t; ++j) {
        double dot = 0;
        for (int c = 0; c < hd; ++c)
          dot += rows[size_t(i) * 3 * inner + size_t(h.head) * hd + c] *
                 rows[size_t(j) * 3 * inner + inner + size_t(h.head) * hd + c];
        s[size_t(j)] = dot * scale;
        mx = std::max(mx, s[size_t(j)]);
      }
      for (double& v : s) sum += (v = std::exp(v - mx));
      for (int j = 0; j < t; ++j)
        REQUIRE(h.probs[size_t(i) * t + j] == Approx(s[size_t(j)] / sum).margin(1e-5));
    }
  }
  // Observing changes no result; removing it stops the calls.
  REQUIRE(m.set_attention_observer(nullptr, nullptr) == VITRT_OK);
  REQUIRE(m.run(image.data(), image.size()) == VITRT_ERR_STATE);  // the plan changed: bind again
  Aligned plain(m.arena_size());
  REQUIRE(m.bind_arena(plain.data(), plain.size()) == VITRT_OK);
  seen.clear();
  REQUIRE(m.run(image.data(), image.size()) == VITRT_OK);
  REQUIRE(seen.empty());
  REQUIRE(std::vector<float>(m.logits(), m.logits() + o.num_classes) == logits);
}

}  // namespace

TEST_CASE("attention observer reports every head's probabilities", "[unit][observer]") {
  check_attention({}, 11);
  TinyOptions distilled;
  distilled.dist_token = true;
  check_attention(distilled, 12);
  TinyOptions post_norm;
  post_norm.norm_placement = 1;
  post_norm.heads = 1;
  post_norm.head_dim = 27;
  check_attention(post_norm, 13);
}

TEST_CASE("attention observer: arena and argument checks", "[unit][observer]") {
  const auto model = make_tiny({}, 3);
  Aligned file(vitrt::conv::write_model(model));
  vitrt::Model m;
  REQUIRE(m.open(file.data(), file.size()) == VITRT_OK);
  const size_t plain = m.arena_size();
  std::vector<Head> seen;
  REQUIRE(m.set_attention_observer(record, &seen) == VITRT_OK);
  vitrt_info info;
  REQUIRE(m.info(&info) == VITRT_OK);
  // One head's matrix at a time, not the whole block's.
  REQUIRE(m.arena_size() >= plain);
  REQUIRE(m.arena_size() <= plain + size_t(info.num_tokens) * info.num_tokens * 4 + 64);
  REQUIRE(vitrt_set_attention_observer(nullptr, record, nullptr) == VITRT_ERR_INVALID_ARGUMENT);
}
