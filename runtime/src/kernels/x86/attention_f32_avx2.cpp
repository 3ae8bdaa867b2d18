// Attention, AVX2 (16 ymm registers). Same scheme as the AVX-512 kernel:
// per head, K^T packed once into 8-key panels (kp[p][d][8], keys past
// `tokens` zero); Q.K^T as a broadcast-q GEMM, 6 query rows x 16 keys in 12
// accumulators, the dot in blocks of kQkDepth dims; softmax numerators in
// place with a vector exp2; O = P.V as a broadcast-p GEMM (6 rows x 16
// columns) over key chunks whose V rows stay in L1, scaled by 1/sum at the
// end. Every output element sums its terms in a fixed order whichever tile
// computes it, so results do not depend on how [row_begin, row_end) is
// split between threads.
#include "kernels/x86/vmath_avx2.h"
#include "kernels/x86/x86_kernels.h"

namespace vitrt::kernels {
namespace {

constexpr int kQkRows = 6;    // query rows per Q.K^T block
constexpr int kQkPanels = 2;  // 8-key panels per Q.K^T block
constexpr int kQkDepth = 16;  // dims per FMA chain of a score
constexpr int kPvRows = 6;    // query rows per P.V block
constexpr int kPvCols = 16;   // output columns per P.V block (2 vectors)
constexpr int kPvKeys = 32;   // keys per P.V pass over the tile

inline int min_int(int a, int b) { return a < b ? a : b; }

inline void f32_transpose_8x8_avx2(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // u[i + c]: column 4 lane + c of rows i..i+3
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// kp[p][d][l] = k[(8 p + l) * ldk + d], zero for keys >= tokens.
void f32_attn_pack_kt_8_avx2(const float* k, size_t ldk, int tokens, int hd, float* kp) {
  for (int j0 = 0; j0 < tokens; j0 += 8) {
    const int nk = min_int(8, tokens - j0);
    float* panel = kp + static_cast<size_t>(j0) * hd;
    for (int d0 = 0; d0 < hd; d0 += 8) {
      const int nd = min_int(8, hd - d0);
      const __m256i m = f32_tail_mask_avx2(nd);
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = i < nk ? _mm256_maskload_ps(k + (j0 + i) * ldk + d0, m) : _mm256_setzero_ps();
      f32_transpose_8x8_avx2(r);
      for (int i = 0; i < nd; ++i) _mm256_store_ps(panel + (d0 + i) * 8, r[i]);
    }
  }
}

// s[r][8 p + l] = scale * q_r . k_{8 p + l} for MR rows x NP panels, the
// dot in blocks of kQkDepth dims summed through s (shorter FMA chains).
template <int MR, int NP>
void f32_attn_qk_tile_avx2(const float* q, size_t ldq, const float* kp, int hd, float scale,
                           float* s, int lds) {
  const size_t ps = static_cast<size_t>(hd) * 8;
  for (int d0 = 0; d0 < hd; d0 += kQkDepth) {
    const int d1 = min_int(hd, d0 + kQkDepth);
    __m256 acc[MR][NP];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm256_setzero_ps();
#pragma GCC unroll 2  // halves the loop overhead per FMA
    for (int d = d0; d < d1; ++d) {
      __m256 kv[NP];
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) kv[p] = _mm256_load_ps(kp + p * ps + d * 8);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const __m256 b = _mm256_broadcast_ss(q + r * ldq + d);
#pragma GCC unroll 16
        for (int p = 0; p < NP; ++p) acc[r][p] = _mm256_fmadd_ps(b, kv[p], acc[r][p]);
      }
    }
    const bool last = d1 == hd;
    const __m256 vs = _mm256_set1_ps(last ? scale : 1.f);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) {
        float* sp = s + r * lds + p * 8;
        __m256 t = d0 == 0 ? acc[r][p] : _mm256_add_ps(_mm256_load_ps(sp), acc[r][p]);
        _mm256_store_ps(sp, last ? _mm256_mul_ps(t, vs) : t);
      }
  }
}

template <int NP, int MR = kQkRows>
void f32_attn_qk_rows_avx2(int mr, const float* q, size_t ldq, const float* kp, int hd, float scale,
                           float* s, int lds) {
  if constexpr (MR > 1)
    if (mr < MR) return f32_attn_qk_rows_avx2<NP, MR - 1>(mr, q, ldq, kp, hd, scale, s, lds);
  f32_attn_qk_tile_avx2<MR, NP>(q, ldq, kp, hd, scale, s, lds);
}

// Rows s + r lds, r < R, get exp(s - max s) in place over [0, n), and
// inv[r] = 1 / sum (see the AVX-512 kernel). Two rows at a time for
// independent exp chains; each row's arithmetic is the same for R = 1, 2.
template <int R>
void f32_attn_softmax_rows_avx2(float* s, int lds, int n, float* inv) {
  const int nv = n / 8 * 8;
  const __m256i mt = f32_tail_mask_avx2(n - nv);
  const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
  __m256 m[R], b[R], sum[R];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) m[r] = ninf;
  for (int j = 0; j < nv; j += 8)
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) m[r] = _mm256_max_ps(m[r], _mm256_load_ps(s + r * lds + j));
  const float log2e = 1.44269504f;
  const __m256 vl = _mm256_set1_ps(log2e);
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    if (nv < n)
      m[r] = _mm256_max_ps(
          m[r], _mm256_blendv_ps(ninf, _mm256_load_ps(s + r * lds + nv), _mm256_castsi256_ps(mt)));
    b[r] = _mm256_set1_ps(-f32_hmax_avx2(m[r]) * log2e);
    sum[r] = _mm256_setzero_ps();
  }
  for (int j = 0; j < nv; j += 8)
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      float* sj = s + r * lds + j;
      const __m256 p = f32_exp2_nonpos_avx2(_mm256_fmadd_ps(_mm256_load_ps(sj), vl, b[r]));
      _mm256_store_ps(sj, p);
      sum[r] = _mm256_add_ps(sum[r], p);
    }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r) {
    if (nv < n) {  // lanes >= n are the row's padding, never read
      float* sj = s + r * lds + nv;
      const __m256 p = f32_exp2_nonpos_avx2(_mm256_fmadd_ps(_mm256_load_ps(sj), vl, b[r]));
      _mm256_store_ps(sj, p);
      sum[r] = _mm256_add_ps(sum[r], _mm256_and_ps(p, _mm256_castsi256_ps(mt)));
    }
    inv[r] = 1.f / f32_hsum_avx2(sum[r]);
  }
}

// o[r][0, 8 NV) (+)= sum_{j < nj} p[r][j] v[j] for MR rows: from 0 when
// `first`, else from the partial sums in o; times inv[r] when inv is given
// (last key chunk). MASK limits the last vector to the lanes of m.
template <int MR, int NV, bool MASK>
void f32_attn_pv_tile_avx2(const float* p, int ldp, const float* v, size_t ldv, int nj, __m256i m,
                           bool first, const float* inv, float* o, size_t ldo) {
  auto load = [&](const float* a, int c) {
    return MASK && c == NV - 1 ? _mm256_maskload_ps(a, m) : _mm256_loadu_ps(a);
  };
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c)
      acc[r][c] = first ? _mm256_setzero_ps() : load(o + r * ldo + 8 * c, c);
#pragma GCC unroll 2
  for (int j = 0; j < nj; ++j) {
    const float* vj = v + j * ldv;
    __m256 vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) vv[c] = load(vj + 8 * c, c);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * ldp + j);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm256_fmadd_ps(b, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    const __m256 vi = _mm256_set1_ps(inv ? inv[r] : 1.f);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const __m256 a = inv ? _mm256_mul_ps(acc[r][c], vi) : acc[r][c];
      if (MASK && c == NV - 1)
        _mm256_maskstore_ps(o + r * ldo + 8 * c, m, a);
      else
        _mm256_storeu_ps(o + r * ldo + 8 * c, a);
    }
  }
}

template <int NV, bool MASK, int MR = kPvRows>
void f32_attn_pv_rows_avx2(int mr, const float* p, int ldp, const float* v, size_t ldv, int nj,
                           __m256i m, bool first, const float* inv, float* o, size_t ldo) {
  if constexpr (MR > 1)
    if (mr < MR)
      return f32_attn_pv_rows_avx2<NV, MASK, MR - 1>(mr, p, ldp, v, ldv, nj, m, first, inv, o, ldo);
  f32_attn_pv_tile_avx2<MR, NV, MASK>(p, ldp, v, ldv, nj, m, first, inv, o, ldo);
}

// By panels (Q.K^T) or column vectors and fullness (P.V) of the block.
using QkRowsFn = void (*)(int, const float*, size_t, const float*, int, float, float*, int);
constexpr QkRowsFn kQkRowsFns[kQkPanels] = {f32_attn_qk_rows_avx2<1>, f32_attn_qk_rows_avx2<2>};
using PvRowsFn = void (*)(int, const float*, int, const float*, size_t, int, __m256i, bool,
                          const float*, float*, size_t);
constexpr PvRowsFn kPvRowsFns[kPvCols / 8][2] = {
    {f32_attn_pv_rows_avx2<1, true>, f32_attn_pv_rows_avx2<1, false>},
    {f32_attn_pv_rows_avx2<2, true>, f32_attn_pv_rows_avx2<2, false>}};

}  // namespace

void attention_f32_avx2(const float* qkv, float* out, float* scratch, int tokens, int heads,
                        int head_dim, float scale, int row_begin, int row_end) {
  if (row_begin >= row_end || tokens <= 0 || heads <= 0 || head_dim <= 0) return;
  const int hd = head_dim;
  const int tp = (tokens + 15) / 16 * 16;  // score row stride
  const int np = (tokens + 7) / 8;         // key panels
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
    f32_attn_pack_kt_8_avx2(k, ld, tokens, hd, kp);

    for (int r0 = row_begin; r0 < row_end; r0 += kAttnTileRows) {
      const int mr = min_int(kAttnTileRows, row_end - r0);
      const float* qt = q + r0 * ld;

      for (int p0 = 0; p0 < np; p0 += kQkPanels) {
        const float* kpp = kp + static_cast<size_t>(p0) * hd * 8;
        for (int i = 0; i < mr; i += kQkRows) {
          const int m = min_int(kQkRows, mr - i);
          float* si = s + i * tp + p0 * 8;
          kQkRowsFns[min_int(kQkPanels, np - p0) - 1](m, qt + i * ld, ld, kpp, hd, scale, si, tp);
        }
      }

      int r = 0;
      for (; r + 2 <= mr; r += 2) f32_attn_softmax_rows_avx2<2>(s + r * tp, tp, tokens, inv + r);
      if (r < mr) f32_attn_softmax_rows_avx2<1>(s + r * tp, tp, tokens, inv + r);

      // Keys in chunks so the chunk of V rows stays in L1 and the TLB.
      float* ot = out + r0 * inner + static_cast<size_t>(h) * hd;
      for (int j0 = 0; j0 < tokens; j0 += kPvKeys) {
        const int nj = min_int(kPvKeys, tokens - j0);
        const bool first = j0 == 0;
        const float* in = j0 + nj == tokens ? inv : nullptr;
        for (int c0 = 0; c0 < hd; c0 += kPvCols) {
          const int nc = min_int(kPvCols, hd - c0), nv = (nc + 7) / 8;
          const bool full = nc == 8 * nv;
          const __m256i ml = f32_tail_mask_avx2(nc - 8 * (nv - 1));
          const float* vc = v + j0 * ld + c0;
          for (int i = 0; i < mr; i += kPvRows) {
            const int m = min_int(kPvRows, mr - i);
            const float* pi = s + i * tp + j0;
            const float* ii = in ? in + i : nullptr;
            float* oi = ot + i * inner + c0;
            kPvRowsFns[nv - 1][full](m, pi, tp, vc, ld, nj, ml, first, ii, oi, inner);
          }
        }
      }
    }
  }
}

}  // namespace vitrt::kernels
