// Int8 GEMM (GemmQs8Fn) with AMX (tdpbssd, s8 x s8 -> s32) over Blocked16x4
// weights.
//
// Microkernel qs8_gemm_32x32_amx: 32 rows x 32 columns as 2x2 C tiles of 16x16
// int32 (tmm0-3), two A tiles of 16 rows x 64 k (tmm4-5) and two B tiles of
// 64 k x 16 columns (tmm6-7); per 64 k: 4 tile loads, 4 tdpbssd. Tails:
// qs8_gemm_32x16_amx, qs8_gemm_16x32_amx, qs8_gemm_16x16_amx (one template)
// and qs8_gemm_16xN_staged_amx for m < 16.
//
// A 16-column Blocked16x4 block holds, per 64 k, exactly one B tile in VNNI
// order (16 rows of 64 bytes, 1 KiB), so B tiles load straight from the model
// data with stride 64 and A tiles straight from xq with stride k (both should
// be 64-byte aligned: a tile row across two cache lines costs about 2x).
// Loop order, chosen by k:
// - k <= 1024: super-panels of columns whose weights fit in L2 (~640 KiB);
//   per panel, row blocks outside and 32-column blocks inside, so the A rows
//   of a row block stay in L1 and y is written in long row runs.
// - larger k: 32-column blocks outside, row blocks inside (the B panel is
//   reused from cache by all rows); the y lines of a block are claimed with
//   PREFETCHW while its tiles run, as strided y stores otherwise stall.
// Tails never read outside the buffers:
// - M: rows past the last whole 32-row block are computed by a 16- or 32-row
//   block shifted back to end at row m (recomputing a few rows, written
//   once); m < 16 copies the rows into a zero-padded tile buffer per step.
// - K: the last k % 64 values of A and the last B rows of the block are
//   copied into zero-padded stack tiles (zero B rows cancel whatever A holds).
// - N: the layout pads the weights to 16 columns; the epilogue masks stores.
// The tile config (amx_tiles.h) is loaded once per call. The platform layer
// has already asked Linux for the tile state (arch_prctl), so this file never
// does.
//
// Epilogue: C tiles go to an int32 stack buffer and are dequantized with
// AVX-512 exactly as the reference does (no compensation: s8 x s8).

#include <string.h>

#include "kernels/x86/amx_tiles.h"
#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kTileRows = 16;      // rows of an A / C tile
constexpr int kTileK = 64;         // k per A tile row / B tile
constexpr int kBTileBytes = 1024;  // one B tile: 64 k x 16 columns
// Up to this k a 32-row A block (32 x k bytes) stays in L1, so the loop runs
// row blocks outside and streams the weights of an L2-sized super-panel.
constexpr int kRowOuterMaxK = 1024;
constexpr size_t kPanelBytes = 640 * 1024;  // weights of one super-panel

// Keeps a product in a register so GCC cannot contract it with the next add
// into an FMA (the reference rounds the product and the sum separately).
inline __m512 rounded(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

inline __mmask16 lanes(int count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

// PREFETCHW: a NOP on CPUs without it; every AMX CPU has it.
inline void prefetchw(const float* p) { __asm__ volatile("prefetchw %0" : : "m"(*p)); }

// The k-tail operands of one block: staged A rows (16 * MT rows of 64 bytes)
// and staged B tiles (NT of them), or null when k % 64 == 0.
struct Tail {
  const int8_t* a;
  const int8_t* b;
};

// y lines the epilogue will write, claimed while the tiles run: the y
// stores of a column-strip order otherwise stall on their ownership reads.
struct WritePrefetch {
  const float* p;
  size_t ldy;
  int rows, lines;  // lines of 16 floats per row; rows = 0: none
};

// C[16 MT][16 NT] = A . B: nk full 64-k steps read in place (A rows of stride
// lda, B blocks ldb bytes apart), then the staged tail; C stored with stride
// 32 int32 to c.
template <int MT, int NT>
void qs8_gemm_tiles_amx(const int8_t* a, size_t lda, const int8_t* b, size_t ldb, int nk,
                        const Tail& tail, int32_t* c, const WritePrefetch& pf) {
  _tile_zero(0);
  if (NT == 2) _tile_zero(1);
  if (MT == 2) _tile_zero(2);
  if (MT == 2 && NT == 2) _tile_zero(3);
  const int8_t* a1 = MT == 2 ? a + kTileRows * lda : a;  // never past the rows
  const int per_step = nk > 0 ? (pf.rows * pf.lines + nk - 1) / nk : 0;
  int pr = 0, pl = 0;  // next line to prefetch
  for (int s = 0; s < nk; ++s) {
    _tile_loadd(4, a + s * kTileK, lda);
    _tile_loadd(6, b + s * kBTileBytes, 64);
    _tile_dpbssd(0, 4, 6);
    if (NT == 2) {
      _tile_loadd(7, b + ldb + s * kBTileBytes, 64);
      _tile_dpbssd(1, 4, 7);
    }
    if (MT == 2) {
      _tile_loadd(5, a1 + s * kTileK, lda);
      _tile_dpbssd(2, 5, 6);
      if (NT == 2) _tile_dpbssd(3, 5, 7);
    }
    for (int q = 0; q < per_step && pr < pf.rows; ++q) {
      prefetchw(pf.p + pr * pf.ldy + pl * 16);
      if (++pl == pf.lines) pl = 0, ++pr;
    }
  }
  if (tail.a) {
    _tile_loadd(4, tail.a, 64);
    _tile_loadd(6, tail.b, 64);
    _tile_dpbssd(0, 4, 6);
    if (NT == 2) {
      _tile_loadd(7, tail.b + kBTileBytes, 64);
      _tile_dpbssd(1, 4, 7);
    }
    if (MT == 2) {
      _tile_loadd(5, tail.a + kTileRows * 64, 64);
      _tile_dpbssd(2, 5, 6);
      if (NT == 2) _tile_dpbssd(3, 5, 7);
    }
  }
  _tile_stored(0, c, 128);
  if (NT == 2) _tile_stored(1, c + 16, 128);
  if (MT == 2) _tile_stored(2, c + 16 * 32, 128);
  if (MT == 2 && NT == 2) _tile_stored(3, c + 16 * 32 + 16, 128);
}

using TilesFn = void (*)(const int8_t*, size_t, const int8_t*, size_t, int, const Tail&, int32_t*,
                         const WritePrefetch&);
constexpr TilesFn qs8_gemm_32x32_amx = qs8_gemm_tiles_amx<2, 2>;
constexpr TilesFn qs8_gemm_32x16_amx = qs8_gemm_tiles_amx<2, 1>;
constexpr TilesFn qs8_gemm_16x32_amx = qs8_gemm_tiles_amx<1, 2>;
constexpr TilesFn qs8_gemm_16x16_amx = qs8_gemm_tiles_amx<1, 1>;

// m < 16: every A tile is copied into `stage` (rows >= m stay zero).
template <int NT>
void qs8_gemm_16xN_staged_amx(const int8_t* xq, int m, int k, const int8_t* b, size_t ldb,
                              int nk, Tail tail, int8_t* stage, int32_t* c) {
  _tile_zero(0);
  if (NT == 2) _tile_zero(1);
  for (int s = 0; s < nk; ++s) {
    for (int r = 0; r < m; ++r) memcpy(stage + r * 64, xq + size_t(r) * k + s * kTileK, kTileK);
    _tile_loadd(4, stage, 64);
    _tile_loadd(6, b + s * kBTileBytes, 64);
    _tile_dpbssd(0, 4, 6);
    if (NT == 2) {
      _tile_loadd(7, b + ldb + s * kBTileBytes, 64);
      _tile_dpbssd(1, 4, 7);
    }
  }
  if (tail.a) {
    _tile_loadd(4, tail.a, 64);
    _tile_loadd(6, tail.b, 64);
    _tile_dpbssd(0, 4, 6);
    if (NT == 2) {
      _tile_loadd(7, tail.b + kBTileBytes, 64);
      _tile_dpbssd(1, 4, 7);
    }
  }
  _tile_stored(0, c, 128);
  if (NT == 2) _tile_stored(1, c + 16, 128);
}

// A computed block for the epilogue: rows [i0 + r_begin, i0 + r_end)
// and columns [j0, j0 + ncols) of y from c[32][32]; then the activation over
// columns [act_j0, act_j0 + act_cols) of those rows (act_cols 0: none).
struct Block {
  const int32_t* c;
  int i0, r_begin, r_end, j0, ncols, act_j0, act_cols;
};

struct Ctx {
  const int8_t* xq;
  const float* x_scales;
  int m, k, n;
  const Qs8Weights* w;
  const Epilogue* e;
  float* y;
  size_t ldy;
  size_t ldb;    // bytes per 16-column block of weights
  int nk, krem;  // whole 64-k steps, k left over
  int b_tail_rows;
};

// Dequantize: v = float(acc) * (x_scale * w_scale), + bias, (+ y).
template <bool kBias, bool kAccumulate>
void dequantize_rows(const Ctx& x, const Block& blk) {
  const int halves = blk.ncols > 16 ? 2 : 1;
  const float* xsc = x.x_scales;
  float* const y = x.y;
  const size_t ldy = x.ldy;
  __m512 ws[2], bias[2];
  __mmask16 mask[2];
  for (int h = 0; h < 2; ++h) {
    mask[h] = lanes(blk.ncols - 16 * h);
    ws[h] = _mm512_maskz_loadu_ps(mask[h], x.w->scales + blk.j0 + 16 * h);
    bias[h] = kBias ? _mm512_maskz_loadu_ps(mask[h], x.e->bias + blk.j0 + 16 * h)
                    : _mm512_setzero_ps();
  }
  for (int r = blk.r_begin; r < blk.r_end; ++r) {
    const int i = blk.i0 + r;
    const __m512 xs = _mm512_set1_ps(xsc[i]);
    float* yrow = y + size_t(i) * ldy + blk.j0;
    for (int h = 0; h < halves; ++h) {
      const __m512 s = _mm512_mul_ps(xs, ws[h]);
      __m512 v = rounded(
          _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(blk.c + r * 32 + 16 * h)), s));
      if (kBias) v = _mm512_add_ps(v, bias[h]);
      if (kAccumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[h], yrow + 16 * h), v);
      _mm512_mask_storeu_ps(yrow + 16 * h, mask[h], v);
    }
  }
}

void dequantize(const Ctx& x, const Block& blk) {
  const bool bias = x.e->bias != nullptr;
  if (x.e->accumulate)
    bias ? dequantize_rows<true, true>(x, blk) : dequantize_rows<false, true>(x, blk);
  else
    bias ? dequantize_rows<true, false>(x, blk) : dequantize_rows<false, false>(x, blk);
  if (blk.act_cols > 0)
    for (int r = blk.r_begin; r < blk.r_end; ++r)
      activation_f32_avx512f(x.y + size_t(blk.i0 + r) * x.ldy + blk.act_j0,
                             size_t(blk.act_cols), x.e->act);
}

// Row block `idx` for m >= 16: rows [i0, i0 + 16 * mt), y from i0 + r_begin.
// Whole 32-row blocks, then the rest as a 16- or 32-row block shifted back to
// end at row m (its first rows were already written). False past the end.
bool row_block(int m, int idx, int* i0, int* mt, int* r_begin) {
  const int full = m / 32, rem = m % 32;
  if (idx < full) {
    *i0 = idx * 32, *mt = 2, *r_begin = 0;
  } else if (idx == full && rem > 16 && m >= 32) {
    *i0 = m - 32, *mt = 2, *r_begin = 32 - rem;
  } else if (idx == full && rem > 16) {  // 16 < m < 32: two 16-row blocks
    *i0 = 0, *mt = 1, *r_begin = 0;
  } else if (idx == full + 1 && rem > 16 && m < 32) {
    *i0 = m - 16, *mt = 1, *r_begin = 32 - m;
  } else if (idx == full && rem > 0 && rem <= 16) {
    *i0 = m - 16, *mt = 1, *r_begin = 16 - rem;
  } else {
    return false;
  }
  return true;
}

// Runs blocks: the tiles, then the AVX-512 epilogue. (Deferring a block's
// epilogue until the next block's multiplies are issued measured slower: its
// y stores then compete with the weight stream for line fill buffers.)
class BlockRunner {
 public:
  explicit BlockRunner(const Ctx& x) : x_(x) {
    memset(a_stage_, 0, sizeof(a_stage_));
    memset(b_stage_, 0, sizeof(b_stage_));
  }
  void run(int i0, int mt, int r_begin, int j0, int act_j0, int act_cols, bool claim_y) {
    const int ncols = x_.n - j0 < 32 ? x_.n - j0 : 32;
    const int8_t* b = x_.w->data + size_t(j0 / kQs8TileN) * x_.ldb;
    Tail tail{nullptr, nullptr};
    if (x_.krem) {
      if (staged_j0_ != j0) {  // last B rows of the block's 16-column tiles
        for (int t = 0; t * 16 < ncols; ++t)
          memcpy(b_stage_ + t * kBTileBytes, b + t * x_.ldb + size_t(x_.nk) * kBTileBytes,
                 size_t(x_.b_tail_rows) * 64);
        staged_j0_ = j0;
      }
      if (staged_i0_ != i0 || staged_mt_ < mt) {  // last k % 64 bytes of the A rows
        for (int r = 0; r < kTileRows * mt; ++r)
          memcpy(a_stage_ + r * 64, x_.xq + size_t(i0 + r) * x_.k + x_.nk * kTileK,
                 size_t(x_.krem));
        staged_i0_ = i0, staged_mt_ = mt;
      }
      tail = Tail{a_stage_, b_stage_};
    }
    WritePrefetch pf{nullptr, x_.ldy, 0, 0};
    if (claim_y)
      pf = WritePrefetch{x_.y + size_t(i0 + r_begin) * x_.ldy + j0, x_.ldy,
                         kTileRows * mt - r_begin, (ncols + 15) / 16};
    const bool two = ncols > 16;
    const TilesFn fn = mt == 2 ? (two ? qs8_gemm_32x32_amx : qs8_gemm_32x16_amx)
                               : (two ? qs8_gemm_16x32_amx : qs8_gemm_16x16_amx);
    fn(x_.xq + size_t(i0) * x_.k, size_t(x_.k), b, x_.ldb, x_.nk, tail, c_, pf);
    dequantize(x_, Block{c_, i0, r_begin, kTileRows * mt, j0, ncols, act_j0, act_cols});
  }

 private:
  const Ctx& x_;
  alignas(64) int32_t c_[32 * 32];
  alignas(64) int8_t a_stage_[32 * 64];
  alignas(64) int8_t b_stage_[2 * kBTileBytes];
  int staged_j0_ = -1, staged_i0_ = -1, staged_mt_ = 0;
};

// m < 16: A rows staged per step, one block at a time.
void gemm_small_m(const Ctx& x) {
  const int n = x.n;
  alignas(64) int32_t c[32 * 32];
  alignas(64) int8_t a_stage[2 * kTileRows * 64];  // per-step rows | k-tail rows
  alignas(64) int8_t b_stage[2 * kBTileBytes];
  memset(a_stage, 0, sizeof(a_stage));
  memset(b_stage, 0, sizeof(b_stage));
  int8_t* a_tail = a_stage + kTileRows * 64;
  for (int r = 0; x.krem && r < x.m; ++r)
    memcpy(a_tail + r * 64, x.xq + size_t(r) * x.k + x.nk * kTileK, size_t(x.krem));
  for (int j0 = 0; j0 < n; j0 += 32) {
    const int ncols = n - j0 < 32 ? n - j0 : 32;
    const int8_t* b = x.w->data + size_t(j0 / kQs8TileN) * x.ldb;
    Tail tail{nullptr, nullptr};
    if (x.krem) {
      for (int t = 0; t * 16 < ncols; ++t)
        memcpy(b_stage + t * kBTileBytes, b + t * x.ldb + size_t(x.nk) * kBTileBytes,
               size_t(x.b_tail_rows) * 64);
      tail = Tail{a_tail, b_stage};
    }
    if (ncols > 16)
      qs8_gemm_16xN_staged_amx<2>(x.xq, x.m, x.k, b, x.ldb, x.nk, tail, a_stage, c);
    else
      qs8_gemm_16xN_staged_amx<1>(x.xq, x.m, x.k, b, x.ldb, x.nk, tail, a_stage, c);
    const bool act = x.e->act != Act::None;
    dequantize(x, Block{c, 0, 0, x.m, j0, ncols, j0, act ? ncols : 0});
  }
}

}  // namespace

void gemm_qs8_amx(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                  int n, const Epilogue& e, float* y, int ldy) {
  if (m <= 0 || n <= 0) return;
  _tile_loadconfig(&kAmxTiles16x64);
  Ctx x;
  x.xq = xq;
  x.x_scales = x_scales;
  x.m = m;
  x.k = k;
  x.n = n;
  x.w = &w;
  x.e = &e;
  x.y = y;
  x.ldy = size_t(ldy);
  const int kb = (k + kQs8TileK - 1) / kQs8TileK;
  x.ldb = size_t(kb) * kQs8TileN * kQs8TileK;
  x.nk = k / kTileK;
  x.krem = k - x.nk * kTileK;
  x.b_tail_rows = kb - x.nk * (kTileK / kQs8TileK);
  const bool act = e.act != Act::None;

  if (m < kTileRows) {
    gemm_small_m(x);
  } else if (k <= kRowOuterMaxK) {
    // Super-panels of whole 32-column blocks, spread evenly over n; per
    // panel every row block streams its weights from L2 while its own A rows
    // stay in L1, and y is written in long row runs.
    const int nblocks = (n + 31) / 32;
    int per_panel = int(kPanelBytes / (size_t(kb) * kQs8TileK * 32));
    per_panel = per_panel < 1 ? 1 : per_panel;
    const int panels = (nblocks + per_panel - 1) / per_panel;
    per_panel = (nblocks + panels - 1) / panels;
    BlockRunner blocks(x);
    for (int p0 = 0; p0 < n; p0 += per_panel * 32) {
      const int p1 = p0 + per_panel * 32 < n ? p0 + per_panel * 32 : n;
      int i0, mt, r_begin;
      for (int rb = 0; row_block(m, rb, &i0, &mt, &r_begin); ++rb)
        for (int j0 = p0; j0 < p1; j0 += 32) {
          const bool last = j0 + 32 >= p1;
          blocks.run(i0, mt, r_begin, j0, p0, last && act ? p1 - p0 : 0, false);
        }
    }
  } else {
    // Large k: 32-column blocks outside, so the block's weights are read
    // from memory once and reused by every row block from L1/L2.
    BlockRunner blocks(x);
    for (int j0 = 0; j0 < n; j0 += 32) {
      const int ncols = n - j0 < 32 ? n - j0 : 32;
      int i0, mt, r_begin;
      for (int rb = 0; row_block(m, rb, &i0, &mt, &r_begin); ++rb)
        blocks.run(i0, mt, r_begin, j0, j0, act ? ncols : 0, true);
    }
  }
  _tile_release();
}

}  // namespace vitrt::kernels
