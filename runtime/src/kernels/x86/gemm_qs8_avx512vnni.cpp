// Int8 GEMM (GemmQs8Fn) with AVX-512 VNNI over Blocked16x4 weights.
//
// Microkernel qs8_gemm_8x48c4_avx512vnni: 8 rows x 48 columns (three 16-column
// Blocked16x4 blocks) in 24 zmm int32 accumulators. Per 4 k: three 64-byte
// weight loads (16 columns x 4 k, one block row, read straight from the model
// layout), 8 broadcasts of 4 activation bytes, 24 vpdpbusd. Tails: 4/2/1 rows,
// 32/16 columns (qs8_gemm_c4 template).
//
// vpdpbusd is u8 x s8, so activations get +128 (xor 0x80) and the epilogue
// subtracts 128 * sums[j]. The xor is done while packing a row block of xq
// into a stack buffer once per column super-panel, so the inner loop issues
// nothing but loads and vpdpbusd. Loop order: super-panels of up to 384
// columns (their weights, <= ~768 KiB, stay in L2 across all row blocks),
// then 8-row blocks, then k chunks of 1536 (packed A stays in L1), then
// 48-column tiles accumulating into an int32 stack buffer that the epilogue
// dequantizes exactly as the reference does.

#include <string.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMR = 8;         // rows per row block
constexpr int kKC = 1536;      // packed k per chunk: kMR * kKC = 12 KiB
constexpr int kNCMax = 384;    // columns per super-panel: int32 C buffer 12 KiB
constexpr int kTileN = 48;     // columns per microkernel call
constexpr size_t kL2Budget = 768 * 1024;  // weight bytes per super-panel

// Keeps a product in a register so GCC cannot contract it with the next add
// into an FMA (the reference rounds the product and the sum separately).
inline __m512 rounded(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

inline __mmask16 lanes(int count) {
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
}

// c[MR][16 * NB] (+)= sum over kb groups of 4 k of a[r] . W; a is u8 rows of
// stride lda, w the first block's k group, ldw the bytes between blocks.
template <int MR, int NB>
void qs8_gemm_c4_avx512vnni(const uint8_t* a, int lda, const int8_t* w, size_t ldw, int kb,
                            int32_t* c, int ldc, bool load_c) {
  __m512i acc[MR][NB];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j)
      acc[r][j] = load_c ? _mm512_loadu_si512(c + r * ldc + 16 * j) : _mm512_setzero_si512();
  for (int p = 0; p < kb; ++p) {
    __m512i b[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) b[j] = _mm512_loadu_si512(w + j * ldw + size_t(p) * 64);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t x4;
      memcpy(&x4, a + r * lda + p * 4, 4);
      const __m512i av = _mm512_set1_epi32(x4);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], av, b[j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(c + r * ldc + 16 * j, acc[r][j]);
}

using TileFn = void (*)(const uint8_t*, int, const int8_t*, size_t, int, int32_t*, int, bool);

// [rows 8/4/2/1][blocks 3/2/1]
constexpr TileFn qs8_gemm_8x48c4_avx512vnni = qs8_gemm_c4_avx512vnni<8, 3>;
constexpr TileFn kTiles[4][3] = {
    {qs8_gemm_8x48c4_avx512vnni, qs8_gemm_c4_avx512vnni<8, 2>, qs8_gemm_c4_avx512vnni<8, 1>},
    {qs8_gemm_c4_avx512vnni<4, 3>, qs8_gemm_c4_avx512vnni<4, 2>, qs8_gemm_c4_avx512vnni<4, 1>},
    {qs8_gemm_c4_avx512vnni<2, 3>, qs8_gemm_c4_avx512vnni<2, 2>, qs8_gemm_c4_avx512vnni<2, 1>},
    {qs8_gemm_c4_avx512vnni<1, 3>, qs8_gemm_c4_avx512vnni<1, 2>, qs8_gemm_c4_avx512vnni<1, 1>},
};

// Rows [0, rows) of a, kc bytes each: xq rows (+128), k columns [k0, k0 + kc)
// of which those >= k are zero (the weights are zero there).
void pack_rows(const int8_t* xq, int k, int rows, int k0, int kc, uint8_t* a) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  const int valid = k - k0 < kc ? k - k0 : kc;
  for (int r = 0; r < rows; ++r) {
    uint8_t* dst = a + size_t(r) * kc;
    const int8_t* src = xq + size_t(r) * k + k0;
    int p = 0;
    for (; p + 64 <= valid; p += 64)
      _mm512_storeu_si512(dst + p, _mm512_xor_si512(_mm512_loadu_si512(src + p), flip));
    for (; p < kc; p += 64) {  // the last partial 64 bytes and the zero padding
      const int left = valid - p, room = kc - p;
      const __mmask64 in = left >= 64 ? ~__mmask64(0) : left > 0 ? (__mmask64(1) << left) - 1 : 0;
      const __mmask64 out = room >= 64 ? ~__mmask64(0) : (__mmask64(1) << room) - 1;
      const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(in, src + p), flip);
      _mm512_mask_storeu_epi8(dst + p, out, _mm512_maskz_mov_epi8(in, v));
    }
  }
}

}  // namespace

void gemm_qs8_avx512vnni(const int8_t* xq, const float* x_scales, int m, int k,
                         const Qs8Weights& w, int n, const Epilogue& e, float* y, int ldy) {
  if (m <= 0 || n <= 0) return;
  const int kb = (k + kQs8TileK - 1) / kQs8TileK;
  const int kp = kb * kQs8TileK;
  const size_t ldw = size_t(kb) * kQs8TileN * kQs8TileK;  // bytes per 16-column block
  // Super-panel width: a multiple of 48 within the L2 budget, spread evenly over n.
  int nc_max = int(kL2Budget / size_t(kp > 0 ? kp : 1)) / kTileN * kTileN;
  nc_max = nc_max < kTileN ? kTileN : nc_max > kNCMax ? kNCMax : nc_max;
  const int panels = (n + nc_max - 1) / nc_max;
  const int nc = ((n + panels - 1) / panels + kTileN - 1) / kTileN * kTileN;

  alignas(64) uint8_t apack[kMR * kKC];
  alignas(64) int32_t cbuf[kMR * kNCMax];
  alignas(64) int32_t comp[kNCMax];  // 128 * sums[j]
  alignas(64) float wscale[kNCMax];

  for (int n0 = 0; n0 < n; n0 += nc) {
    const int ncols = n - n0 < nc ? n - n0 : nc;
    const int nblk = (ncols + kQs8TileN - 1) / kQs8TileN;
    for (int jv = 0; jv < nblk; ++jv) {
      const __mmask16 mk = lanes(ncols - jv * 16);
      _mm512_store_si512(comp + jv * 16,
                         _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mk, w.sums + n0 + jv * 16), 7));
      _mm512_store_ps(wscale + jv * 16, _mm512_maskz_loadu_ps(mk, w.scales + n0 + jv * 16));
    }
    const int8_t* wpanel = w.data + size_t(n0 / kQs8TileN) * ldw;
    for (int m0 = 0; m0 < m; m0 += kMR) {
      const int rows = m - m0 < kMR ? m - m0 : kMR;
      if (kp == 0) memset(cbuf, 0, sizeof(cbuf));
      for (int k0 = 0; k0 < kp; k0 += kKC) {
        const int kc = kp - k0 < kKC ? kp - k0 : kKC;
        pack_rows(xq + size_t(m0) * k, k, rows, k0, kc, apack);
        // A short block as 4 + 2 + 1-row tiles: 5 rows cost 15 vpdpbusd
        // per k group instead of the 8-row tile's 24.
        for (int r = 0; r < rows;) {
          const int left = rows - r;
          const int tr = left >= 8 ? 0 : left >= 4 ? 1 : left >= 2 ? 2 : 3;  // 8/4/2/1-row tile
          for (int jb = 0; jb < nblk; jb += 3) {
            const int nbk = nblk - jb < 3 ? nblk - jb : 3;
            kTiles[tr][3 - nbk](apack + size_t(r) * kc, kc,
                                wpanel + size_t(jb) * ldw + size_t(k0) * kQs8TileN, ldw,
                                kc / kQs8TileK, cbuf + r * nc + jb * 16, nc, k0 > 0);
          }
          r += kMR >> tr;
        }
      }
      // Dequantize: v = float(acc) * (x_scale * w_scale), + bias, (+ y).
      for (int r = 0; r < rows; ++r) {
        const __m512 xs = _mm512_set1_ps(x_scales[m0 + r]);
        float* yrow = y + size_t(m0 + r) * ldy + n0;
        const int32_t* crow = cbuf + r * nc;
        for (int jv = 0; jv < nblk; ++jv) {
          const __mmask16 mk = lanes(ncols - jv * 16);
          const __m512i acc = _mm512_sub_epi32(_mm512_load_si512(crow + jv * 16),
                                               _mm512_load_si512(comp + jv * 16));
          const __m512 s = _mm512_mul_ps(xs, _mm512_load_ps(wscale + jv * 16));
          __m512 v = rounded(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), s));
          // Masked stores are slow on Zen 4: full vectors go unmasked.
          if (mk == 0xFFFF) {
            if (e.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(e.bias + n0 + jv * 16));
            if (e.accumulate) v = _mm512_add_ps(_mm512_loadu_ps(yrow + jv * 16), v);
            _mm512_storeu_ps(yrow + jv * 16, v);
            continue;
          }
          if (e.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, e.bias + n0 + jv * 16));
          if (e.accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mk, yrow + jv * 16), v);
          _mm512_mask_storeu_ps(yrow + jv * 16, mk, v);
        }
        if (e.act != Act::None) activation_f32_avx512f(yrow, size_t(ncols), e.act);
      }
    }
  }
}

}  // namespace vitrt::kernels
