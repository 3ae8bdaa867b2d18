#include "linear.h"

#include "planner/planner.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

namespace s = schema;
using kernels::kPanelN;

template <typename T>
T* buffer(const State& st, Buffer b) {
  return reinterpret_cast<T*>(st.arena + st.offsets[b]);
}

const float* floats(const s::Tensor* t) {
  return t ? reinterpret_cast<const float*>(t->data()->Data()) : nullptr;
}

// Floats of float-GEMM weight scratch per task, rounded to the arena alignment.
size_t scratch_floats(const State& st) {
  const int32_t in = st.ops->f32_panel_scratch && st.panel_max_in > st.scratch_max_in
                         ? st.panel_max_in
                         : st.scratch_max_in;
  return static_cast<size_t>(planner::align_up(uint64_t{4} * kernels::gemm_scratch_floats(in)) / 4);
}

kernels::WeightFormat float_format(const s::Tensor& w) {
  const bool panel = w.layout() == s::WeightLayout::Panel16;
  if (w.dtype() == s::DType::F16)
    return panel ? kernels::WeightFormat::F16Panel16 : kernels::WeightFormat::F16RowMajor;
  return panel ? kernels::WeightFormat::F32Panel16 : kernels::WeightFormat::F32RowMajor;
}

struct LinearJob {
  const kernels::Ops* ops;
  const s::Tensor* w;
  int out, in;
  const float* x;       // F32 and F16 weights
  const int8_t* xq;     // I8 weights: quantized x and its row scales
  const float* x_scales;
  int m;
  float* y;
  kernels::Epilogue epilogue;
  int tasks;
  float* scratch;       // float weights: per task
  size_t scratch_stride;
};

// Task t computes a slice of output features in whole 16-column panels (the
// tile of every weight layout), so a split never changes a result.
void linear_task(void* ctx, int t) {
  const LinearJob& j = *static_cast<const LinearJob*>(ctx);
  const int panels = (j.out + kPanelN - 1) / kPanelN;
  const int n0 = panels * t / j.tasks * kPanelN;
  const int n1_panels = panels * (t + 1) / j.tasks * kPanelN;
  const int n1 = n1_panels < j.out ? n1_panels : j.out;
  if (n0 >= n1) return;
  const uint8_t* data = j.w->data()->Data();
  kernels::Epilogue e = j.epilogue;
  if (e.bias) e.bias += n0;
  float* y = j.y + n0;
  if (j.w->dtype() == s::DType::I8) {
    const size_t tile_row = size_t((j.in + kernels::kQs8TileK - 1) / kernels::kQs8TileK) *
                            kernels::kQs8TileK * kernels::kQs8TileN;
    const kernels::Qs8Weights w{reinterpret_cast<const int8_t*>(data) + n0 / kernels::kQs8TileN * tile_row,
                                j.w->scales()->data() + n0, j.w->channel_sums()->data() + n0};
    j.ops->gemm_qs8(j.xq, j.x_scales, j.m, j.in, w, n1 - n0, e, y, j.out);
    return;
  }
  // RowMajor and Panel16 both place column n0 at n0 * in elements.
  const size_t elem = j.w->dtype() == s::DType::F16 ? 2 : 4;
  const kernels::FloatWeights w{data + size_t(n0) * j.in * elem, float_format(*j.w)};
  j.ops->gemm(j.x, j.m, j.in, w, n1 - n0, e, y, j.out, j.scratch + j.scratch_stride * t);
}

// The input pass: optionally a LayerNorm of x into `normed`, optionally the
// int8 quantization of the (normalized) rows.
struct InputJob {
  const kernels::Ops* ops;
  const float* x;
  int m, k, tasks;
  const s::Norm* norm;  // null: none
  float eps;
  float* normed;
  bool quantize;
  float static_scale;
  int8_t* q;
  float* scales;
};

// Rows normalized and then quantized per chunk, so a chunk is still in L1
// when quantized (4 rows of 3072 floats: 48 KiB).
constexpr int kChunkRows = 4;

// Task t takes a slice of rows; every row is independent.
void input_task(void* ctx, int t) {
  const InputJob& j = *static_cast<const InputJob*>(ctx);
  const int r0 = j.m * t / j.tasks, r1 = j.m * (t + 1) / j.tasks;
  for (int c0 = r0; c0 < r1; c0 += kChunkRows) {
    const int rows = r1 - c0 < kChunkRows ? r1 - c0 : kChunkRows;
    const size_t at = size_t(c0) * j.k;
    const float* x = j.x + at;
    if (j.norm) {
      j.ops->layernorm(x, j.normed + at, rows, j.k, floats(j.norm->weight()), floats(j.norm->bias()),
                       j.eps);
      x = j.normed + at;
    }
    if (j.quantize) j.ops->quantize_qs8(x, rows, j.k, j.static_scale, j.q + at, j.scales + c0);
  }
}

void observe(const State& st, LinearId id, const LinearJob& j, const float* x, const float* y) {
  char name[48];
  Message msg(name, sizeof(name));
  msg << id.group;
  if (id.index >= 0) msg << "." << id.index;
  if (id.leaf) msg << "." << id.leaf;
  const vitrt_linear_event e{name, j.m, j.in, j.out, x, y};
  st.observer(st.observer_ctx, &e);
}

}  // namespace

uint64_t linear_buffer_bytes(const State& st, Buffer b) {
  const uint64_t rows = static_cast<uint64_t>(st.d.tokens);  // the most rows any Linear gets
  switch (b) {
    case kQuantX: return rows * static_cast<uint64_t>(st.i8_max_in);
    case kQuantScales: return st.i8_max_in ? rows * sizeof(float) : 0;
    case kWeightScratch: return sizeof(float) * scratch_floats(st) * st.threads;
    // Only proj and fc2 accumulate; both write dim columns.
    case kObserved: return st.observer ? rows * sizeof(float) * static_cast<uint64_t>(st.d.dim) : 0;
    default: return 0;
  }
}

void run_linear(const State& st, const s::Linear& l, LinearId id, const float* x, int m, float* y,
                bool accumulate, kernels::Act act, const PreNorm* pre) {
  const kernels::Ops& ops = *st.ops;
  const s::Tensor* w = l.weight();
  // Observed, an accumulating Linear writes its own output to kObserved and
  // adds it afterwards: the kernels compute y + (x W^T + b) the same way.
  const bool separate = st.observer && accumulate;
  float* out = separate ? buffer<float>(st, kObserved) : y;
  // Observed, the activation runs after the event: it reports x W^T + b.
  const kernels::Act fused = st.observer ? kernels::Act::None : act;
  // One row (the head) is too little work to share.
  const int tasks = m == 1 ? 1 : st.threads;
  const bool int8 = w->dtype() == s::DType::I8;
  const int in = w->shape()->Get(1);
  if (pre || int8) {
    // Normalized and quantized once, shared by every task.
    InputJob j{&ops, x, m, in, tasks, pre ? pre->norm : nullptr, pre ? pre->eps : 0.f,
               pre ? pre->normed : nullptr, int8, l.input_scale(), buffer<int8_t>(st, kQuantX),
               buffer<float>(st, kQuantScales)};
    if (tasks == 1) input_task(&j, 0);
    else run_tasks(st, input_task, &j);
    if (pre) x = pre->normed;
  }
  LinearJob job{&ops, w, w->shape()->Get(0), in, x, nullptr, nullptr, m, out,
                {floats(l.bias()), fused, accumulate && !separate}, tasks,
                buffer<float>(st, kWeightScratch), scratch_floats(st)};
  if (int8) {
    job.xq = buffer<int8_t>(st, kQuantX);
    job.x_scales = buffer<float>(st, kQuantScales);
  }
  if (tasks == 1) linear_task(&job, 0);
  else run_tasks(st, linear_task, &job);
  if (st.observer) {
    observe(st, id, job, x, out);
    if (act != kernels::Act::None) ops.activation(out, static_cast<size_t>(m) * job.out, act);
  }
  if (separate)
    for (size_t i = 0, n = static_cast<size_t>(m) * job.out; i < n; ++i) y[i] += out[i];
}

}  // namespace vitrt
