// fp32 GEMM, AVX-512F: y = epilogue(x W^T) over Panel16 weights.
//
// Microkernel f32_gemm_12x32_avx512f: 12 rows of x (each element broadcast)
// by 2 panels (32 columns) of W, 24 zmm accumulators; the same template gives
// the row tails (1..11 rows), an odd last panel (x16) and, for m <= 4, wide
// 4x64 tiles. Loop order: W in groups of 4 panels (64 columns); for each
// group, every row block runs its 2 tiles so the 12 x rows are reused from L1
// and the group's W slice (4 * 64 * k bytes) from L2; while a group runs, its
// tiles prefetch the next group into L2, and each tile prefetches its own
// panels 16 k steps ahead. F32 Panel16 is read in place; F16 Panel16 is
// converted (F16C) and RowMajor transposed into scratch a group at a time
// (4 panels = 64 * k floats = gemm_scratch_floats(k)).
//
// Determinism: every y[i][j] is one FMA chain over p = 0..k-1 from zero,
// then + bias (then y +), whatever the tile, group, m, n or column offset.
#include <stdint.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMr = 12;         // rows per tile
constexpr int kGroup = 4;       // panels per group
constexpr int kPrefetch = 1024;  // bytes ahead in a panel: 16 k steps

// Lanes of panel c (of 16) that are < cols.
inline __mmask16 panel_mask(int cols, int c) {
  const int left = cols - c * 16;
  return left >= 16 ? __mmask16(0xffff) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
}

// R x (P*16) tile: y[r][c] = (y +) sum_p x[r][p] * w[c][p] + bias[c] for
// c < cols (<= P*16). x rows are ldx apart, w is P panels wps floats apart.
// The first pf_lines k steps also prefetch one 64-byte line of pf into L2.
template <int R, int P>
void f32_gemm_avx512f(const float* x, int ldx, int k, const float* w, size_t wps,
                      const float* bias, int cols, float* y, int ldy, bool accumulate,
                      const float* pf, int pf_lines) {
  __m512 acc[R][P];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < P; ++c) acc[r][c] = _mm512_setzero_ps();
  // x rows as bases + {0,1,2} * row stride and panels as base + c * panel
  // stride, both strides opaque to the compiler: few GPRs, no spills.
  constexpr int B = (R + 2) / 3;
  const char* xb[B];
#pragma GCC unroll 8
  for (int b = 0; b < B; ++b) xb[b] = reinterpret_cast<const char*>(x + size_t(3 * b) * ldx);
  const char* wp = reinterpret_cast<const char*>(w);
  const char* pp = reinterpret_cast<const char*>(pf);
  size_t ks = size_t(ldx) * 4, ws = wps * 4;
  auto step = [&](bool prefetch_next) __attribute__((always_inline)) {
    __asm__("" : "+r"(ks), "+r"(ws));
    __m512 wv[P];
#pragma GCC unroll 4
    for (int c = 0; c < P; ++c) {
      wv[c] = _mm512_loadu_ps(reinterpret_cast<const float*>(wp + c * ws));
      _mm_prefetch(wp + c * ws + kPrefetch, _MM_HINT_T0);
    }
    if (prefetch_next) {
      _mm_prefetch(pp, _MM_HINT_T1);
      pp += 64;
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(*reinterpret_cast<const float*>(xb[r / 3] + (r % 3) * ks));
#pragma GCC unroll 4
      for (int c = 0; c < P; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
    wp += 64;
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) xb[b] += 4;
  };
  int p = 0;
  const int pfl = pf_lines < k ? pf_lines : k;
#pragma GCC unroll 4
  for (; p < pfl; ++p) step(true);
#pragma GCC unroll 4
  for (; p < k; ++p) step(false);

  __mmask16 mask[P];
  __m512 b[P];
#pragma GCC unroll 4
  for (int c = 0; c < P; ++c) {
    mask[c] = panel_mask(cols, c);
    b[c] = bias ? _mm512_maskz_loadu_ps(mask[c], bias + c * 16) : _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* yr = y + size_t(r) * ldy;
#pragma GCC unroll 4
    for (int c = 0; c < P; ++c) {
      __m512 v = bias ? _mm512_add_ps(acc[r][c], b[c]) : acc[r][c];
      if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[c], yr + c * 16), v);
      _mm512_mask_storeu_ps(yr + c * 16, mask[c], v);
    }
  }
}

using TileFn = void (*)(const float*, int, int, const float*, size_t, const float*, int, float*,
                        int, bool, const float*, int);

// kTiles<P>[R]: R rows by P panels (P <= 2); kTilesWide[P - 3][R] for R <= 4.
template <int P>
constexpr TileFn kTiles[kMr + 1] = {
    nullptr,
    f32_gemm_avx512f<1, P>,
    f32_gemm_avx512f<2, P>,
    f32_gemm_avx512f<3, P>,
    f32_gemm_avx512f<4, P>,
    f32_gemm_avx512f<5, P>,
    f32_gemm_avx512f<6, P>,
    f32_gemm_avx512f<7, P>,
    f32_gemm_avx512f<8, P>,
    f32_gemm_avx512f<9, P>,
    f32_gemm_avx512f<10, P>,
    f32_gemm_avx512f<11, P>,
    f32_gemm_avx512f<12, P>,  // <12, 2>: f32_gemm_12x32_avx512f, the main tile
};
constexpr TileFn kTilesWide[2][5] = {
    {nullptr, f32_gemm_avx512f<1, 3>, f32_gemm_avx512f<2, 3>, f32_gemm_avx512f<3, 3>,
     f32_gemm_avx512f<4, 3>},
    {nullptr, f32_gemm_avx512f<1, 4>, f32_gemm_avx512f<2, 4>, f32_gemm_avx512f<3, 4>,
     f32_gemm_avx512f<4, 4>},
};

// One group: cols (<= 64) columns in panels wps floats apart, every row.
// Rows split into near-equal tiles of at most kMr (197 = 10 x 12 + 7 x 11),
// or 8 when x rows alias in L1;
// next (next_lines 64-byte lines) is the following group, prefetched into L2
// a share per tile.
void run_group(const float* x, int m, int k, const float* w, size_t wps, const float* bias,
               int cols, float* y, int ldy, const Epilogue& e, const float* next,
               int next_lines) {
  const int np = (cols + 15) / 16;
  if (m <= 4) {  // few rows: one wide tile keeps enough FMA chains in flight
    const TileFn fn = np > 2 ? kTilesWide[np - 3][m] : np == 2 ? kTiles<2>[m] : kTiles<1>[m];
    fn(x, k, k, w, wps, bias, cols, y, ldy, e.accumulate, next, next_lines);
  } else {
    // x rows 4 KiB apart (k a multiple of 1024, e.g. fc2's 3072) share one
    // L1 set: 12 of them overflow its 8 ways (fc2: 35 -> 48 GFMA/s on Zen 4).
    const int mr = (size_t(k) * 4) % 4096 == 0 ? 8 : kMr;
    const int blocks = (m + mr - 1) / mr;
    const int base = m / blocks, extra = m % blocks;
    const int subs = (np + 1) / 2;
    const int share = (next_lines + blocks * subs - 1) / (blocks * subs);
    int i = 0, line = 0;
    for (int t = 0; t < blocks; ++t) {
      const int rows = base + (t < extra);
      for (int c = 0; c < np; c += 2) {
        const int lines = next_lines - line < share ? next_lines - line : share;
        const TileFn fn = np - c >= 2 ? kTiles<2>[rows] : kTiles<1>[rows];
        fn(x + size_t(i) * k, k, k, w + c * wps, wps, bias ? bias + c * 16 : nullptr,
           cols - c * 16, y + size_t(i) * ldy + c * 16, ldy, e.accumulate,
           lines > 0 ? next + size_t(line) * 16 : nullptr, lines > 0 ? lines : 0);
        line += share;
      }
      // Activation on the rows just written, while they are in L1.
      if (e.act != Act::None)
        for (int r = 0; r < rows; ++r)
          activation_f32_avx512f(y + size_t(i + r) * ldy, size_t(cols), e.act);
      i += rows;
    }
    return;
  }
  if (e.act != Act::None)
    for (int r = 0; r < m; ++r) activation_f32_avx512f(y + size_t(r) * ldy, size_t(cols), e.act);
}

// 8x8 transpose of rows r[0..7] (8 floats each) into out[q * 16], q < 8.
inline void transpose8_store(const __m256 r[8], float* out) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(out + i * 16, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
    _mm256_storeu_ps(out + (i + 4) * 16, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
  }
}

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return _cvtsh_ss(*p); }

// Rows [j0, j0 + 16) of row-major w [n][k] (rows >= n as zeros) as one fp32
// panel [k][16] at out.
template <typename T>
void pack_panel(const T* w, int k, int j0, int n, float* out) {
  const int rows = n - j0 < 16 ? n - j0 : 16;
  int p = 0;
  if (rows == 16) {
    for (; p + 8 <= k; p += 8)
      for (int h = 0; h < 16; h += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i) r[i] = load8(w + size_t(j0 + h + i) * k + p);
        transpose8_store(r, out + size_t(p) * 16 + h);
      }
  }
  for (; p < k; ++p)
    for (int c = 0; c < 16; ++c)
      out[size_t(p) * 16 + c] = c < rows ? load1(w + size_t(j0 + c) * k + p) : 0.f;
}

// count halves (a multiple of 16: whole panel rows) to floats. (maskz:
// plain _mm512_cvtph_ps trips GCC 12's -Wmaybe-uninitialized.)
void convert_f16(const uint16_t* src, size_t count, float* dst) {
  for (size_t i = 0; i < count; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_maskz_cvtph_ps(__mmask16(0xffff), _mm256_loadu_si256(
                                  reinterpret_cast<const __m256i*>(src + i))));
}

}  // namespace

void gemm_f32_avx512f(const float* x, int m, int k, const FloatWeights& w, int n,
                      const Epilogue& e, float* y, int ldy, float* scratch) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const size_t panel = size_t(k) * 16;
  constexpr int kCols = kGroup * 16;
  for (int j = 0; j < n; j += kCols) {
    const int cols = n - j < kCols ? n - j : kCols;
    const int np = (cols + 15) / 16;
    const int left = n - j - kCols;  // columns after this group
    const int np_next = left <= 0 ? 0 : left < kCols ? (left + 15) / 16 : kGroup;
    const float* wg = scratch;    // this group's panels
    const float* next = nullptr;  // the next group's weights, to prefetch into L2
    int next_lines = 0;
    switch (w.format) {
      case WeightFormat::F32Panel16:
        wg = static_cast<const float*>(w.data) + size_t(j / 16) * panel;
        next = wg + np * panel;
        next_lines = np_next * k;
        break;
      case WeightFormat::F16Panel16: {
        const uint16_t* h = static_cast<const uint16_t*>(w.data) + size_t(j / 16) * panel;
        convert_f16(h, np * panel, scratch);
        next = reinterpret_cast<const float*>(h + np * panel);  // halves: 32 per line
        next_lines = (np_next * k + 1) / 2;
        break;
      }
      case WeightFormat::F32RowMajor:
        for (int c = 0; c < np; ++c)
          pack_panel(static_cast<const float*>(w.data), k, j + c * 16, n, scratch + c * panel);
        break;
      case WeightFormat::F16RowMajor:
        for (int c = 0; c < np; ++c)
          pack_panel(static_cast<const uint16_t*>(w.data), k, j + c * 16, n, scratch + c * panel);
        break;
    }
    run_group(x, m, k, wg, panel, e.bias ? e.bias + j : nullptr, cols, y + j, ldy, e,
              next_lines ? next : nullptr, next_lines);
  }
}

}  // namespace vitrt::kernels
