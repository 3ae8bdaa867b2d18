// peak: this CPU's per-core multiply-accumulate peaks, for the benchmark's
// "% of peak" columns. Built by run_bench.py with g++ -O3 -march=native for
// the machine it runs on, so the instructions compiled in are the ones to
// measure; run single-threaded. Prints one JSON object, GMAC/s per kernel:
//   fp32_fma       vfmadd*ps (zmm with AVX-512, else ymm; fp32_fma_isa says
//                  which), 1 FMA = 1 MAC
//   int8_vnni_zmm  vpdpbusd zmm (AVX512-VNNI)
//   int8_vnni_ymm  vpdpbusd ymm (AVX-VNNI, else AVX512-VNNI + VL)
//   int8_amx       tdpbssd (AMX-INT8; needs the kernel's tile-data permission)
// Keys the CPU lacks are left out. Expect 2 FMA or vpdpbusd per cycle (32 fp32
// or 128 int8 MACs per cycle in zmm) and up to 1024 int8 MACs per cycle with AMX.
// Each loop keeps many independent accumulators so that throughput, not
// latency, bounds it; the best of 5 timings of ~0.2 s each is reported.
// Timed in thread CPU time, so that other processes sharing the core (the
// machine is shared) lower the result less than wall time would.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <string>

namespace {

// Results are stored here so the compiler must compute them.
alignas(64) volatile uint8_t g_sink[64];

template <typename V>
void sink(const V& v) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&v);
  for (std::size_t i = 0; i < sizeof(V) && i < sizeof g_sink; ++i) g_sink[i] = bytes[i];
}

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Runs body(iterations) until it has taken ~0.2 s; returns the best
// rate, in GMAC/s, over 5 such timings. body returns the MACs it did.
template <typename Body>
double best_rate(Body body) {
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    long iters = 1 << 14;
    for (;;) {
      const double t0 = thread_seconds();
      const double macs = body(iters);
      const double s = thread_seconds() - t0;
      if (s > 0.2) {
        best = std::max(best, macs / s / 1e9);
        break;
      }
      iters *= s > 0.02 ? 2 : 8;
    }
  }
  return best;
}

// Independent accumulators: FMA and vpdpbusd have latency 4-5 on 2 ports, so
// at least 10 must be in flight; keep them all in registers: 16 of the 32
// zmm registers, 12 of the 16 ymm ones (VEX encodings reach only ymm0-15).
#define REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define REPEAT16(X) REPEAT12(X) X(12) X(13) X(14) X(15)

#if defined(__AVX512F__)
using VecF = __m512;
#define FMA_ISA "zmm"
#define FMA_ACCS REPEAT16
#define FMA_COUNT 16
#define SET1(x) _mm512_set1_ps(x)
#define FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ADD(a, b) _mm512_add_ps(a, b)
#else
using VecF = __m256;
#define FMA_ISA "ymm"
#define FMA_ACCS REPEAT12
#define FMA_COUNT 12
#define SET1(x) _mm256_set1_ps(x)
#define FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ADD(a, b) _mm256_add_ps(a, b)
#endif

double fp32_fma(long iters) {
  // c = c * m + a converges to a / (1 - m) = 1: finite for any count.
  const VecF m = SET1(0.9999999f), a = SET1(1e-7f);
#define DECL(i) VecF c##i = SET1(1.0f + i);
  FMA_ACCS(DECL)
  for (long n = 0; n < iters; ++n) {
#define STEP(i) c##i = FMADD(c##i, m, a);
    FMA_ACCS(STEP)
  }
  VecF s = SET1(0);
#define SUM(i) s = ADD(s, c##i);
  FMA_ACCS(SUM)
  sink(s);
  return double(iters) * FMA_COUNT * (sizeof(VecF) / 4);
}

// vpdpbusd in inline asm: GCC 12 compiles its intrinsics as if they were not
// destructive and fills the loop with register moves and spills.
#if defined(__AVX512VNNI__)
double vnni_zmm(long iters) {
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(2);
#define DECLZ(i) __m512i c##i = _mm512_set1_epi32(i);
  REPEAT16(DECLZ)
  for (long n = 0; n < iters; ++n) {
#define STEPZ(i) asm("vpdpbusd %2, %1, %0" : "+v"(c##i) : "v"(a), "v"(b));
    REPEAT16(STEPZ)
  }
  __m512i s = _mm512_setzero_si512();
#define SUMZ(i) s = _mm512_add_epi32(s, c##i);
  REPEAT16(SUMZ)
  sink(s);
  return double(iters) * 16 * 64;
}
#endif

#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
#if defined(__AVXVNNI__)
#define VPDPBUSD_YMM "%{vex%} vpdpbusd"  // %{ %}: braces are asm-dialect syntax
#else
#define VPDPBUSD_YMM "vpdpbusd"
#endif
double vnni_ymm(long iters) {
  const __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(2);
#define DECLY(i) __m256i c##i = _mm256_set1_epi32(i);
  REPEAT12(DECLY)
  for (long n = 0; n < iters; ++n) {
#define STEPY(i) asm(VPDPBUSD_YMM " %2, %1, %0" : "+x"(c##i) : "x"(a), "x"(b));
    REPEAT12(STEPY)
  }
  __m256i s = _mm256_setzero_si256();
#define SUMY(i) s = _mm256_add_epi32(s, c##i);
  REPEAT12(SUMY)
  sink(s);
  return double(iters) * 12 * 32;
}
#endif

#if defined(__AMX_INT8__) && defined(__AMX_TILE__)
// Linux hands out the AMX tile-data state only on request.
bool amx_permitted() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Four 16x16 int32 accumulators (tiles 0-3) from two A (4, 5) and two B
// (6, 7) tiles of 16 rows x 64 bytes: each tdpbssd is 16*16*64 MACs.
double amx_int8(long iters) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.bytes_per_row[t] = 64;
  }
  _tile_loadconfig(&cfg);
  alignas(64) static int8_t src[16 * 64];
  alignas(64) static int32_t dst[16 * 16];
  for (int i = 0; i < 16 * 64; ++i) src[i] = int8_t(i % 7 - 3);
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
  _tile_loadd(4, src, 64); _tile_loadd(5, src, 64);
  _tile_loadd(6, src, 64); _tile_loadd(7, src, 64);
  for (long n = 0; n < iters; ++n) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  _tile_stored(0, dst, 64);
  _tile_release();
  sink(dst);
  return double(iters) * 4 * 16 * 16 * 64;
}
#endif

}  // namespace

int main() {
  std::string json = "{";
  auto add = [&](const char* key, double value) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s\"%s\":%.1f", json.size() > 1 ? "," : "", key, value);
    json += buf;
  };
  json += "\"fp32_fma_isa\":\"" FMA_ISA "\"";
  add("fp32_fma", best_rate(fp32_fma));
#if defined(__AVX512VNNI__)
  add("int8_vnni_zmm", best_rate(vnni_zmm));
#endif
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
  add("int8_vnni_ymm", best_rate(vnni_ymm));
#endif
#if defined(__AMX_INT8__) && defined(__AMX_TILE__)
  if (amx_permitted()) add("int8_amx", best_rate(amx_int8));
  else std::fputs("peak: the kernel refused AMX tile data (arch_prctl); no int8_amx\n", stderr);
#endif
  std::printf("%s}\n", json.c_str());
  return 0;
}
