// Int8 GEMM (GemmQs8Fn) with AVX-VNNI (256-bit vpdpbusd, VEX) over
// Blocked16x4 weights; no AVX-512, so 16 ymm registers.
//
// Microkernel qs8_gemm_6x16c4_avxvnni: 6 rows x 16 columns (one Blocked16x4
// block) in 12 ymm int32 accumulators. Per 4 k: two 32-byte weight loads
// (columns 0-7 and 8-15 x 4 k, straight from the model layout), 6 broadcasts
// of 4 activation bytes, 12 vpdpbusd. Row tails: 4/2/1-row variants.
//
// vpdpbusd is u8 x s8, so activations get +128 (xor 0x80) and the epilogue
// subtracts 128 * sums[j]. The xor is done while packing a row block of xq
// into a stack buffer once per column super-panel, so the inner loop issues
// only loads and vpdpbusd. Loop order: super-panels of up to 256 columns
// (weights <= ~512 KiB stay in L2 across all row blocks), 6-row blocks,
// k chunks of 2048 (packed A stays in L1), 16-column tiles accumulating into
// an int32 stack buffer that the epilogue dequantizes exactly as the
// reference does.
#include <string.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMR = 6;                    // rows per row block
constexpr int kKC = 2048;                 // packed k per chunk: 12 KiB
constexpr int kNCMax = 256;               // columns per super-panel: C buffer 6 KiB
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

// c[MR][16] (+)= sum over kb groups of 4 k of a[r] . W; a is u8 rows of
// stride lda, w the block's first k group (64 bytes per group).
template <int MR>
void qs8_gemm_c4_avxvnni(const uint8_t* a, int lda, const int8_t* w, int kb, int32_t* c, int ldc,
                         bool load_c) {
  __m256i acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j)
      acc[r][j] = load_c ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc + 8 * j))
                         : _mm256_setzero_si256();
  for (int p = 0; p < kb; ++p) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + size_t(p) * 64));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + size_t(p) * 64 + 32));
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      int32_t x4;
      memcpy(&x4, a + r * lda + p * 4, 4);
      const __m256i av = _mm256_set1_epi32(x4);
      acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], av, b0);
      acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], av, b1);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < 2; ++j)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + 8 * j), acc[r][j]);
}

using TileFn = void (*)(const uint8_t*, int, const int8_t*, int, int32_t*, int, bool);
constexpr TileFn qs8_gemm_6x16c4_avxvnni = qs8_gemm_c4_avxvnni<6>;
constexpr TileFn kTiles[4] = {qs8_gemm_6x16c4_avxvnni, qs8_gemm_c4_avxvnni<4>,
                              qs8_gemm_c4_avxvnni<2>, qs8_gemm_c4_avxvnni<1>};

// Rows [0, mr) of a, kc bytes each: xq rows (+128) for r < rows, k columns
// [k0, k0 + kc) of which those >= k are zero (the weights are zero there).
void pack_rows(const int8_t* xq, int k, int rows, int mr, int k0, int kc, uint8_t* a) {
  const __m256i flip = _mm256_set1_epi8(char(0x80));
  const int valid = k - k0 < kc ? k - k0 : kc;
  for (int r = 0; r < mr; ++r) {
    uint8_t* dst = a + size_t(r) * kc;
    if (r >= rows) {
      memset(dst, 0, size_t(kc));
      continue;
    }
    const int8_t* src = xq + size_t(r) * k + k0;
    int p = 0;
    for (; p + 32 <= valid; p += 32)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + p),
                          _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + p)), flip));
    for (; p < valid; ++p) dst[p] = uint8_t(src[p] ^ 0x80);
    if (valid < kc) memset(dst + valid, 0, size_t(kc - valid));
  }
}

}  // namespace

void gemm_qs8_avxvnni(const int8_t* xq, const float* x_scales, int m, int k, const Qs8Weights& w,
                      int n, const Epilogue& e, float* y, int ldy) {
  if (m <= 0 || n <= 0) return;
  const int kb = (k + kQs8TileK - 1) / kQs8TileK;
  const int kp = kb * kQs8TileK;
  const size_t ldw = size_t(kb) * kQs8TileN * kQs8TileK;  // bytes per 16-column block
  // Super-panel width: a multiple of 16 within the L2 budget, spread evenly over n.
  int nc_max = int(kL2Budget / size_t(kp > 0 ? kp : 1)) / kQs8TileN * kQs8TileN;
  nc_max = nc_max < kQs8TileN ? kQs8TileN : nc_max > kNCMax ? kNCMax : nc_max;
  const int panels = (n + nc_max - 1) / nc_max;
  const int nc = ((n + panels - 1) / panels + kQs8TileN - 1) / kQs8TileN * kQs8TileN;

  alignas(32) uint8_t apack[kMR * kKC];
  alignas(32) int32_t cbuf[kMR * kNCMax];
  alignas(32) int32_t comp[kNCMax];  // 128 * sums[j]
  alignas(32) float wscale[kNCMax];
  alignas(32) float bias[kNCMax];

  for (int n0 = 0; n0 < n; n0 += nc) {
    const int ncols = n - n0 < nc ? n - n0 : nc;
    const int nblk = (ncols + kQs8TileN - 1) / kQs8TileN;
    for (int j = 0; j < nblk * kQs8TileN; ++j) {
      const bool in = j < ncols;
      comp[j] = in ? int32_t(uint32_t(w.sums[n0 + j]) << 7) : 0;
      wscale[j] = in ? w.scales[n0 + j] : 0.f;
      bias[j] = in && e.bias ? e.bias[n0 + j] : 0.f;
    }
    const int8_t* wpanel = w.data + size_t(n0 / kQs8TileN) * ldw;
    for (int m0 = 0; m0 < m; m0 += kMR) {
      const int rows = m - m0 < kMR ? m - m0 : kMR;
      const int tr = rows > 4 ? 0 : rows > 2 ? 1 : rows > 1 ? 2 : 3;  // 6/4/2/1-row tile
      const int mr = tr == 0 ? 6 : tr == 1 ? 4 : tr == 2 ? 2 : 1;
      if (kp == 0) memset(cbuf, 0, sizeof(cbuf));
      for (int k0 = 0; k0 < kp; k0 += kKC) {
        const int kc = kp - k0 < kKC ? kp - k0 : kKC;
        pack_rows(xq + size_t(m0) * k, k, rows, mr, k0, kc, apack);
        for (int jb = 0; jb < nblk; ++jb)
          kTiles[tr](apack, kc, wpanel + size_t(jb) * ldw + size_t(k0) * kQs8TileN,
                     kc / kQs8TileK, cbuf + jb * 16, nc, k0 > 0);
      }
      // Dequantize: v = float(acc) * (x_scale * w_scale), + bias, (+ y).
      for (int r = 0; r < rows; ++r) {
        const __m256 xs = _mm256_set1_ps(x_scales[m0 + r]);
        float* yrow = y + size_t(m0 + r) * ldy + n0;
        const int32_t* crow = cbuf + r * nc;
        for (int j = 0; j < ncols; j += 8) {
          const __m256i acc = _mm256_sub_epi32(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(crow + j)),
              _mm256_load_si256(reinterpret_cast<const __m256i*>(comp + j)));
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
