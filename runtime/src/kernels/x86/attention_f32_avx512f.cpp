// Attention, AVX-512. Per head, K^T is packed once into 16-key panels
// (kp[p][d][16], keys past `tokens` zero) so Q.K^T is a broadcast-q GEMM:
// 8 query rows x 48 keys of scores in 24 registers, one panel load per 8
// FMAs. Then, per tile of up to kAttnTileRows query rows, each score row
// gets its softmax numerators in place (vector exp2), and O = P.V is a
// broadcast-p GEMM over V rows read 16 wide from qkv (6 rows x 64 columns),
// scaled by 1/sum at the end.
//
// Every output element sums its terms in a fixed order (d for a score, j
// for an output) whichever tile shape computes it, so a row's result does
// not depend on how threads split [row_begin, row_end).
#include "kernels/x86/vmath_avx512f.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kQkRows = 8;    // query rows per Q.K^T block
constexpr int kQkPanels = 3;  // 16-key panels per Q.K^T block
constexpr int kQkDepth = 16;  // dims per FMA chain of a score
constexpr int kPvCols = 64;   // output columns per P.V block
constexpr int kPvKeys = 32;   // keys per P.V pass over the tile

inline int min_int(int a, int b) { return a < b ? a : b; }

// kp[p][d][l] = k[(16 p + l) * ldk + d], zero for keys >= tokens.
void f32_attn_pack_kt_16_avx512f(const float* k, size_t ldk, int tokens, int hd, float* kp) {
  for (int j0 = 0; j0 < tokens; j0 += 16) {
    const int nk = min_int(16, tokens - j0);
    float* panel = kp + static_cast<size_t>(j0) * hd;
    for (int d0 = 0; d0 < hd; d0 += 16) {
      const int nd = min_int(16, hd - d0);
      const __mmask16 m = f32_tail_mask_avx512f(nd);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < nk ? _mm512_maskz_loadu_ps(m, k + (j0 + i) * ldk + d0) : _mm512_setzero_ps();
      f32_transpose_16x16_avx512f(r);
      for (int i = 0; i < nd; ++i) _mm512_store_ps(panel + (d0 + i) * 16, r[i]);
    }
  }
}

// s[r][16 p + l] = scale * q_r . k_{16 p + l} for MR rows x NP panels. The
// dot runs in blocks of kQkDepth dims, each block's partial sum added to
// the previous ones through s: shorter FMA chains, several times less
// rounding error than one chain when the scores are large.
template <int MR, int NP>
void f32_attn_qk_tile_avx512f(const float* q, size_t ldq, const float* kp, int hd, float scale,
                              float* s, int lds) {
  const size_t ps = static_cast<size_t>(hd) * 16;
  for (int d0 = 0; d0 < hd; d0 += kQkDepth) {
    const int d1 = min_int(hd, d0 + kQkDepth);
    __m512 acc[MR][NP];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_ps();
#pragma GCC unroll 2  // halves the loop overhead per FMA
    for (int d = d0; d < d1; ++d) {
      __m512 kv[NP];
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) kv[p] = _mm512_load_ps(kp + p * ps + d * 16);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const __m512 b = _mm512_set1_ps(q[r * ldq + d]);
#pragma GCC unroll 16
        for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_fmadd_ps(b, kv[p], acc[r][p]);
      }
    }
    const bool last = d1 == hd;
    const __m512 vs = _mm512_set1_ps(last ? scale : 1.f);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) {
        float* sp = s + r * lds + p * 16;
        __m512 t = d0 == 0 ? acc[r][p] : _mm512_add_ps(_mm512_load_ps(sp), acc[r][p]);
        _mm512_store_ps(sp, last ? _mm512_mul_ps(t, vs) : t);
      }
  }
}

// Up to MR rows: the tile of exactly mr rows (1 <= mr <= MR).
template <int NP, int MR = kQkRows>
void f32_attn_qk_rows_avx512f(int mr, const float* q, size_t ldq, const float* kp, int hd,
                              float scale, float* s, int lds) {
  if constexpr (MR > 1)
    if (mr < MR) return f32_attn_qk_rows_avx512f<NP, MR - 1>(mr, q, ldq, kp, hd, scale, s, lds);
  f32_attn_qk_tile_avx512f<MR, NP>(q, ldq, kp, hd, scale, s, lds);
}

// Rows s + r lds, r < R, get exp(s - max s) in place over [0, n), and
// inv[r] = 1 / sum. exp(x) = 2^(x log2 e) with the max folded into the fma:
// its rounding scales a whole row alike and cancels in the normalization.
// Two rows at a time give independent exp chains and overlap the per-row
// reductions; each row's arithmetic is the same for R = 1 and 2, so the
// pairing (which depends on the tile) never changes a result.
template <int R>
void f32_attn_softmax_rows_avx512f(float* s, int lds, int n, float* inv) {
  const int nv = n / 16 * 16;
  const __mmask16 mt = f32_tail_mask_avx512f(n - nv);
  __m512 m[R], b[R], sum[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) m[r] = _mm512_set1_ps(-__builtin_inff());
  for (int j = 0; j < nv; j += 16)
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) m[r] = _mm512_max_ps(m[r], _mm512_load_ps(s + r * lds + j));
  const float log2e = 1.44269504f;
  const __m512 vl = _mm512_set1_ps(log2e);
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    if (mt) m[r] = _mm512_mask_max_ps(m[r], mt, m[r], _mm512_load_ps(s + r * lds + nv));
    b[r] = _mm512_set1_ps(-_mm512_reduce_max_ps(m[r]) * log2e);
    sum[r] = _mm512_setzero_ps();
  }
  for (int j = 0; j < nv; j += 16)
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      float* sj = s + r * lds + j;
      const __m512 p = f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_load_ps(sj), vl, b[r]));
      _mm512_store_ps(sj, p);
      sum[r] = _mm512_add_ps(sum[r], p);
    }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    if (mt) {  // lanes >= n are the row's padding, never read
      float* sj = s + r * lds + nv;
      const __m512 p = f32_exp2_avx512f(_mm512_fmadd_ps(_mm512_load_ps(sj), vl, b[r]));
      _mm512_store_ps(sj, p);
      sum[r] = _mm512_mask_add_ps(sum[r], mt, sum[r], p);
    }
    inv[r] = 1.f / _mm512_reduce_add_ps(sum[r]);
  }
}

// o[r][0, 16 NV) (+)= sum_{j < nj} p[r][j] v[j] for MR rows: starts from 0
// when `first`, else from the partial sums in o; scales by inv[r] when inv
// is given (the last key chunk). The last column vector is limited to mlast.
template <int MR, int NV>
void f32_attn_pv_tile_avx512f(const float* p, int ldp, const float* v, size_t ldv, int nj,
                              __mmask16 mlast, bool first, const float* inv, float* o, size_t ldo) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c + 1 < NV; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(o + r * ldo + 16 * c);
    acc[r][NV - 1] =
        first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mlast, o + r * ldo + 16 * (NV - 1));
  }
#pragma GCC unroll 2
  for (int j = 0; j < nj; ++j) {
    const float* vj = v + j * ldv;
    __m512 vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c + 1 < NV; ++c) vv[c] = _mm512_loadu_ps(vj + 16 * c);
    vv[NV - 1] = _mm512_maskz_loadu_ps(mlast, vj + 16 * (NV - 1));
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 b = _mm512_set1_ps(p[r * ldp + j]);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(b, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const __m512 vi = _mm512_set1_ps(inv ? inv[r] : 1.f);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) acc[r][c] = inv ? _mm512_mul_ps(acc[r][c], vi) : acc[r][c];
#pragma GCC unroll 16
    for (int c = 0; c + 1 < NV; ++c) _mm512_storeu_ps(o + r * ldo + 16 * c, acc[r][c]);
    _mm512_mask_storeu_ps(o + r * ldo + 16 * (NV - 1), mlast, acc[r][NV - 1]);
  }
}

// Rows per P.V block for NV column vectors: about 24 accumulators.
constexpr int pv_rows(int nv) { return nv == 4 ? 6 : 8; }

template <int NV, int MR = pv_rows(NV)>
void f32_attn_pv_rows_avx512f(int mr, const float* p, int ldp, const float* v, size_t ldv, int nj,
                              __mmask16 mlast, bool first, const float* inv, float* o, size_t ldo) {
  if constexpr (MR > 1)
    if (mr < MR)
      return f32_attn_pv_rows_avx512f<NV, MR - 1>(mr, p, ldp, v, ldv, nj, mlast, first, inv, o,
                                                  ldo);
  f32_attn_pv_tile_avx512f<MR, NV>(p, ldp, v, ldv, nj, mlast, first, inv, o, ldo);
}

// By panels (Q.K^T) or column vectors (P.V) of the block, 1-based.
using QkRowsFn = void (*)(int, const float*, size_t, const float*, int, float, float*, int);
constexpr QkRowsFn kQkRowsFns[kQkPanels] = {
    f32_attn_qk_rows_avx512f<1>, f32_attn_qk_rows_avx512f<2>, f32_attn_qk_rows_avx512f<3>};
using PvRowsFn = void (*)(int, const float*, int, const float*, size_t, int, __mmask16, bool,
                          const float*, float*, size_t);
constexpr PvRowsFn kPvRowsFns[kPvCols / 16] = {
    f32_attn_pv_rows_avx512f<1>, f32_attn_pv_rows_avx512f<2>, f32_attn_pv_rows_avx512f<3>,
    f32_attn_pv_rows_avx512f<4>};

}  // namespace

void attention_f32_avx512f(const float* qkv, float* out, float* scratch, int tokens, int heads,
                           int head_dim, float scale, int row_begin, int row_end) {
  if (row_begin >= row_end || tokens <= 0 || heads <= 0 || head_dim <= 0) return;
  const int hd = head_dim;
  const int tp = (tokens + 15) / 16 * 16;  // score row stride
  const int np = tp / 16;                  // key panels
  const size_t inner = static_cast<size_t>(heads) * hd, ld = 3 * inner;
  // Scratch: the score tile, then packed K^T, both 64-byte aligned (the
  // spare 16 x tp floats of attention_scratch_floats() cover the shift).
  float* s = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  float* kp = s + static_cast<size_t>(kAttnTileRows) * tp;
  float inv[kAttnTileRows];

  for (int h = 0; h < heads; ++h) {
    const float* q = qkv + static_cast<size_t>(h) * hd;
    const float* k = q + inner;
    const float* v = k + inner;
    f32_attn_pack_kt_16_avx512f(k, ld, tokens, hd, kp);

    for (int r0 = row_begin; r0 < row_end; r0 += kAttnTileRows) {
      const int mr = min_int(kAttnTileRows, row_end - r0);
      const float* qt = q + r0 * ld;

      for (int p0 = 0; p0 < np; p0 += kQkPanels) {
        const float* kpp = kp + static_cast<size_t>(p0) * hd * 16;
        for (int i = 0; i < mr; i += kQkRows) {
          const int m = min_int(kQkRows, mr - i);
          float* si = s + i * tp + p0 * 16;
          kQkRowsFns[min_int(kQkPanels, np - p0) - 1](m, qt + i * ld, ld, kpp, hd, scale, si, tp);
        }
      }

      int r = 0;
      for (; r + 2 <= mr; r += 2) f32_attn_softmax_rows_avx512f<2>(s + r * tp, tp, tokens, inv + r);
      if (r < mr) f32_attn_softmax_rows_avx512f<1>(s + r * tp, tp, tokens, inv + r);

      // Keys in chunks so the chunk of V rows stays in L1 and the TLB: the
      // qkv row stride (e.g. 9 KiB) maps V rows to few cache sets.
      float* ot = out + r0 * inner + static_cast<size_t>(h) * hd;
      for (int j0 = 0; j0 < tokens; j0 += kPvKeys) {
        const int nj = min_int(kPvKeys, tokens - j0);
        const bool first = j0 == 0;
        const float* in = j0 + nj == tokens ? inv : nullptr;
        for (int c0 = 0; c0 < hd; c0 += kPvCols) {
          const int nc = min_int(kPvCols, hd - c0), nv = (nc + 15) / 16;
          const __mmask16 ml = f32_tail_mask_avx512f(nc - 16 * (nv - 1));
          const float* vc = v + j0 * ld + c0;
          const int rows = pv_rows(nv);
          for (int i = 0; i < mr; i += rows) {
            const int m = min_int(rows, mr - i);
            const float* pi = s + i * tp + j0;
            const float* ii = in ? in + i : nullptr;
            float* oi = ot + i * inner + c0;
            kPvRowsFns[nv - 1](m, pi, tp, vc, ld, nj, ml, first, ii, oi, inner);
          }
        }
      }
    }
  }
}

}  // namespace vitrt::kernels
