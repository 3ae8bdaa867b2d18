// Int8 GEMM (GemmQs8Fn) with AVX2 only (no VNNI) over Blocked16x4 weights.
//
// Microkernel qs8_gemm_2x16c4_avx2: 2 rows x 16 columns (one Blocked16x4
// block) in 8 ymm int32 accumulators. Activations are sign-extended to s16
// while packing a row block; per 4 k the block row of weights (16 columns x
// 4 k, 64 bytes) is sign-extended to s16 in four ymm (4 columns each), each
// row broadcasts its 4 k values (8 bytes), and vpmaddwd + vpaddd accumulate
// k pairs per int32 lane: exact, unlike vpmaddubsw, which saturates. The
// pairs are summed (vphaddd) once at the end of the tile. Row tail: 1 row.
//
// Loop order: super-panels of up to 256 columns (weights <= ~512 KiB stay in
// L2 across row blocks), 2-row blocks, k chunks of 2048 (packed A in L1),
// 16-column tiles accumulating into an int32 stack buffer that the epilogue
// dequantizes exactly as the reference does.
#include <string.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMR = 2;                    // rows per row block
constexpr int kKC = 2048;                 // packed k per chunk: 2 x 4 KiB of s16
constexpr int kNCMax = 256;               // columns per super-panel
constexpr size_t kL2Budget = 512 * 1024;  // weight bytes per super-panel

// Keeps a product in a register so GCC cannot contract it with the next add
// into an FMA (the reference rounds the product and the sum separately).
inline __m256 rounded(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

// All-ones in the first `count` (clamped to 0..8) int32 lanes.
inline __m256i lanes(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Sums the k-pair lanes of the accumulators of columns 0-3 | 4-7 into
// 8 int32 in column order.
inline __m256i reduce_pairs(__m256i lo, __m256i hi) {
  // hadd per 128-bit half: [c0 c1 c4 c5 | c2 c3 c6 c7]
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo, hi), 0xD8);
}

// c[MR][16] (+)= sum over kb groups of 4 k of a[r] . W; a is s16 rows of
// stride lda elements, w the block's first k group (64 bytes per group).
template <int MR>
void qs8_gemm_c4_avx2(const int16_t* a, int lda, const int8_t* w, int kb, int32_t* c, int ldc,
                      bool load_c) {
  __m256i acc[MR][4];
#pragma GCC unroll 2
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm256_setzero_si256();
  for (int p = 0; p < kb; ++p) {
    __m256i b[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j)
      b[j] = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + size_t(p) * 64 + 16 * j)));
#pragma GCC unroll 2
    for (int r = 0; r < MR; ++r) {
      int64_t x4;
      memcpy(&x4, a + r * lda + p * 4, 8);
      const __m256i av = _mm256_set1_epi64x(x4);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j)
        acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(b[j], av));
    }
  }
#pragma GCC unroll 2
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256i v = reduce_pairs(acc[r][2 * h], acc[r][2 * h + 1]);
      __m256i* dst = reinterpret_cast<__m256i*>(c + r * ldc + 8 * h);
      if (load_c) v = _mm256_add_epi32(_mm256_loadu_si256(dst), v);
      _mm256_storeu_si256(dst, v);
    }
}

using TileFn = void (*)(const int16_t*, int, const int8_t*, int, int32_t*, int, bool);
constexpr TileFn qs8_gemm_2x16c4_avx2 = qs8_gemm_c4_avx2<2>;
constexpr TileFn qs8_gemm_1x16c4_avx2 = qs8_gemm_c4_avx2<1>;

// Rows [0, rows) of a, kc s16 each: xq sign-extended, k columns [k0, k0 + kc)
// of which those >= k are zero (the weights are zero there).
void pack_rows(const int8_t* xq, int k, int rows, int k0, int kc, int16_t* a) {
  const int valid = k - k0 < kc ? k - k0 : kc;
  for (int r = 0; r < rows; ++r) {
    int16_t* dst = a + size_t(r) * kc;
    const int8_t* src = xq + size_t(r) * k + k0;
    int p = 0;
    for (; p + 16 <= valid; p += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + p),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + p))));
    for (; p < valid; ++p) dst[p] = src[p];
    if (valid < kc) memset(dst + valid, 0, size_t(kc - valid) * sizeof(int16_t));
  }
}

}  // namespace

void gemm_qs8_avx2(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                   int n, const Epilogue& e, float* y, int ldy) {
  if (m <= 0 || n <= 0) return;
  const int kb = (k + kQs8TileK - 1) / kQs8TileK;
  const int kp = kb * kQs8TileK;
  const size_t ldw = size_t(kb) * kQs8TileN * kQs8TileK;  // bytes per 16-column block
  int nc_max = int(kL2Budget / size_t(kp > 0 ? kp : 1)) / kQs8TileN * kQs8TileN;
  nc_max = nc_max < kQs8TileN ? kQs8TileN : nc_max > kNCMax ? kNCMax : nc_max;
  const int panels = (n + nc_max - 1) / nc_max;
  const int nc = ((n + panels - 1) / panels + kQs8TileN - 1) / kQs8TileN * kQs8TileN;

  alignas(32) int16_t apack[kMR * kKC];
  alignas(32) int32_t cbuf[kMR * kNCMax];
  alignas(32) float wscale[kNCMax];
  alignas(32) float bias[kNCMax];

  for (int n0 = 0; n0 < n; n0 += nc) {
    const int ncols = n - n0 < nc ? n - n0 : nc;
    const int nblk = (ncols + kQs8TileN - 1) / kQs8TileN;
    for (int j = 0; j < nblk * kQs8TileN; ++j) {
      const bool in = j < ncols;
      wscale[j] = in ? w.scales[n0 + j] : 0.f;
      bias[j] = in && e.bias ? e.bias[n0 + j] : 0.f;
    }
    const int8_t* wpanel = w.data + size_t(n0 / kQs8TileN) * ldw;
    for (int m0 = 0; m0 < m; m0 += kMR) {
      const int rows = m - m0 < kMR ? m - m0 : kMR;
      const TileFn tile = rows == 2 ? qs8_gemm_2x16c4_avx2 : qs8_gemm_1x16c4_avx2;
      if (kp == 0) memset(cbuf, 0, sizeof(cbuf));
      for (int k0 = 0; k0 < kp; k0 += kKC) {
        const int kc = kp - k0 < kKC ? kp - k0 : kKC;
        pack_rows(xq + size_t(m0) * k, k, rows, k0, kc, apack);
        for (int jb = 0; jb < nblk; ++jb)
          tile(apack, kc, wpanel + size_t(jb) * ldw + size_t(k0) * kQs8TileN, kc / kQs8TileK,
               cbuf + jb * 16, nc, k0 > 0);
      }
      // Dequantize: v = float(acc) * (x_scale * w_scale), + bias, (+ y).
      for (int r = 0; r < rows; ++r) {
        const __m256 xs = _mm256_set1_ps(x_scales[m0 + r]);
        float* yrow = y + size_t(m0 + r) * ldy + n0;
        const int32_t* crow = cbuf + r * nc;
        for (int j = 0; j < ncols; j += 8) {
          const __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(crow + j));
          const __m256 s = _mm256_mul_ps(xs, _mm256_load_ps(wscale + j));
          __m256 v = rounded(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), s));
          if (e.bias) v = _mm256_add_ps(v, _mm256_load_ps(bias + j));
          if (j + 8 <= ncols) {
            if (e.accumulate) v = _mm256_add_ps(_mm256_loadu_ps(yrow + j), v);
            _mm256_storeu_ps(yrow + j, v);
          } else {  // vmaskmovps neither reads nor writes the masked-off lanes
            const __m256i mk = lanes(ncols - j);
            if (e.accumulate) v = _mm256_add_ps(_mm256_maskload_ps(yrow + j, mk), v);
            _mm256_maskstore_ps(yrow + j, mk, v);
          }
        }
        if (e.act != Act::None) activation_f32_avx2(yrow, size_t(ncols), e.act);
      }
    }
  }
}

}  // namespace vitrt::kernels
