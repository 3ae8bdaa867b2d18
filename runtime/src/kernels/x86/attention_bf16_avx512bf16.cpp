// Attention with AVX512-BF16 dot products (Ops::attention_bf16, int8 models)
// for CPUs that have them without AMX (AMD Zen 4, Intel Cooper Lake): the
// arithmetic of attention_bf16_amx.cpp - q, k, v and the softmax numerators
// rounded to bf16, products summed in fp32, softmax in fp32 - at twice the
// fp32 FMA rate (vdpbf16ps: two products per lane).
//
// Per head, K and V are packed once into the 1 KiB blocks of
// attention_bf16_avx512.h. Per tile of 16 query rows, Q is rounded to bf16
// rows; then
// - attention_bf16_qk_8x48_avx512bf16: scores of 8 rows x 48 keys in 24
//   registers, per dim pair 3 key loads, 8 broadcast q pairs, 24 vdpbf16ps;
// - bf16 softmax numerators per row (fp32 exp, sum of the unrounded ones);
// - attention_bf16_pv_6x64_avx512bf16: 6 rows x 64 dims in 24 registers,
//   per key pair 4 value loads, 6 broadcast p pairs, 24 vdpbf16ps, scaled
//   by 1 / sum.
// Every output sums its pairs in order (dims for a score, keys for an
// output) whatever tile computes it, so a thread split never changes a
// result.
#include <string.h>

#include "kernels/x86/attention_bf16_avx512.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kRows = 16;     // query rows per tile
constexpr int kQkRows = 8;    // rows per Q.K^T block
constexpr int kQkPanels = 3;  // 16-key panels per Q.K^T block
constexpr int kPvRows = 6;     // rows per P.V block
constexpr int kPvVecs = 4;    // 16-dim vectors per P.V block

inline int min_int(int a, int b) { return a < b ? a : b; }

inline __m512bh pair_of(const uint8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return __m512bh(_mm512_set1_epi32(v));
}

// s[r][16 t + l] = q_r . k_{16 t + l} over `pairs` dim pairs, MR rows x NP
// panels: q rows in qp (ldq bytes apart), panel t at kp + t * panel_bytes.
template <int MR, int NP>
void attention_bf16_qk_avx512bf16(const uint8_t* qp, int ldq, const uint8_t* kp,
                                  size_t panel_bytes, int pairs, float* s, int lds) {
  __m512 acc[MR][NP];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < NP; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int i = 0; i < pairs; ++i) {
    __m512bh kv[NP];
#pragma GCC unroll 4
    for (int t = 0; t < NP; ++t)
      kv[t] = __m512bh(_mm512_load_si512(kp + t * panel_bytes + size_t(i) * 64));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh a = pair_of(qp + r * ldq + 4 * i);
#pragma GCC unroll 4
      for (int t = 0; t < NP; ++t) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], a, kv[t]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < NP; ++t) _mm512_store_ps(s + r * lds + 16 * t, acc[r][t]);
}

// The block of exactly mr rows (1 <= mr <= MR).
template <int NP, int MR = kQkRows>
void qk_rows(int mr, const uint8_t* qp, int ldq, const uint8_t* kp, size_t panel_bytes, int pairs,
             float* s, int lds) {
  if constexpr (MR > 1)
    if (mr < MR) return qk_rows<NP, MR - 1>(mr, qp, ldq, kp, panel_bytes, pairs, s, lds);
  attention_bf16_qk_avx512bf16<MR, NP>(qp, ldq, kp, panel_bytes, pairs, s, lds);
}

// o[r][16 c + l] = inv[r] * sum over `pairs` key pairs of p_r . v, MR rows x
// NV dim vectors: p rows in pp (ldp bytes apart), V blocks of the first dim
// vector at vp (ctiles blocks per 32 keys); o rows ldo floats apart, nd dims.
template <int MR, int NV>
void attention_bf16_pv_avx512bf16(const uint8_t* pp, int ldp, const uint8_t* vp, int ctiles,
                                  int pairs, const float* inv, float* o, size_t ldo, int nd) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int i0 = 0; i0 < pairs; i0 += 16) {
    const uint8_t* b = vp + size_t(i0 / 16) * ctiles * kBf16BlockBytes;
    const int n = min_int(16, pairs - i0);
    for (int i = 0; i < n; ++i) {
      __m512bh vv[NV];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c)
        vv[c] = __m512bh(_mm512_load_si512(b + c * kBf16BlockBytes + i * 64));
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512bh a = pair_of(pp + r * ldp + 4 * (i0 + i));
#pragma GCC unroll 4
        for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], a, vv[c]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    const __m512 vi = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 4
    for (int c = 0; c < NV; ++c)
      _mm512_mask_storeu_ps(o + r * ldo + 16 * c, f32_tail_mask_avx512f(nd - 16 * c),
                            _mm512_mul_ps(acc[r][c], vi));
  }
}

template <int NV, int MR = kPvRows>
void pv_rows(int mr, const uint8_t* pp, int ldp, const uint8_t* vp, int ctiles, int pairs,
             const float* inv, float* o, size_t ldo, int nd) {
  if constexpr (MR > 1)
    if (mr < MR) return pv_rows<NV, MR - 1>(mr, pp, ldp, vp, ctiles, pairs, inv, o, ldo, nd);
  attention_bf16_pv_avx512bf16<MR, NV>(pp, ldp, vp, ctiles, pairs, inv, o, ldo, nd);
}

// By panels (Q.K^T) or dim vectors (P.V) of the block, 1-based.
using QkFn = void (*)(int, const uint8_t*, int, const uint8_t*, size_t, int, float*, int);
constexpr QkFn kQk[kQkPanels] = {qk_rows<1>, qk_rows<2>, qk_rows<3>};
using PvFn = void (*)(int, const uint8_t*, int, const uint8_t*, int, int, const float*, float*,
                      size_t, int);
constexpr PvFn kPv[kPvVecs] = {pv_rows<1>, pv_rows<2>, pv_rows<3>, pv_rows<4>};

}  // namespace

void attention_bf16_avx512bf16(const float* qkv, float* out, float* scratch, int tokens, int heads,
                               int head_dim, float scale, int row_begin, int row_end) {
  if (row_begin >= row_end || tokens <= 0 || heads <= 0 || head_dim <= 0) return;
  const int hd = head_dim;
  const Bf16Attention a = bf16_attention(scratch, tokens, hd);
  const int tp = a.tp, tp32 = a.tp32, steps = a.steps, ctiles = a.ctiles, ldq = a.ldq, ldp = a.ldp;
  const int dim_pairs = (hd + 1) / 2, key_pairs = (tokens + 1) / 2;
  const size_t inner = size_t(heads) * hd, ld = 3 * inner;
  const size_t panel_bytes = size_t(steps) * kBf16BlockBytes;
  float inv[kRows];

  for (int h = 0; h < heads; ++h) {
    const float* q = qkv + size_t(h) * hd;
    bf16_pack_k(q + inner, ld, tokens, hd, steps, a.kp);
    bf16_pack_v(q + 2 * inner, ld, tokens, hd, ctiles, a.vp);
    for (int r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int mr = min_int(kRows, row_end - r0);
      for (int r = 0; r < mr; ++r)
        for (int st = 0; st < steps; ++st)
          _mm512_store_si512(a.qp + r * ldq + 64 * st, bf16_row(q + (r0 + r) * ld, 32 * st, hd));
      for (int t0 = 0; t0 < tp / 16; t0 += kQkPanels)
        for (int i = 0; i < mr; i += kQkRows)
          kQk[min_int(kQkPanels, tp / 16 - t0) - 1](min_int(kQkRows, mr - i), a.qp + i * ldq, ldq,
                                                   a.kp + t0 * panel_bytes, panel_bytes, dim_pairs,
                                                   a.s + i * tp + 16 * t0, tp);
      for (int r = 0; r < mr; ++r)
        inv[r] = bf16_softmax_row(a.s + r * tp, tokens, tp32, scale, a.p + r * tp32);
      float* orow = out + size_t(r0) * inner + size_t(h) * hd;
      for (int c0 = 0; c0 < ctiles; c0 += kPvVecs)
        for (int i = 0; i < mr; i += kPvRows)
          kPv[min_int(kPvVecs, ctiles - c0) - 1](
              min_int(kPvRows, mr - i), reinterpret_cast<const uint8_t*>(a.p + i * tp32), ldp,
              a.vp + size_t(c0) * kBf16BlockBytes, ctiles, key_pairs, inv + i,
              orow + i * inner + 16 * c0, inner, hd - 16 * c0);
    }
  }
}

}  // namespace vitrt::kernels
