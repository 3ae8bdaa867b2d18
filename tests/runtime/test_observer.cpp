// vitrt_set_observer: every Linear reported once per run, in order, with the
// input the reference forward pass gives that Linear and its own output.
#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include "quant/quantize.h"
#include "reference_vit.h"
#include "tiny_model.h"
#include "vitrt/vitrt.hpp"

using namespace vitrt::test;
using vitrt::conv::DType;
using vitrt::conv::Linear;

namespace {

struct Event {
  std::string name;
  int rows, in, out;
  std::vector<float> input, output;
};

void record(void* ctx, const vitrt_linear_event* e) {
  static_cast<std::vector<Event>*>(ctx)->push_back(
      {e->name, e->rows, e->in, e->out, std::vector<float>(e->input, e->input + size_t(e->rows) * e->in),
       std::vector<float>(e->output, e->output + size_t(e->rows) * e->out)});
}

// The names the C API documents, in forward order, written out by hand.
std::vector<std::pair<std::string, const Linear*>> expected_linears(const vitrt::conv::Model& m) {
  std::vector<std::pair<std::string, const Linear*>> out{{"patch_embed", &m.patch_embed}};
  for (size_t i = 0; i < m.blocks.size(); ++i) {
    const std::string b = "blocks." + std::to_string(i);
    out.push_back({b + ".qkv", &m.blocks[i].qkv});
    if (m.blocks[i].proj.weight.present()) out.push_back({b + ".proj", &m.blocks[i].proj});
    out.push_back({b + ".fc1", &m.blocks[i].fc1});
    out.push_back({b + ".fc2", &m.blocks[i].fc2});
  }
  for (size_t i = 0; i < m.pre_logits.size(); ++i)
    out.push_back({"pre_logits." + std::to_string(i), &m.pre_logits[i]});
  out.push_back({"head", &m.head});
  if (m.config.dist_token) out.push_back({"head_dist", &m.head_dist});
  return out;
}

std::vector<double> exact_linear(const Linear& l, const double* x) {
  const int out = l.weight.shape[0], in = l.weight.shape[1];
  std::vector<double> y(size_t(out), 0.0);
  for (int o = 0; o < out; ++o) {
    double s = l.bias.present() ? l.bias.data[size_t(o)] : 0.0;
    for (int k = 0; k < in; ++k) s += double(l.weight.data[size_t(o) * in + k]) * x[k];
    y[size_t(o)] = s;
  }
  return y;
}

// Opened model with an exact-size arena; observer set first when given.
struct Runner {
  Aligned file;
  vitrt::Model model;
  std::unique_ptr<Aligned> arena;
  Runner(const std::vector<uint8_t>& bytes, vitrt_observer_fn fn, void* ctx) : file(bytes) {
    REQUIRE(model.open(file.data(), file.size()) == VITRT_OK);
    if (fn) REQUIRE(model.set_observer(fn, ctx) == VITRT_OK);
    arena = std::make_unique<Aligned>(model.arena_size());
    REQUIRE(model.bind_arena(arena->data(), arena->size()) == VITRT_OK);
  }
  std::vector<float> run(const std::vector<float>& image, int classes) {
    REQUIRE(model.run(image.data(), image.size()) == VITRT_OK);
    return std::vector<float>(model.logits(), model.logits() + classes);
  }
};

void check_observed(const TinyOptions& o, DType dtype, uint32_t seed) {
  auto model = make_tiny(o, seed);
  const auto image = random_image(model, seed + 1);
  const std::vector<uint8_t> fp32_file = vitrt::conv::write_model(model);
  // Every input row the reference forward pass hands each Linear.
  std::map<const Linear*, std::vector<double>> ref_inputs;
  reference_logits(model, image, [&](const Linear& l, const std::vector<double>& x) {
    ref_inputs[&l].insert(ref_inputs[&l].end(), x.begin(), x.end());
    return exact_linear(l, x.data());
  });
  vitrt::conv::set_weight_dtype(model, dtype, {});
  const std::vector<uint8_t> file = vitrt::conv::write_model(model);

  std::vector<Event> events;
  Runner observed(file, record, &events);
  const auto logits = observed.run(image, o.num_classes);
  const auto expected = expected_linears(model);
  REQUIRE(events.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Event& e = events[i];
    const Linear& l = *expected[i].second;
    INFO("event " << i << " " << e.name << " dtype " << int(dtype));
    REQUIRE(e.name == expected[i].first);
    REQUIRE(e.in == l.weight.shape[1]);
    REQUIRE(e.out == l.weight.shape[0]);
    const std::vector<double>& want_in = ref_inputs.at(&l);
    REQUIRE(size_t(e.rows) * e.in == want_in.size());
    // Values only for fp32 weights: quantized Linears are test_quant_models.cpp's.
    if (dtype != DType::F32) continue;
    for (size_t k = 0; k < want_in.size(); ++k) REQUIRE(e.input[k] == Approx(want_in[k]).margin(1e-4).epsilon(1e-4));
    for (int r = 0; r < e.rows; ++r) {
      const std::vector<double> x(e.input.begin() + size_t(r) * e.in, e.input.begin() + size_t(r + 1) * e.in);
      const std::vector<double> y = exact_linear(l, x.data());
      for (int c = 0; c < e.out; ++c)
        REQUIRE(e.output[size_t(r) * e.out + c] == Approx(y[size_t(c)]).margin(1e-5).epsilon(1e-5));
    }
  }
  // Observing (proj and fc2 computed apart, then added) changes no result.
  Runner plain(file, nullptr, nullptr);
  REQUIRE(plain.run(image, o.num_classes) == logits);
  events.clear();
  REQUIRE(observed.run(image, o.num_classes) == logits);
  REQUIRE(events.size() == expected.size());  // once per run
}

}  // namespace

TEST_CASE("observer reports every Linear with its input and output", "[unit][observer]") {
  TinyOptions pre_logits;
  pre_logits.pre_logits = 11;
  pre_logits.pre_logits2 = 6;
  pre_logits.pre_logits_act = 2;
  TinyOptions distilled;
  distilled.dist_token = true;
  distilled.norm_placement = 1;  // post-norm: qkv reads the residual stream itself
  TinyOptions no_proj;
  no_proj.proj = false;
  no_proj.heads = 1;
  no_proj.head_dim = 27;
  for (const TinyOptions& o : {pre_logits, distilled, no_proj})
    for (DType dtype : {DType::F32, DType::F16, DType::I8}) check_observed(o, dtype, 7);
}

TEST_CASE("observer changes the arena plan and needs a new bind", "[unit][observer]") {
  const auto model = make_tiny({}, 3);
  Aligned file(vitrt::conv::write_model(model));
  vitrt::Model m;
  REQUIRE(m.open(file.data(), file.size()) == VITRT_OK);
  const size_t plain = m.arena_size();
  Aligned arena(plain);
  REQUIRE(m.bind_arena(arena.data(), arena.size()) == VITRT_OK);
  std::vector<Event> events;
  REQUIRE(m.set_observer(record, &events) == VITRT_OK);
  // kObserved may fit a gap of the plain plan, but the plan is new.
  const size_t observed = m.arena_size();
  REQUIRE(observed >= plain);
  const auto image = random_image(model, 4);
  REQUIRE(m.run(image.data(), image.size()) == VITRT_ERR_STATE);
  REQUIRE(m.bind_arena(arena.data(), observed - 64) == VITRT_ERR_ARENA_TOO_SMALL);
  REQUIRE(m.set_observer(nullptr, nullptr) == VITRT_OK);
  REQUIRE(m.arena_size() == plain);
  REQUIRE(m.bind_arena(arena.data(), arena.size()) == VITRT_OK);
  REQUIRE(m.run(image.data(), image.size()) == VITRT_OK);
  REQUIRE(events.empty());
  REQUIRE(vitrt_set_observer(nullptr, record, nullptr) == VITRT_ERR_INVALID_ARGUMENT);
}
