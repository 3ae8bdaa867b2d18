// Attention with AMX-BF16 tiles (Ops::attention_bf16, int8 models):
// attention_bf16_16x64_amx. q, k, v and the softmax numerators are rounded
// to bf16 (nearest even); Q.K^T and P.V sum in fp32 inside tdpbf16ps; the
// softmax runs in fp32 on the scores.
//
// Per head, K and V are packed once into B-tile order (the 1 KiB blocks of
// attention_bf16_avx512.h, one B tile each). Then per tile of 16 query
// rows: Q in bf16 (A tiles of 32 dims), scores S = Q.K^T four 16-key C
// tiles at a time, softmax rows into bf16 P (A tiles of 32 keys), O = P.V
// four 16-dim C tiles at a time, scaled by 1 / sum. Dims and keys past head_dim and tokens are zero in every packed
// operand, so any shape works. Query rows are independent and each row's
// arithmetic does not depend on the tile it is in: a thread split never
// changes a result.
#include <string.h>

#include "kernels/x86/amx_tiles.h"
#include "kernels/x86/attention_bf16_avx512.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kTileBytes = kBf16BlockBytes;
constexpr int kRows = 16;  // query rows per tile

inline int min_int(int a, int b) { return a < b ? a : b; }

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

}  // namespace

void attention_bf16_amx(const float* qkv, float* out, float* scratch, int tokens, int heads,
                        int head_dim, float scale, int row_begin, int row_end) {
  if (row_begin >= row_end || tokens <= 0 || heads <= 0 || head_dim <= 0) return;
  const int hd = head_dim;
  const Bf16Attention a = bf16_attention(scratch, tokens, hd);
  const int tp = a.tp, tp32 = a.tp32, steps = a.steps, ctiles = a.ctiles, ldq = a.ldq, ldp = a.ldp;
  uint8_t *kp = a.kp, *vp = a.vp, *qp = a.qp;
  float* s = a.s;
  uint16_t* p = a.p;
  const size_t inner = size_t(heads) * hd, ld = 3 * inner;
  alignas(64) float o[kRows * 64];
  float inv[kRows];

  _tile_loadconfig(&kAmxTiles16x64);
  for (int h = 0; h < heads; ++h) {
    const float* q = qkv + size_t(h) * hd;
    bf16_pack_k(q + inner, ld, tokens, hd, steps, kp);
    bf16_pack_v(q + 2 * inner, ld, tokens, hd, ctiles, vp);
    for (int r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int mr = min_int(kRows, row_end - r0);
      for (int r = 0; r < kRows; ++r)
        for (int st = 0; st < steps; ++st)
          _mm512_store_si512(qp + r * ldq + 64 * st,
                             r < mr ? bf16_row(q + (r0 + r) * ld, 32 * st, hd)
                                    : _mm512_setzero_si512());
      for (int t0 = 0; t0 < tp / 16; t0 += 4)
        kQk[min_int(4, tp / 16 - t0) - 1](qp, ldq, kp + size_t(t0) * steps * kTileBytes, steps,
                                          s + 16 * t0, tp);
      for (int r = 0; r < mr; ++r) inv[r] = bf16_softmax_row(s + r * tp, tokens, tp32, scale, p + r * tp32);
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
