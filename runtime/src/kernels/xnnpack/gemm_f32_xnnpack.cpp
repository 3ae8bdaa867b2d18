// fp32 GEMM through XNNPACK's fully-connected operator, the way the runtime
// calls a GemmFn: no operator outlives a call, so each 16-column panel is
// one create (XNNPACK packs the panel) + setup + run + delete, its memory
// (operator, packed panel) bump-allocated from the caller's per-task scratch,
// which the arena already holds (gemm_scratch_floats): no heap, no thread
// pool (XNNPACK runs on the calling thread; our pool splits the columns).
//
// F32Panel16: a panel is a k x 16 block, XNNPACK's transposed ([in][out])
// weights at 16 outputs, zero padding included. F32RowMajor: rows j.. of
// [n][k]. F16 weights go to the base set: XNNPACK's f16 on x86 is emulated
// and loses accuracy. Bias goes into XNNPACK's packing. A residual add, and
// a Panel16 panel cut short by n, go through row blocks in the scratch left
// after create; GELU is the base's, on the panel just written.
//
// XNNPACK may read XNN_EXTRA_BYTES past an input; its x86 f32 GEMM
// microkernels (*_broadcast, *_load1) read x one element at a time, so the
// arena's x needs no padding.
//
// Determinism: a column's value is XNNPACK's microkernel chain over k for
// that column (bias first), whatever the panel split or row block.
#include <math.h>
#include <xnnpack.h>

#include "kernels/xnnpack/xnnpack_kernels.h"

namespace vitrt::kernels {
namespace {

// An operator (~2 KiB in Debian's XNNPACK) + one packed panel (16 (k + 1)
// floats) + a row block must fit the scratch; else the base runs the GEMM
// (k < ~24), without XNNPACK failing first.
bool fits(int k) { return 4 * gemm_scratch_floats(k) >= size_t(64) * (k + 1) + 4096 + 1024; }

// One panel: columns [0, cols) of y (w, bias, y at the panel). False when
// XNNPACK refused it before writing anything.
bool run_panel(const float* x, int m, int k, const float* w, bool panel16, int cols,
               const float* bias, const Epilogue& e, float* y, int ldy, float* scratch) {
  const int outs = panel16 ? kPanelN : cols;
  const bool direct = !e.accumulate && outs == cols;
  float padded[kPanelN];  // XNNPACK reads `outs` bias values
  if (bias && outs > cols) {
    for (int c = 0; c < kPanelN; ++c) padded[c] = c < cols ? bias[c] : 0.f;
    bias = padded;
  }
  xnnpack_region(scratch, 4 * gemm_scratch_floats(k));
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(size_t(k), size_t(outs), size_t(k),
                                        direct ? size_t(ldy) : size_t(kPanelN), w, bias,
                                        -INFINITY, INFINITY,
                                        panel16 ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0,
                                        &op) != xnn_status_success) {
    xnnpack_region(nullptr, 0);
    return false;
  }
  void* rest;
  const int block_rows = int(xnnpack_region_left(&rest) / (sizeof(float) * kPanelN));
  xnnpack_region(nullptr, 0);  // setup and run allocate nothing
  bool ok = true;
  if (direct) {
    ok = xnn_setup_fully_connected_nc_f32(op, size_t(m), x, y, nullptr) == xnn_status_success &&
         xnn_run_operator(op, nullptr) == xnn_status_success;
  } else {
    // Setup checks only the operator and the batch size: the first block
    // passing, every later one does, so a failure never leaves a partial y.
    float* block = static_cast<float*>(rest);
    ok = block_rows > 0;
    for (int i = 0; ok && i < m; i += block_rows) {
      const int rows = m - i < block_rows ? m - i : block_rows;
      ok = xnn_setup_fully_connected_nc_f32(op, size_t(rows), x + size_t(i) * k, block,
                                            nullptr) == xnn_status_success &&
           xnn_run_operator(op, nullptr) == xnn_status_success;
      for (int r = 0; ok && r < rows; ++r) {
        const float* o = block + size_t(r) * kPanelN;
        float* yr = y + size_t(i + r) * ldy;
        for (int c = 0; c < cols; ++c) yr[c] = e.accumulate ? yr[c] + o[c] : o[c];
      }
    }
  }
  xnn_delete_operator(op);
  return ok;
}

}  // namespace

void gemm_f32_xnnpack(const float* x, int m, int k, const FloatWeights& w, int n,
                      const Epilogue& e, float* y, int ldy, float* scratch) {
  const bool panel16 = w.format == WeightFormat::F32Panel16;
  if (m <= 0 || n <= 0 || k <= 0) return;
  if (!(panel16 || w.format == WeightFormat::F32RowMajor) || !fits(k))
    return xnnpack_base().gemm(x, m, k, w, n, e, y, ldy, scratch);
  const float* wf = static_cast<const float*>(w.data);
  for (int j = 0; j < n; j += kPanelN) {
    const int cols = n - j < kPanelN ? n - j : kPanelN;
    // Both formats place column j at j * k floats.
    if (!run_panel(x, m, k, wf + size_t(j) * k, panel16, cols, e.bias ? e.bias + j : nullptr, e,
                   y + j, ldy, scratch)) {
      Epilogue rest = e;
      if (rest.bias) rest.bias += j;
      return xnnpack_base().gemm(x, m, k, {wf + size_t(j) * k, w.format}, n - j, rest, y + j, ldy,
                                 scratch);
    }
    if (e.act != Act::None)
      for (int i = 0; i < m; ++i)
        xnnpack_base().activation(y + size_t(i) * ldy + j, size_t(cols), e.act);
  }
}

}  // namespace vitrt::kernels
