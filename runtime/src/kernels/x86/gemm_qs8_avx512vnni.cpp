// Int8 GEMM (GemmQs8Fn) with AVX-512 VNNI over Blocked16x4 weights.
//
// Microkernel qs8_gemm_8x48c4_avx512vnni: 8 rows x 48 columns (three 16-column
// Blocked16x4 blocks) in 24 zmm int32 accumulators. Per 4 k: three 64-byte
// weight loads (16 columns x 4 k, one block row, read straight from the model
// layout), 8 broadcasts of 4 activation bytes, 24 vpdpbusd. Tails: 4/2/1 rows,
// 32/16 columns (qs8_gemm_c4 template).
//
// vpdpbusd is u8 x s8, so activations get +128 (xor 0x80, after each
// broadcast: one vpxord per 3 vpdpbusd, on another port) and the epilogue
// subtracts 128 * sums[j]. Loop order: 48-column tiles, then groups of up to
// 256 rows, then k chunks of <= 768, then 8-row blocks: a tile's weights
// (48 x 768 bytes = 36 KiB) stay in L1 while every row streams past, and
// the activations (at most 197 x 3072 bytes for ViT-B) come from L2, read in
// place - 8 x 4 bytes per k group where the weights would be 192. The int32
// sums of a row group go to a stack buffer that the epilogue dequantizes
// exactly as the reference does, applying the activation in registers.

#include <string.h>

#include "kernels/x86/intrinsics.h"
#include "kernels/x86/vmath_avx512f.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kMR = 8;         // rows per row block
constexpr int kKC = 768;       // k per chunk: a tile's weights (48 x kKC = 36 KiB) stay in L1
constexpr int kTileN = 48;     // columns per microkernel call
constexpr int kRowGroup = 256; // rows per pass over a tile: int32 C buffer 48 KiB

// Keeps a product in a register so GCC cannot contract it with the next add
// into an FMA (the reference rounds the product and the sum separately).
inline __m512 rounded(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

inline __mmask16 lanes(int count) {
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
}

// c[MR][16 * NB] (+)= sum over kb groups of 4 k of a[r] . W; w is the first
// block's k group, ldw the bytes between blocks. kFlip: a holds the s8 rows
// of stride lda, flipped to u8 (+128) after each broadcast; else u8 rows.
template <int MR, int NB, bool kFlip>
void qs8_gemm_c4_avx512vnni(const uint8_t* a, int lda, const int8_t* w, size_t ldw, int kb,
                            int32_t* c, int ldc, bool load_c) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
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
      __m512i av = _mm512_set1_epi32(x4);
      if (kFlip) av = _mm512_xor_si512(av, flip);
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
template <bool F>
constexpr TileFn kTiles[4][3] = {
    {qs8_gemm_c4_avx512vnni<8, 3, F>, qs8_gemm_c4_avx512vnni<8, 2, F>, qs8_gemm_c4_avx512vnni<8, 1, F>},
    {qs8_gemm_c4_avx512vnni<4, 3, F>, qs8_gemm_c4_avx512vnni<4, 2, F>, qs8_gemm_c4_avx512vnni<4, 1, F>},
    {qs8_gemm_c4_avx512vnni<2, 3, F>, qs8_gemm_c4_avx512vnni<2, 2, F>, qs8_gemm_c4_avx512vnni<2, 1, F>},
    {qs8_gemm_c4_avx512vnni<1, 3, F>, qs8_gemm_c4_avx512vnni<1, 2, F>, qs8_gemm_c4_avx512vnni<1, 1, F>},
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

// One 48-column tile's int32 sums over rows [0, rows) of xq into c (ldc
// kTileN), k in chunks of kc. A k that is a multiple of 4 is read in place;
// another is packed per 8-row block (+128, zero padded to kp).
void tile_sums(const int8_t* xq, int rows, int k, int kp, int kc, const int8_t* w, size_t ldw,
               int nbk, int32_t* c) {
  alignas(64) uint8_t apack[kMR * kKC];
  const bool direct = kp == k;
  if (kp == 0) memset(c, 0, sizeof(int32_t) * size_t(rows) * kTileN);
  for (int k0 = 0; k0 < kp; k0 += kc) {
    const int kcc = kp - k0 < kc ? kp - k0 : kc;
    for (int m0 = 0; m0 < rows; m0 += kMR) {
      const int mr = rows - m0 < kMR ? rows - m0 : kMR;
      const uint8_t* a = reinterpret_cast<const uint8_t*>(xq) + size_t(m0) * k + k0;
      int lda = k;
      if (!direct) {
        pack_rows(xq + size_t(m0) * k, k, mr, k0, kcc, apack);
        a = apack, lda = kcc;
      }
      // A short block as 4 + 2 + 1-row tiles: 5 rows cost 15 vpdpbusd
      // per k group instead of the 8-row tile's 24.
      for (int r = 0; r < mr;) {
        const int left = mr - r;
        const int tr = left >= 8 ? 0 : left >= 4 ? 1 : left >= 2 ? 2 : 3;  // 8/4/2/1-row tile
        (direct ? kTiles<true> : kTiles<false>)[tr][3 - nbk](
            a + size_t(r) * lda, lda, w + size_t(k0) * kQs8TileN, ldw, kcc / kQs8TileK,
            c + size_t(m0 + r) * kTileN, kTileN, k0 > 0);
        r += kMR >> tr;
      }
    }
  }
}

// One tile's per-column constants and epilogue flags, copied out of *e (y
// stores could alias it, which would reload it every vector).
struct TileConstants {
  __m512i comp[3];  // 128 * sums[j]
  __m512 wscale[3], bias_v[3];
  int ncols, nbk;
  bool bias, accumulate;
};

// Rows [0, rows) of the tile's int32 sums c to y: v = float(acc) * (x_scale *
// w_scale), + bias, (+ y), then the activation in registers.
template <Act A>
void dequantize(const int32_t* c, int rows, const float* x_scales, const TileConstants& t,
                float* y, int ldy) {
  for (int r = 0; r < rows; ++r) {
    const __m512 xs = _mm512_set1_ps(x_scales[r]);
    float* yrow = y + size_t(r) * ldy;
    const int32_t* crow = c + r * kTileN;
    for (int jv = 0; jv < t.nbk; ++jv) {
      const __mmask16 mk = lanes(t.ncols - jv * 16);
      const __m512i acc = _mm512_sub_epi32(_mm512_load_si512(crow + jv * 16), t.comp[jv]);
      __m512 v = rounded(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(xs, t.wscale[jv])));
      if (t.bias) v = _mm512_add_ps(v, t.bias_v[jv]);
      // Masked stores are slow on Zen 4: full vectors go unmasked.
      if (mk == 0xFFFF) {
        if (t.accumulate) v = _mm512_add_ps(_mm512_loadu_ps(yrow + jv * 16), v);
        _mm512_storeu_ps(yrow + jv * 16, f32_act_avx512f(v, A));
        continue;
      }
      if (t.accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mk, yrow + jv * 16), v);
      _mm512_mask_storeu_ps(yrow + jv * 16, mk, f32_act_avx512f(v, A));
    }
  }
}

using DequantizeFn = void (*)(const int32_t*, int, const float*, const TileConstants&, float*, int);

DequantizeFn dequantize_for(Act act) {
  switch (act) {
    case Act::None: return dequantize<Act::None>;
    case Act::GeluErf: return dequantize<Act::GeluErf>;
    case Act::GeluTanh: return dequantize<Act::GeluTanh>;
    case Act::Relu: return dequantize<Act::Relu>;
    case Act::Tanh: return dequantize<Act::Tanh>;
  }
  return dequantize<Act::None>;
}

}  // namespace

void gemm_qs8_avx512vnni(const int8_t* xq, const float* x_scales, int m, int k,
                         const Qs8Weights& w, int n, const Epilogue& e, float* y0, int ldy) {
  if (m <= 0 || n <= 0) return;
  const int kb = (k + kQs8TileK - 1) / kQs8TileK;
  const int kp = kb * kQs8TileK;
  const size_t ldw = size_t(kb) * kQs8TileN * kQs8TileK;  // bytes per 16-column block
  // k chunks of at most kKC, spread evenly (multiples of 4).
  const int chunks = (kp + kKC - 1) / kKC;
  const int kc = ((kp + chunks - 1) / (chunks > 0 ? chunks : 1) + 3) / 4 * 4;
  alignas(64) int32_t cbuf[kRowGroup * kTileN];
  const DequantizeFn dequant = dequantize_for(e.act);  // the activation's choice out of the loops

  for (int n0 = 0; n0 < n; n0 += kTileN) {
    float* const y = y0 + n0;
    const int ncols = n - n0 < kTileN ? n - n0 : kTileN;
    const int nbk = (ncols + kQs8TileN - 1) / kQs8TileN;
    TileConstants t;
    t.ncols = ncols, t.nbk = nbk, t.bias = e.bias != nullptr, t.accumulate = e.accumulate;
    for (int jv = 0; jv < nbk; ++jv) {
      const __mmask16 mk = lanes(ncols - jv * 16);
      t.comp[jv] = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mk, w.sums + n0 + jv * 16), 7);
      t.wscale[jv] = _mm512_maskz_loadu_ps(mk, w.scales + n0 + jv * 16);
      t.bias_v[jv] = t.bias ? _mm512_maskz_loadu_ps(mk, e.bias + n0 + jv * 16) : _mm512_setzero_ps();
    }
    const int8_t* wtile = w.data + size_t(n0 / kQs8TileN) * ldw;
    for (int g0 = 0; g0 < m; g0 += kRowGroup) {
      const int rows = m - g0 < kRowGroup ? m - g0 : kRowGroup;
      tile_sums(xq + size_t(g0) * k, rows, k, kp, kc, wtile, ldw, nbk, cbuf);
      dequant(cbuf, rows, x_scales + g0, t, y + size_t(g0) * ldy, ldy);
    }
  }
}

}  // namespace vitrt::kernels
