// The ViT forward pass over the planned arena: stem, tokens, blocks, head.
#include "kernels/kernels.h"
#include "linear.h"
#include "planner/planner.h"
#include "state.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

namespace s = schema;
using kernels::Act;
using kernels::Ops;

// Step numbers of the forward pass, for buffer lifetimes. Every block reuses
// the same steps 2..6: blocks run one after another.
enum Step : int { kStemConvs, kStem, kQkvStep, kAttnStep, kProjStep, kNormBStep, kMlpStep, kPoolStep,
                  kPreLogitsStep, kHeadStep, kDone };

const float* weights(const s::Tensor* t) {
  return t ? reinterpret_cast<const float*>(t->data()->Data()) : nullptr;
}

struct AttnJob {
  kernels::AttentionFn attention;
  const Dims* d;
  const float* qkv;
  float* out;
  float* scratch;
  size_t scratch_stride;
  int tasks;
};

// Task t takes a slice of query rows, every head: rows are independent, so
// the split never changes a result.
void attention_task(void* ctx, int t) {
  const AttnJob& a = *static_cast<const AttnJob*>(ctx);
  const Dims& d = *a.d;
  const int r0 = d.tokens * t / a.tasks, r1 = d.tokens * (t + 1) / a.tasks;
  if (r0 < r1)
    a.attention(a.qkv, a.out, a.scratch + a.scratch_stride * t, d.tokens, d.heads, d.head_dim,
                     d.attn_scale, r0, r1);
}

struct NormJob {
  const Ops* ops;
  const float* x;
  float* y;
  int rows, dim, tasks;
  const float *gamma, *beta;
  float eps;
};

// Task t normalizes a slice of rows; every row is independent.
void layernorm_task(void* ctx, int t) {
  const NormJob& n = *static_cast<const NormJob*>(ctx);
  const int r0 = n.rows * t / n.tasks, r1 = n.rows * (t + 1) / n.tasks;
  const size_t at = size_t(r0) * n.dim;
  if (r0 < r1) n.ops->layernorm(n.x + at, n.y + at, r1 - r0, n.dim, n.gamma, n.beta, n.eps);
}

// Floats of attention scratch per thread, rounded to the arena alignment.
size_t scratch_floats(const Dims& d) {
  return static_cast<size_t>(
      planner::align_up(uint64_t{4} * kernels::attention_scratch_floats(d.tokens, d.head_dim)) / 4);
}

class Forward {
 public:
  explicit Forward(State& st) : st_(st), d_(st.d), m_(*st.model), ops_(*st.ops) {}

  void run(const float* input) {
    stem(input);
    for (int32_t i = 0; i < d_.depth; ++i) block(*m_.blocks()->Get(i), i);
    head();
  }

 private:
  float* buf(Buffer b) const { return reinterpret_cast<float*>(st_.arena + st_.offsets[b]); }

  void gemm(const float* x, int m, const s::Linear* l, LinearId id, float* y, bool accumulate,
            Act act = Act::None, const PreNorm* pre = nullptr) const {
    run_linear(st_, *l, id, x, m, y, accumulate, act, pre);
  }

  void layernorm(const float* x, float* y, int rows, const s::Norm* n) const {
    const int tasks = rows == 1 ? 1 : st_.threads;
    NormJob job{&ops_, x, y, rows, n->weight()->shape()->Get(0), tasks, weights(n->weight()),
                weights(n->bias()), d_.eps};
    if (tasks == 1) layernorm_task(&job, 0);
    else run_tasks(st_, layernorm_task, &job);
  }

  static void add(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) y[i] += x[i];
  }

  void stem(const float* input) {
    float* patches = buf(kPatches);
    float* x = buf(kTokens);
    float* x_patches = x + static_cast<size_t>(d_.prefix) * d_.dim;
    stem_rows(st_, input, patches);
    if (m_.patch_norm_in()) layernorm(patches, patches, d_.patches, m_.patch_norm_in());
    gemm(patches, d_.patches, m_.patch_embed(), {"patch_embed", -1, nullptr}, x_patches, false);
    if (m_.patch_norm_out()) layernorm(x_patches, x_patches, d_.patches, m_.patch_norm_out());

    const float* pos = weights(m_.pos_embed());
    const size_t dim = static_cast<size_t>(d_.dim);
    if (pos && d_.pos_patches_only) add(x_patches, pos, dim * d_.patches);
    float* prefix = x;
    if (d_.class_token) {
      const float* cls = weights(m_.cls_token());
      for (size_t i = 0; i < dim; ++i) prefix[i] = cls[i];
      prefix += dim;
    }
    if (d_.dist_token) {
      const float* dist = weights(m_.dist_token());
      for (size_t i = 0; i < dim; ++i) prefix[i] = dist[i];
    }
    if (pos && !d_.pos_patches_only) add(x, pos, dim * d_.tokens);
  }

  // x += proj(attention(qkv(pre(in)))).
  void attention(const s::Block& b, int32_t i, const float* in, const PreNorm* pre) const {
    float* qkv = buf(kQkv);
    float* attn = buf(kAttn);
    gemm(in, d_.tokens, b.qkv(), {"blocks", i, "qkv"}, qkv, false, Act::None, pre);
    // An int8 block takes the set's bf16 attention when it has one: its
    // rounding is finer than the int8 Linears' around it.
    const bool int8 = b.qkv()->weight()->dtype() == s::DType::I8;
    const kernels::AttentionFn fn =
        int8 && ops_.attention_bf16 ? ops_.attention_bf16 : ops_.attention;
    AttnJob job{fn, &d_, qkv, attn, buf(kScratch), scratch_floats(d_), st_.threads};
    run_tasks(st_, attention_task, &job);
    if (st_.attention_observer) observe_attention(st_, i, qkv, buf(kAttnProbs));
    if (b.proj()) {
      gemm(attn, d_.tokens, b.proj(), {"blocks", i, "proj"}, buf(kTokens), true);
    } else {
      add(buf(kTokens), attn, static_cast<size_t>(d_.tokens) * d_.dim);
    }
  }

  // x += fc2(act(fc1(pre(in)))).
  void mlp(const s::Block& b, int32_t i, const float* in, const PreNorm* pre) const {
    float* hidden = buf(kHidden);
    gemm(in, d_.tokens, b.fc1(), {"blocks", i, "fc1"}, hidden, false, static_cast<Act>(d_.mlp_act),
         pre);
    gemm(hidden, d_.tokens, b.fc2(), {"blocks", i, "fc2"}, buf(kTokens), true);
  }

  void block(const s::Block& b, int32_t i) const {
    float* x = buf(kTokens);
    const int t = d_.tokens;
    if (d_.post_norm) {
      attention(b, i, x, nullptr);
      layernorm(x, x, t, b.norm1());
      mlp(b, i, x, nullptr);
      layernorm(x, x, t, b.norm2());
    } else {
      const PreNorm norm1{b.norm1(), d_.eps, buf(kNormA)}, norm2{b.norm2(), d_.eps, buf(kNormB)};
      attention(b, i, x, &norm1);
      mlp(b, i, x, &norm2);
    }
  }

  void head() const {
    float* x = buf(kTokens);
    float* logits = buf(kLogits);
    const size_t dim = static_cast<size_t>(d_.dim);
    if (m_.norm()) layernorm(x, x, d_.tokens, m_.norm());
    if (d_.dist_token) {
      float* dist = buf(kLogitsDist);
      gemm(x, 1, m_.head(), {"head", -1, nullptr}, logits, false);
      gemm(x + dim, 1, m_.head_dist(), {"head_dist", -1, nullptr}, dist, false);
      for (int32_t i = 0; i < d_.num_classes; ++i) logits[i] = 0.5f * (logits[i] + dist[i]);
      return;
    }
    float* pooled = buf(kPooled);
    const auto pooling = static_cast<s::Pooling>(d_.pooling);
    const int32_t first = pooling == s::Pooling::MeanPatches ? d_.prefix : 0;
    const int32_t count = pooling == s::Pooling::ClassToken ? 1 : d_.tokens - first;
    for (size_t i = 0; i < dim; ++i) pooled[i] = 0.f;
    for (int32_t r = first; r < first + count; ++r) add(pooled, x + r * dim, dim);
    const float inv = 1.f / static_cast<float>(count);
    for (size_t i = 0; i < dim; ++i) pooled[i] *= inv;
    if (m_.fc_norm()) layernorm(pooled, pooled, 1, m_.fc_norm());
    // pre_logits layers alternate between the two halves of kFeatures.
    const float* features = pooled;
    for (uint32_t i = 0; m_.pre_logits() && i < m_.pre_logits()->size(); ++i) {
      const s::Linear* l = m_.pre_logits()->Get(i);
      float* f = buf(kFeatures) + (i % 2) * static_cast<size_t>(d_.pre_logits_width);
      gemm(features, 1, l, {"pre_logits", static_cast<int32_t>(i), nullptr}, f, false,
           static_cast<Act>(d_.pre_logits_act));
      features = f;
    }
    gemm(features, 1, m_.head(), {"head", -1, nullptr}, logits, false);
  }

  State& st_;
  const Dims& d_;
  const s::Model& m_;
  const Ops& ops_;
};

}  // namespace

bool plan_arena(const State& st, uint64_t offsets[kNumBuffers], uint64_t* total) {
  const Dims& d = st.d;
  const uint64_t f = sizeof(float), t = d.tokens, pre = d.post_norm ? 0 : 1;
  planner::BufferRequest req[kNumBuffers] = {};
  req[kStemA] = {f * d.stem_floats[0], kStemConvs, kStemConvs};
  req[kStemB] = {f * d.stem_floats[1], kStemConvs, kStemConvs};
  req[kPatches] = {f * d.patches * d.patch_len, kStemConvs, kStem};
  req[kTokens] = {f * t * d.dim, kStem, kHeadStep};
  req[kNormA] = {pre * f * t * d.dim, kQkvStep, kQkvStep};
  req[kQkv] = {f * t * 3 * d.inner, kQkvStep, kAttnStep};
  req[kScratch] = {f * scratch_floats(d) * st.threads, kAttnStep, kAttnStep};
  req[kAttn] = {f * t * d.inner, kAttnStep, kProjStep};
  req[kNormB] = {pre * f * t * d.dim, kNormBStep, kMlpStep};
  req[kHidden] = {f * t * d.mlp_dim, kMlpStep, kMlpStep};
  req[kPooled] = {f * d.dim, kPoolStep, kHeadStep};  // head reads it without pre_logits
  const auto* pre_logits = st.model->pre_logits();
  const uint64_t halves = pre_logits && pre_logits->size() > 1 ? 2 : 1;
  req[kFeatures] = {f * halves * d.pre_logits_width, kPreLogitsStep, kHeadStep};
  req[kLogits] = {f * d.num_classes, kHeadStep, kDone};
  req[kLogitsDist] = {d.dist_token ? f * d.num_classes : 0, kHeadStep, kHeadStep};
  // Used by any Linear, from the stem to the head.
  for (Buffer b : {kQuantX, kQuantScales, kWeightScratch})
    req[b] = {linear_buffer_bytes(st, b), kStem, kHeadStep};
  req[kObserved] = {linear_buffer_bytes(st, kObserved), kProjStep, kMlpStep};
  req[kAttnProbs] = {st.attention_observer ? f * t * t : 0, kAttnStep, kAttnStep};

  const planner::GreedyPlanner greedy;
  return greedy.plan(req, kNumBuffers, offsets, total) && *total <= SIZE_MAX;
}

void run_vit(State& st, const float* input) { Forward(st).run(input); }

void run_tasks(const State& st, vitrt_task_fn fn, void* ctx) {
  if (st.threads > 1) {
    st.parallel(st.pool, fn, ctx, st.threads);
  } else {
    fn(ctx, 0);
  }
}

}  // namespace vitrt
