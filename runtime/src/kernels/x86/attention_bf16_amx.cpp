// Attention with AMX-BF16 tiles (Ops::attention_bf16, int8 models):
// attention_bf16_16x64_amx. q, k, v and the softmax numerators are rounded
// to bf16 (nearest even); Q.K^T and P.V sum in fp32 inside tdpbf16ps; the
// softmax runs in fp32 on the scores.
//
// Per head, K and V are packed once into B-tile order (pairs of bf16 in a
// 32-bit lane, 16 rows of 64 bytes per 1 KiB tile):
// - K: per 16 keys and 32 dims, tile row r holds dims 2r, 2r+1 of each key
//   (a 16 x 16 transpose of the keys' bf16 pairs);
// - V: per 32 keys and 16 dims, tile row r holds keys 2r, 2r+1 of each dim.
// Then per tile of 16 query rows: Q in bf16 (A tiles of 32 dims), scores
// S = Q.K^T four 16-key C tiles at a time, softmax rows into bf16 P (A
// tiles of 32 keys), O = P.V four 16-dim C tiles at a time, scaled by
// 1 / sum. Dims and keys past head_dim and tokens are zero in every packed
// operand, so any shape works. Query rows are independent and each row's
// arithmetic does not depend on the tile it is in: a thread split never
// changes a result.
#include <string.h>

#include "kernels/x86/amx_tiles.h"
#include "kernels/x86/vmath_avx512f.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kTileBytes = 1024;
constexpr int kRows = 16;  // query rows per tile

inline int min_int(int a, int b) { return a < b ? a : b; }

// 32 floats (two vectors) as 32 bf16 in memory order (VCVTNE2PS2BF16:
// nearest even, NaN kept a quiet NaN).
inline __m512i bf16_32(__m512 lo, __m512 hi) { return __m512i(_mm512_cvtne2ps_pbh(hi, lo)); }

// 32 floats of row x from d0 (zero past n) as bf16.
inline __m512i row_bf16(const float* x, int d0, int n) {
  const __m512 lo = _mm512_maskz_loadu_ps(f32_tail_mask_avx512f(n - d0), x + d0);
  const __m512 hi = _mm512_maskz_loadu_ps(f32_tail_mask_avx512f(n - d0 - 16), x + d0 + 16);
  return bf16_32(lo, hi);
}

// kp[(t * steps + s) * 1 KiB]: keys 16 t.., dims 32 s.. in B-tile order.
void pack_k(const float* k, size_t ld, int tokens, int hd, int steps, uint8_t* kp) {
  for (int j0 = 0; j0 < tokens; j0 += 16)
    for (int s = 0; s < steps; ++s) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = j0 + i < tokens ? _mm512_castsi512_ps(row_bf16(k + (j0 + i) * ld, 32 * s, hd))
                               : _mm512_setzero_ps();
      f32_transpose_16x16_avx512f(r);  // 32-bit lanes: bf16 pairs move as one
      uint8_t* tile = kp + (size_t(j0 / 16) * steps + s) * kTileBytes;
      for (int i = 0; i < 16; ++i) _mm512_store_ps(reinterpret_cast<float*>(tile + 64 * i), r[i]);
    }
}

// vp[(u * ctiles + c) * 1 KiB]: keys 32 u.., dims 16 c.. in B-tile order;
// keys up to the next multiple of 32 are zero.
void pack_v(const float* v, size_t ld, int tokens, int hd, int ctiles, uint8_t* vp) {
  const __m512i pairs = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                          23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int j0 = 0; j0 < tokens; j0 += 32)
    for (int c = 0; c < ctiles; ++c) {
      const __mmask16 m = f32_tail_mask_avx512f(hd - 16 * c);
      uint8_t* tile = vp + (size_t(j0 / 32) * ctiles + c) * kTileBytes;
      for (int r = 0; r < 16; ++r) {
        const int j = j0 + 2 * r;
        const __m512 a = j < tokens ? _mm512_maskz_loadu_ps(m, v + j * ld + 16 * c)
                                    : _mm512_setzero_ps();
        const __m512 b = j + 1 < tokens ? _mm512_maskz_loadu_ps(m, v + (j + 1) * ld + 16 * c)
                                        : _mm512_setzero_ps();
        // a's 16 bf16 then b's, interleaved: lane d = (a[d], b[d]).
        _mm512_store_si512(tile + 64 * r, _mm512_permutexvar_epi16(pairs, bf16_32(a, b)));
      }
    }
}

// S[16][16 NT] = Q.K^T for key tiles t0..t0+NT: Q tiles of 32 dims from qp
// (stride ldq bytes), C tiles 0..NT-1, K tiles into 6 / 7 alternately.
template <int NT>
void qk_tiles(const uint8_t* qp, int ldq, const uint8_t* kp, int steps, float* s, int lds) {
  _tile_zero(0);
  if (NT > 1) _tile_zero(1);
  if (NT > 2) _tile_zero(2);
  if (NT > 3) _tile_zero(3);
  const size_t tstride = size_t(steps) * kTileBytes;
  for (int st = 0; st < steps; ++st) {
    const uint8_t* b = kp + size_t(st) * kTileBytes;
    _tile_loadd(4, qp + 64 * st, ldq);
    _tile_loadd(6, b, 64);
    _tile_dpbf16ps(0, 4, 6);
    if (NT > 1) {
      _tile_loadd(7, b + tstride, 64);
      _tile_dpbf16ps(1, 4, 7);
    }
    if (NT > 2) {
      _tile_loadd(6, b + 2 * tstride, 64);
      _tile_dpbf16ps(2, 4, 6);
    }
    if (NT > 3) {
      _tile_loadd(7, b + 3 * tstride, 64);
      _tile_dpbf16ps(3, 4, 7);
    }
  }
  const size_t ld = size_t(lds) * 4;
  _tile_stored(0, s, ld);
  if (NT > 1) _tile_stored(1, s + 16, ld);
  if (NT > 2) _tile_stored(2, s + 32, ld);
  if (NT > 3) _tile_stored(3, s + 48, ld);
}

// O[16][16 NC] = P.V for dim tiles c0..c0+NC over `ksteps` 32-key steps:
// P tiles from pp (stride ldp bytes), V tiles of dim tile c0 at vp (ctiles
// per key step), C tiles 0..NC-1 stored to o (16 x 64 floats).
template <int NC>
void pv_tiles(const uint8_t* pp, int ldp, const uint8_t* vp, int ctiles, int ksteps, float* o) {
  _tile_zero(0);
  if (NC > 1) _tile_zero(1);
  if (NC > 2) _tile_zero(2);
  if (NC > 3) _tile_zero(3);
  for (int u = 0; u < ksteps; ++u) {
    const uint8_t* b = vp + size_t(u) * ctiles * kTileBytes;
    _tile_loadd(4, pp + 64 * u, ldp);
    _tile_loadd(6, b, 64);
    _tile_dpbf16ps(0, 4, 6);
    if (NC > 1) {
      _tile_loadd(7, b + kTileBytes, 64);
      _tile_dpbf16ps(1, 4, 7);
    }
    if (NC > 2) {
      _tile_loadd(6, b + 2 * kTileBytes, 64);
      _tile_dpbf16ps(2, 4, 6);
    }
    if (NC > 3) {
      _tile_loadd(7, b + 3 * kTileBytes, 64);
      _tile_dpbf16ps(3, 4, 7);
    }
  }
  _tile_stored(0, o, 256);
  if (NC > 1) _tile_stored(1, o + 16, 256);
  if (NC > 2) _tile_stored(2, o + 32, 256);
  if (NC > 3) _tile_stored(3, o + 48, 256);
}

using QkFn = void (*)(const uint8_t*, int, const uint8_t*, int, float*, int);
constexpr QkFn kQk[4] = {qk_tiles<1>, qk_tiles<2>, qk_tiles<3>, qk_tiles<4>};
using PvFn = void (*)(const uint8_t*, int, const uint8_t*, int, int, float*);
constexpr PvFn kPv[4] = {pv_tiles<1>, pv_tiles<2>, pv_tiles<3>, pv_tiles<4>};

// Row s[0, n) of scores to bf16 numerators exp(scale (s - max)) in p[0, n32)
// (zero past n); returns 1 / their sum.
float softmax_row(const float* s, int n, int n32, float scale, uint16_t* p) {
  const int nv = (n + 15) / 16;
  __m512 m = _mm512_set1_ps(-__builtin_inff());
  for (int v = 0; v < nv; ++v) {
    const __mmask16 lanes = f32_tail_mask_avx512f(n - 16 * v);
    m = _mm512_mask_max_ps(m, lanes, m, _mm512_maskz_load_ps(lanes, s + 16 * v));
  }
  const float c = scale * 1.44269504f;
  const __m512 vc = _mm512_set1_ps(c), vb = _mm512_set1_ps(-_mm512_reduce_max_ps(m) * c);
  __m512 sum = _mm512_setzero_ps();
  for (int v = 0; v < n32 / 16; v += 2) {  // s has tp <= n32 floats: masked loads
    const __mmask16 l0 = f32_tail_mask_avx512f(n - 16 * v), l1 = f32_tail_mask_avx512f(n - 16 * v - 16);
    const __m512 e0 = _mm512_maskz_mov_ps(
        l0, f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_maskz_load_ps(l0, s + 16 * v), vc, vb)));
    const __m512 e1 = _mm512_maskz_mov_ps(
        l1, f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_maskz_load_ps(l1, s + 16 * v + 16), vc, vb)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(e0, e1));
    _mm512_store_si512(p + 16 * v, bf16_32(e0, e1));
  }
  // The sum of the unrounded numerators: within 2^-9 of the rounded ones'.
  return 1.f / _mm512_reduce_add_ps(sum);
}

uint8_t* align64(void* p) {
  return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

}  // namespace

void attention_bf16_amx(const float* qkv, float* out, float* scratch, int tokens, int heads,
                        int head_dim, float scale, int row_begin, int row_end) {
  if (row_begin >= row_end || tokens <= 0 || heads <= 0 || head_dim <= 0) return;
  const int hd = head_dim;
  const int tp = (tokens + 15) / 16 * 16, tp32 = (tokens + 31) / 32 * 32;
  const int steps = (hd + 31) / 32, ctiles = (hd + 15) / 16;
  const size_t inner = size_t(heads) * hd, ld = 3 * inner;
  // Scratch (attention_bf16_scratch_floats): packed K, packed V, the Q tile,
  // the score tile, the P tile; every part a multiple of 64 bytes.
  uint8_t* kp = align64(scratch);
  uint8_t* vp = kp + size_t(tp) * steps * 64;
  uint8_t* qp = vp + size_t(tp32) * ctiles * 32;
  float* s = reinterpret_cast<float*>(qp + size_t(kRows) * steps * 64);
  uint16_t* p = reinterpret_cast<uint16_t*>(s + size_t(kRows) * tp);
  const int ldq = steps * 64, ldp = tp32 * 2;
  alignas(64) float o[kRows * 64];
  float inv[kRows];

  _tile_loadconfig(&kAmxTiles16x64);
  for (int h = 0; h < heads; ++h) {
    const float* q = qkv + size_t(h) * hd;
    pack_k(q + inner, ld, tokens, hd, steps, kp);
    pack_v(q + 2 * inner, ld, tokens, hd, ctiles, vp);
    for (int r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int mr = min_int(kRows, row_end - r0);
      for (int r = 0; r < kRows; ++r)
        for (int st = 0; st < steps; ++st)
          _mm512_store_si512(qp + r * ldq + 64 * st,
                             r < mr ? row_bf16(q + (r0 + r) * ld, 32 * st, hd)
                                    : _mm512_setzero_si512());
      for (int t0 = 0; t0 < tp / 16; t0 += 4)
        kQk[min_int(4, tp / 16 - t0) - 1](qp, ldq, kp + size_t(t0) * steps * kTileBytes, steps,
                                          s + 16 * t0, tp);
      for (int r = 0; r < mr; ++r) inv[r] = softmax_row(s + r * tp, tokens, tp32, scale, p + r * tp32);
      if (mr < kRows) memset(p + mr * tp32, 0, size_t(kRows - mr) * ldp);
      float* orow = out + size_t(r0) * inner + size_t(h) * hd;
      for (int c0 = 0; c0 < ctiles; c0 += 4) {
        kPv[min_int(4, ctiles - c0) - 1](reinterpret_cast<const uint8_t*>(p), ldp,
                                         vp + size_t(c0) * kTileBytes, ctiles, tp32 / 32, o);
        const int d0 = 16 * c0, nd = min_int(64, hd - d0);
        for (int r = 0; r < mr; ++r) {
          const __m512 vi = _mm512_set1_ps(inv[r]);
          for (int d = 0; d < nd; d += 16)
            _mm512_mask_storeu_ps(orow + r * inner + d0 + d, f32_tail_mask_avx512f(nd - d),
                                  _mm512_mul_ps(_mm512_load_ps(o + r * 64 + d), vi));
        }
      }
    }
  }
  _tile_release();
}

}  // namespace vitrt::kernels
