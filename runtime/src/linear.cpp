#include "linear.h"

#include "planner/planner.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

namespace s = schema;

// Floats of fp16 weight scratch per thread, rounded to the arena alignment.
size_t f16_scratch_floats(const State& st) {
  return static_cast<size_t>(
      planner::align_up(uint64_t{4} * kernels::kF16ScratchRows * st.f16_max_in) / 4);
}

template <typename T>
T* buffer(const State& st, Buffer b) {
  return reinterpret_cast<T*>(st.arena + st.offsets[b]);
}

const float* floats(const s::Tensor* t) {
  return t ? reinterpret_cast<const float*>(t->data()->Data()) : nullptr;
}

struct LinearJob {
  const kernels::Ops* ops;
  const s::Tensor* w;
  const float* bias;
  int out, in;
  const float* x;       // F32 and F16 weights
  const int8_t* xq;     // I8 weights: quantized x and its row scales
  const float* x_scales;
  int m;
  float* y;
  bool accumulate;
  int tasks;
  float* scratch;       // F16 weights: per task
  size_t scratch_stride;
};

// Task t computes a slice of output features, a multiple of the kernel's
// tile width (4 columns; 16 for the int8 tiles) so tiles stay whole.
void linear_task(void* ctx, int t) {
  const LinearJob& j = *static_cast<const LinearJob*>(ctx);
  const s::DType dtype = j.w->dtype();
  const int tile = dtype == s::DType::I8 ? kernels::kQs8TileN : 4;
  const int chunk = ((j.out + j.tasks - 1) / j.tasks + tile - 1) / tile * tile;
  const int n0 = t * chunk;
  const int n1 = n0 + chunk < j.out ? n0 + chunk : j.out;
  if (n0 >= n1) return;
  const uint8_t* data = j.w->data()->Data();
  const float* bias = j.bias ? j.bias + n0 : nullptr;
  float* y = j.y + n0;
  switch (dtype) {
    case s::DType::F16:
      j.ops->gemm_f16w(j.x, j.m, j.in, reinterpret_cast<const uint16_t*>(data) + size_t(n0) * j.in,
                       bias, n1 - n0, y, j.out, j.accumulate, j.scratch + j.scratch_stride * t);
      break;
    case s::DType::I8: {
      const size_t tile_row = size_t((j.in + kernels::kQs8TileK - 1) / kernels::kQs8TileK) *
                              kernels::kQs8TileK * kernels::kQs8TileN;
      const kernels::Qs8Weights w{reinterpret_cast<const int8_t*>(data) + n0 / kernels::kQs8TileN * tile_row,
                                  j.w->scales()->data() + n0, j.w->channel_sums()->data() + n0};
      j.ops->gemm_qs8(j.xq, j.x_scales, j.m, j.in, w, bias, n1 - n0, y, j.out, j.accumulate);
      break;
    }
    default:  // F32; open_model admits no other dtype
      j.ops->gemm(j.x, j.m, j.in, reinterpret_cast<const float*>(data) + size_t(n0) * j.in, bias,
                  n1 - n0, y, j.out, j.accumulate);
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
    case kWeightScratch: return sizeof(float) * f16_scratch_floats(st) * st.threads;
    // Only proj and fc2 accumulate; both write dim columns.
    case kObserved: return st.observer ? rows * sizeof(float) * static_cast<uint64_t>(st.d.dim) : 0;
    default: return 0;
  }
}

void run_linear(const State& st, const kernels::Ops& ops, const s::Linear& l, LinearId id,
                const float* x, int m, float* y, bool accumulate) {
  const s::Tensor* w = l.weight();
  // Observed, an accumulating Linear writes its own output to kObserved and
  // adds it afterwards: the kernels compute y + (x W^T + b) the same way.
  const bool separate = st.observer && accumulate;
  float* out = separate ? buffer<float>(st, kObserved) : y;
  LinearJob job{&ops, w, floats(l.bias()), w->shape()->Get(0), w->shape()->Get(1), x, nullptr,
                nullptr, m, out, accumulate && !separate, st.threads, nullptr, f16_scratch_floats(st)};
  if (w->dtype() == s::DType::F16) job.scratch = buffer<float>(st, kWeightScratch);
  if (w->dtype() == s::DType::I8) {
    // Quantized once, shared by every task.
    int8_t* xq = buffer<int8_t>(st, kQuantX);
    float* scales = buffer<float>(st, kQuantScales);
    ops.quantize_qs8(x, m, job.in, l.input_scale(), xq, scales);
    job.xq = xq;
    job.x_scales = scales;
  }
  // One row (the head) is too little work to share.
  if (m == 1 || st.threads == 1) {
    job.tasks = 1;
    linear_task(&job, 0);
  } else {
    run_tasks(st, linear_task, &job);
  }
  if (st.observer) observe(st, id, job, x, out);
  if (separate)
    for (size_t i = 0, n = static_cast<size_t>(m) * job.out; i < n; ++i) y[i] += out[i];
}

}  // namespace vitrt
