// The stem up to patch_embed: one row per grid cell (raster order) holding
// what the patch_embed Linear reads for that cell.
//   Patchify: the cell's patch_h x patch_w pixels of every channel, in
//             (c, p, q) order like a Conv2d kernel.
//   ConvStem: the cell's channel vector after stem_convs; patch_embed is
//             then the stem's final 1x1 convolution.
#include "kernels/kernels.h"
#include "state.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

namespace s = schema;

const float* weights(const s::Tensor* t) {
  return t ? reinterpret_cast<const float*>(t->data()->Data()) : nullptr;
}

void patchify(const Dims& d, const float* input, float* rows) {
  float* dst = rows;
  for (int32_t gy = 0; gy < d.grid_h; ++gy)
    for (int32_t gx = 0; gx < d.grid_w; ++gx)
      for (int32_t c = 0; c < d.channels; ++c)
        for (int32_t p = 0; p < d.patch_h; ++p) {
          const float* row =
              input + (static_cast<size_t>(c) * d.image_h + gy * d.patch_h + p) * d.image_w +
              gx * d.patch_w;
          for (int32_t q = 0; q < d.patch_w; ++q) *dst++ = row[q];
        }
}

struct ConvJob {
  const kernels::Ops* ops;
  const float* x;
  int cin, h, w;
  const float* weight;
  const float* bias;
  int cout, kh, kw, stride, pad;
  bool relu;
  float* y;
  int oh, ow, tasks;
};

// Task t computes a contiguous slice of output channels.
void conv_task(void* ctx, int t) {
  const ConvJob& j = *static_cast<const ConvJob*>(ctx);
  const int o0 = j.cout * t / j.tasks, o1 = j.cout * (t + 1) / j.tasks;
  if (o0 < o1)
    j.ops->conv2d(j.x, j.cin, j.h, j.w, j.weight, j.bias, j.kh, j.kw, j.stride, j.pad, j.y, j.oh,
                  j.ow, o0, o1, j.relu);
}

// Conv i writes the ping buffer for even i, pong for odd i; model.cpp sized
// both and checked that the last map is the grid_h x grid_w token grid.
void conv_stem(const State& st, const float* input, float* rows) {
  const auto* convs = st.model->stem_convs();
  float* maps[2] = {reinterpret_cast<float*>(st.arena + st.offsets[kStemA]),
                    reinterpret_cast<float*>(st.arena + st.offsets[kStemB])};
  ConvJob j = {};
  j.ops = st.ops;
  j.x = input;
  j.cin = st.d.channels;
  j.h = st.d.image_h;
  j.w = st.d.image_w;
  j.tasks = st.threads;
  for (uint32_t i = 0; i < convs->size(); ++i) {
    const s::Conv2d* cv = convs->Get(i);
    const auto* shape = cv->weight()->shape();
    j.weight = weights(cv->weight());
    j.bias = weights(cv->bias());
    j.cout = shape->Get(0);
    j.kh = shape->Get(2);
    j.kw = shape->Get(3);
    j.stride = cv->stride();
    j.pad = cv->padding();
    j.relu = cv->relu();
    j.y = maps[i % 2];
    j.oh = (j.h + 2 * j.pad - j.kh) / j.stride + 1;
    j.ow = (j.w + 2 * j.pad - j.kw) / j.stride + 1;
    run_tasks(st, conv_task, &j);
    j.x = j.y;
    j.cin = j.cout;
    j.h = j.oh;
    j.w = j.ow;
  }
  // [channels, cells] -> [cells, channels].
  const int32_t cells = st.d.patches, channels = j.cin;
  for (int32_t cell = 0; cell < cells; ++cell)
    for (int32_t c = 0; c < channels; ++c)
      rows[static_cast<size_t>(cell) * channels + c] = j.x[static_cast<size_t>(c) * cells + cell];
}

}  // namespace

void stem_rows(const State& st, const float* input, float* rows) {
  if (st.d.conv_stem) {
    conv_stem(st, input, rows);
  } else {
    patchify(st.d, input, rows);
  }
}

}  // namespace vitrt
