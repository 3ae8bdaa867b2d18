// fp32 GEMM, AVX2 + FMA: y = epilogue(x W^T) over Panel16 weights.
//
// Microkernel f32_gemm_6x16_avx2: 6 rows of x (each element broadcast) by
// one panel (16 columns, 2 ymm) of W, 12 ymm accumulators (+2 W, 1 x: 15 of
// 16 registers); the same template gives the row tails (1..5 rows) and, for
// m <= 2, wide 1x64 / 2x32 tiles. Loop order as in gemm_f32_avx512f.cpp: W
// in groups of 4 panels (64 columns); for each group, every row block runs
// its 4 tiles so the 6 x rows are reused from L1 and the group's W slice
// from L2; tiles prefetch the next group into L2 and their own panel 16 k
// steps ahead. F32 Panel16 is read in place; F16 Panel16 is converted (F16C)
// and RowMajor transposed into scratch a group at a time (4 panels = 64 * k
// floats = gemm_scratch_floats(k)).
//
// Determinism: every y[i][j] is one FMA chain over p = 0..k-1 from zero,
// then + bias (then y +), whatever the tile, group, m, n or column offset.
#include <stdint.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMr = 6;           // rows per tile
constexpr int kGroup = 4;        // panels per group
constexpr int kPrefetch = 1024;  // bytes ahead in a panel: 16 k steps

// Lanes l < left of 8 as an AVX2 store mask.
inline __m256i lanes_below(int left) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// R x (P*16) tile: y[r][c] = (y +) sum_p x[r][p] * w[c][p] + bias[c] for
// c < cols (<= P*16). x rows are ldx apart, w is P panels wps floats apart.
// The first pf_lines k steps also prefetch one 64-byte line of pf into L2.
template <int R, int P>
void f32_gemm_avx2(const float* x, int ldx, int k, const float* w, size_t wps, const float* bias,
                   int cols, float* y, int ldy, bool accumulate, const float* pf, int pf_lines) {
  constexpr int V = 2 * P;  // ymm per row
  __m256 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  // x rows as bases + {0,1,2} * row stride, strides opaque to the compiler:
  // few GPRs, no spills.
  constexpr int B = (R + 2) / 3;
  const char* xb[B];
#pragma GCC unroll 4
  for (int b = 0; b < B; ++b) xb[b] = reinterpret_cast<const char*>(x + size_t(3 * b) * ldx);
  const char* wp = reinterpret_cast<const char*>(w);
  const char* pp = reinterpret_cast<const char*>(pf);
  size_t ks = size_t(ldx) * 4, ws = wps * 4;
  auto step = [&](bool prefetch_next) __attribute__((always_inline)) {
    __asm__("" : "+r"(ks), "+r"(ws));
    __m256 wv[V];
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v)
      wv[v] = _mm256_loadu_ps(reinterpret_cast<const float*>(wp + (v / 2) * ws + (v % 2) * 32));
#pragma GCC unroll 4
    for (int c = 0; c < P; ++c) _mm_prefetch(wp + c * ws + kPrefetch, _MM_HINT_T0);
    if (prefetch_next) {
      _mm_prefetch(pp, _MM_HINT_T1);
      pp += 64;
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 xv =
          _mm256_broadcast_ss(reinterpret_cast<const float*>(xb[r / 3] + (r % 3) * ks));
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(xv, wv[v], acc[r][v]);
    }
    wp += 64;
#pragma GCC unroll 4
    for (int b = 0; b < B; ++b) xb[b] += 4;
  };
  int p = 0;
  const int pfl = pf_lines < k ? pf_lines : k;
#pragma GCC unroll 4
  for (; p < pfl; ++p) step(true);
#pragma GCC unroll 4
  for (; p < k; ++p) step(false);

  if (cols >= P * 16) {  // whole panels: plain stores
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* yr = y + size_t(r) * ldy;
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) {
        __m256 o = bias ? _mm256_add_ps(acc[r][v], _mm256_loadu_ps(bias + v * 8)) : acc[r][v];
        if (accumulate) o = _mm256_add_ps(_mm256_loadu_ps(yr + v * 8), o);
        _mm256_storeu_ps(yr + v * 8, o);
      }
    }
    return;
  }
  __m256i mask[V];
  __m256 b[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
    mask[v] = lanes_below(cols - v * 8);
    b[v] = bias ? _mm256_maskload_ps(bias + v * 8, mask[v]) : _mm256_setzero_ps();
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* yr = y + size_t(r) * ldy;
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) {
      __m256 o = bias ? _mm256_add_ps(acc[r][v], b[v]) : acc[r][v];
      if (accumulate) o = _mm256_add_ps(_mm256_maskload_ps(yr + v * 8, mask[v]), o);
      _mm256_maskstore_ps(yr + v * 8, mask[v], o);
    }
  }
}

using TileFn = void (*)(const float*, int, int, const float*, size_t, const float*, int, float*,
                        int, bool, const float*, int);

// kTiles[R]: R rows by one panel; <6, 1> is f32_gemm_6x16_avx2, the main tile.
constexpr TileFn kTiles[kMr + 1] = {
    nullptr,
    f32_gemm_avx2<1, 1>,
    f32_gemm_avx2<2, 1>,
    f32_gemm_avx2<3, 1>,
    f32_gemm_avx2<4, 1>,
    f32_gemm_avx2<5, 1>,
    f32_gemm_avx2<6, 1>,
};
// Few rows, whole group: kWide1[P] (1 x P panels), kWide2[P] (2 x P, P <= 2).
constexpr TileFn kWide1[kGroup + 1] = {nullptr, f32_gemm_avx2<1, 1>, f32_gemm_avx2<1, 2>,
                                       f32_gemm_avx2<1, 3>, f32_gemm_avx2<1, 4>};
constexpr TileFn kWide2[3] = {nullptr, f32_gemm_avx2<2, 1>, f32_gemm_avx2<2, 2>};

// One group: cols (<= 64) columns in panels wps floats apart, every row.
// Rows split into near-equal tiles of at most kMr (197 = 32 x 6 + 1 x 5);
// next (next_lines 64-byte lines) is the following group, prefetched into L2
// a share per tile.
void run_group(const float* x, int m, int k, const float* w, size_t wps, const float* bias,
               int cols, float* y, int ldy, const Epilogue& e, const float* next,
               int next_lines) {
  const int np = (cols + 15) / 16;
  if (m == 1) {  // one wide tile keeps enough FMA chains in flight
    kWide1[np](x, k, k, w, wps, bias, cols, y, ldy, e.accumulate, next, next_lines);
  } else if (m == 2) {
    for (int c = 0; c < np; c += 2) {
      const int lines = c == 0 ? next_lines : 0;
      kWide2[np - c >= 2 ? 2 : 1](x, k, k, w + c * wps, wps, bias ? bias + c * 16 : nullptr,
                                  cols - c * 16, y + c * 16, ldy, e.accumulate,
                                  lines ? next : nullptr, lines);
    }
  } else {
    const int blocks = (m + kMr - 1) / kMr;
    const int base = m / blocks, extra = m % blocks;
    const int share = (next_lines + blocks * np - 1) / (blocks * np);
    int i = 0, line = 0;
    for (int t = 0; t < blocks; ++t) {
      const int rows = base + (t < extra);
      for (int c = 0; c < np; ++c) {
        const int lines = next_lines - line < share ? next_lines - line : share;
        kTiles[rows](x + size_t(i) * k, k, k, w + c * wps, wps, bias ? bias + c * 16 : nullptr,
                     cols - c * 16, y + size_t(i) * ldy + c * 16, ldy, e.accumulate,
                     lines > 0 ? next + size_t(line) * 16 : nullptr, lines > 0 ? lines : 0);
        line += share;
      }
      // Activation on the rows just written, while they are in L1.
      if (e.act != Act::None)
        for (int r = 0; r < rows; ++r)
          activation_f32_avx2(y + size_t(i + r) * ldy, size_t(cols), e.act);
      i += rows;
    }
    return;
  }
  if (e.act != Act::None)
    for (int r = 0; r < m; ++r) activation_f32_avx2(y + size_t(r) * ldy, size_t(cols), e.act);
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

// count halves (a multiple of 16: whole panel rows) to floats.
void convert_f16(const uint16_t* src, size_t count, float* dst) {
  for (size_t i = 0; i < count; i += 16) {
    _mm256_storeu_ps(dst + i, load8(src + i));
    _mm256_storeu_ps(dst + i + 8, load8(src + i + 8));
  }
}

}  // namespace

void gemm_f32_avx2(const float* x, int m, int k, const FloatWeights& w, int n, const Epilogue& e,
                   float* y, int ldy, float* scratch) {
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
