// Whole tiny fp16 / int8 models: against the fp32 model built from the same
// weights, and against the reference forward pass with an independent model
// of the quantized arithmetic (weights decoded from the file's bytes).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "kernels/kernels.h"
#include "quant/quantize.h"
#include "reference_vit.h"
#include "test_values.h"
#include "tiny_model.h"
#include "vitrt/vitrt_generated.h"

using namespace vitrt::test;
using vitrt::conv::DType;
namespace s = vitrt::schema;

namespace {

using Vec = std::vector<double>;

// The quantized Linears of a written file, keyed by the in-memory Linear they
// came from, and the LinearFn that computes them the way the schema says.
class QuantReference {
 public:
  QuantReference(const vitrt::conv::Model& m, const std::vector<uint8_t>& file) {
    const s::Model* f = s::GetModel(file.data());
    add(m.patch_embed, f->patch_embed());
    for (size_t i = 0; i < m.blocks.size(); ++i) {
      const s::Block* b = f->blocks()->Get(uint32_t(i));
      add(m.blocks[i].qkv, b->qkv());
      add(m.blocks[i].proj, b->proj());
      add(m.blocks[i].fc1, b->fc1());
      add(m.blocks[i].fc2, b->fc2());
    }
    for (size_t i = 0; i < m.pre_logits.size(); ++i) add(m.pre_logits[i], f->pre_logits()->Get(uint32_t(i)));
    add(m.head, f->head());
    add(m.head_dist, f->head_dist());
  }

  LinearFn fn() const {
    return [this](const vitrt::conv::Linear& l, const Vec& x) { return apply(linears_.at(&l), l, x); };
  }
  int count(s::DType dt) const {
    int n = 0;
    for (const auto& kv : linears_) n += kv.second.dtype == dt;
    return n;
  }

 private:
  struct Stored {
    s::DType dtype;
    std::vector<double> w;       // F32 / F16: decoded values; I8: the integers
    std::vector<float> scales;   // I8
    float input_scale;
  };

  void add(const vitrt::conv::Linear& l, const s::Linear* fl) {
    if (!fl) return;
    const s::Tensor* t = fl->weight();
    const int n = t->shape()->Get(0), k = t->shape()->Get(1);
    Stored st{t->dtype(), std::vector<double>(size_t(n) * k), {}, fl->input_scale()};
    const uint8_t* d = t->data()->Data();
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < k; ++c) {
        const size_t i = size_t(r) * k + c;
        // Panel16: [n/16][k][16], as the schema describes it.
        const size_t at = t->layout() == s::WeightLayout::Panel16 ? (size_t(r) / 16 * k + c) * 16 + r % 16 : i;
        if (st.dtype == s::DType::F16) {
          uint16_t h;
          std::memcpy(&h, d + 2 * at, 2);
          st.w[i] = half_value(h);
        } else if (st.dtype == s::DType::I8) {
          // [n/16][k/4][16][4], written out from the schema's description.
          const size_t k4 = size_t(k + 3) / 4;
          st.w[i] = int8_t(d[((r / 16 * k4 + c / 4) * 16 + r % 16) * 4 + c % 4]);
        } else {
          st.w[i] = l.weight.data[i];
        }
      }
    }
    if (t->scales()) st.scales.assign(t->scales()->begin(), t->scales()->end());
    linears_[&l] = std::move(st);
  }

  static Vec apply(const Stored& st, const vitrt::conv::Linear& l, const Vec& x) {
    const size_t n = l.weight.shape[0], k = l.weight.shape[1];
    Vec y(n);
    if (st.dtype != s::DType::I8) {
      for (size_t r = 0; r < n; ++r) {
        double sum = l.bias.present() ? l.bias.data[r] : 0.0;
        for (size_t c = 0; c < k; ++c) sum += st.w[r * k + c] * x[c];
        y[r] = sum;
      }
      return y;
    }
    // The int8 path in the float arithmetic the schema prescribes.
    std::vector<float> xf(x.begin(), x.end());
    float scale = st.input_scale;
    if (scale == 0.f) {
      float amax = 0.f;
      for (float v : xf) amax = std::max(amax, std::fabs(v));
      scale = amax > 0.f ? amax / 127.f : 1.f;
    }
    std::vector<int> q(k);
    for (size_t c = 0; c < k; ++c)
      q[c] = int(std::max(-127.f, std::min(127.f, std::round(xf[c] / scale))));
    for (size_t r = 0; r < n; ++r) {
      int64_t acc = 0;
      for (size_t c = 0; c < k; ++c) acc += int64_t(q[c]) * int64_t(st.w[r * k + c]);
      float v = float(acc) * (scale * st.scales[r]);
      if (l.bias.present()) v += l.bias.data[r];
      y[r] = v;
    }
    return y;
  }

  std::map<const vitrt::conv::Linear*, Stored> linears_;
};

std::vector<float> run(const std::vector<uint8_t>& file, const std::vector<float>& image, int threads = 1,
                       vitrt_parallel_fn parallel = nullptr) {
  std::vector<float> logits;
  std::string error;
  const vitrt_status st = open_and_run(file, image, &logits, &error, threads, parallel);
  INFO(error);
  REQUIRE(st == VITRT_OK);
  return logits;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

size_t argmax(const std::vector<float>& v) { return size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// The kernel set vitrt_open picks (VITRT_KERNELS, else the default).
const vitrt::kernels::Ops& in_use() {
  const char* name = std::getenv("VITRT_KERNELS");
  const vitrt::kernels::Ops* ops =
      name && *name ? vitrt::kernels::find_ops(name, nullptr) : &vitrt::kernels::default_ops();
  REQUIRE(ops);  // main() skipped unsupported sets
  return *ops;
}

// Whether that set computes int8 blocks' attention in bf16.
bool bf16_attention() { return in_use().attention_bf16 != nullptr; }

// The runtime on `m` against the quantized reference (tolerance `tol`,
// relative to the largest logit).
std::vector<float> check_quant_reference(const vitrt::conv::Model& m, const std::vector<float>& image,
                                         double tol) {
  const auto file = vitrt::conv::write_model(m);
  Aligned aligned(file);
  const QuantReference ref(m, std::vector<uint8_t>(aligned.data(), aligned.data() + file.size()));
  const std::vector<float> got = run(file, image);
  const Vec want = reference_logits(m, image, ref.fn(), bf16_attention());
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("logit " << i << " of " << want.size() << ", logit scale " << scale);
    REQUIRE(std::fabs(got[i] - want[i]) <= tol * scale);
  }
  return got;
}

TinyOptions variant(int i) {
  TinyOptions o;
  o.dim = 40;  // qkv 3 * 27 = 81 and dim 40 span several 16-row tiles
  if (i == 1) o.dist_token = true;
  if (i == 2) {
    o.pre_logits = 19;
    o.pre_logits_act = 4;
    o.pooling = 1;
    o.fc_norm = true;
    o.final_norm = false;
  }
  if (i == 3) {
    o.proj = false;
    o.dim = 27;
    o.patch_norm_in = o.patch_norm_out = true;
    o.biases = false;
  }
  return o;
}

}  // namespace

TEST_CASE("fp16 models match the fp32 model and the fp16 reference", "[unit][quant]") {
  for (int v = 0; v < 4; ++v) {
    auto model = make_tiny(variant(v), 40 + v);
    const auto image = random_image(model, 50 + v);
    const std::vector<float> fp32 = run(vitrt::conv::write_model(model), image);
    vitrt::conv::set_weight_dtype(model, DType::F16, {});
    const std::vector<float> fp16 = check_quant_reference(model, image, 1e-5);
    double scale = 0, err = 0;
    for (size_t i = 0; i < fp32.size(); ++i) {
      scale = std::max(scale, double(std::fabs(fp32[i])));
      err = std::max(err, double(std::fabs(fp16[i] - fp32[i])));
    }
    INFO("variant " << v << ": max error " << err << ", logit scale " << scale);
    REQUIRE(err <= 1e-3 * scale);
  }
}

TEST_CASE("int8 models match the exact int8 reference and track the fp32 model", "[unit][quant]") {
  for (int v = 0; v < 4; ++v) {
    auto model = make_tiny(variant(v), 60 + v);
    const auto fp32_file = vitrt::conv::write_model(model);
    vitrt::conv::set_weight_dtype(model, DType::I8, {});
    for (uint32_t seed = 0; seed < 3; ++seed) {
      const auto image = random_image(model, 70 + 10 * v + seed);
      const std::vector<float> fp32 = run(fp32_file, image);
      const std::vector<float> int8 = check_quant_reference(model, image, 1e-5);
      INFO("variant " << v << " image " << seed << ": cosine " << cosine(fp32, int8));
      REQUIRE(cosine(fp32, int8) >= 0.99);
      REQUIRE(argmax(int8) == argmax(fp32));
    }
  }
}

TEST_CASE("static input scales and --keep-float layers run as the reference says", "[unit][quant]") {
  auto model = make_tiny(variant(0), 80);
  const auto image = random_image(model, 81);
  vitrt::conv::set_weight_dtype(model, DType::I8, {"blocks.1", "fc2", "head"});
  model.blocks[0].qkv.input_scale = 0.05f;  // LN outputs reach ~3: some inputs clamp
  model.blocks[0].fc1.input_scale = 0.02f;
  model.patch_embed.input_scale = 0.03f;
  const auto file = vitrt::conv::write_model(model);
  Aligned aligned(file);
  const QuantReference ref(model, std::vector<uint8_t>(aligned.data(), aligned.data() + file.size()));
  REQUIRE(ref.count(s::DType::I8) == 4);  // patch_embed, blocks[0] qkv proj fc1
  REQUIRE(ref.count(s::DType::F32) == 6);  // blocks[0].fc2, blocks[1] x 4, head
  check_quant_reference(model, image, 1e-5);
}

TEST_CASE("quantized models give the same logits on any thread count", "[unit][quant]") {
  auto pool = [](void*, vitrt_task_fn fn, void* ctx, int ntasks) {
    std::vector<std::thread> threads;
    for (int t = 0; t < ntasks; ++t) threads.emplace_back(fn, ctx, t);
    for (auto& t : threads) t.join();
  };
  for (DType dt : {DType::F16, DType::I8}) {
    auto model = make_tiny(variant(0), 90);
    vitrt::conv::set_weight_dtype(model, dt, {});
    const auto file = vitrt::conv::write_model(model);
    const auto image = random_image(model, 91);
    const std::vector<float> one = run(file, image);
    for (int threads : {2, 3, 5}) REQUIRE(run(file, image, threads, pool) == one);
  }
}

TEST_CASE("the arena holds the int8 and fp16 buffers exactly when needed", "[unit][quant]") {
  auto size_of = [](const std::vector<uint8_t>& file) {
    Aligned bytes(file);
    vitrt_model m;
    REQUIRE(vitrt_open(&m, bytes.data(), bytes.size()) == VITRT_OK);
    return vitrt_arena_size(&m);
  };
  auto model = make_tiny(variant(0), 95);
  const size_t fp32 = size_of(vitrt::conv::write_model(model));
  vitrt::conv::set_weight_dtype(model, DType::F16, {});
  const size_t fp16 = size_of(vitrt::conv::write_model(model));
  vitrt::conv::set_weight_dtype(model, DType::I8, {});
  const size_t int8 = size_of(vitrt::conv::write_model(model));
  // Widest Linear input: dim 40. fp32 weights are read in place (Panel16)
  // unless the set packs them (xnnpack); fp16: the float GEMM's scratch for
  // k = 40; int8: 13 tokens x 40 int8 inputs plus 13 scales; each 64-byte
  // aligned.
  const size_t scratch = (4 * vitrt::kernels::gemm_scratch_floats(40) + 63) / 64 * 64;
  const size_t fp32_scratch = in_use().f32_panel_scratch ? scratch : 0;
  REQUIRE(fp16 == fp32 - fp32_scratch + scratch);
  REQUIRE(int8 == fp32 - fp32_scratch + 64 * ((13 * 40 + 63) / 64) + 64);
}
