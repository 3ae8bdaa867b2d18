// x86 feature detection: cpuid says what the CPU has, xgetbv what the OS
// saves on context switches; AMX tile data also needs a per-process
// permission, which the platform layer requests (Linux: arch_prctl).
#include <cpuid.h>

#include "kernels/x86/x86_kernels.h"
#include "vitrt/platform.h"

namespace vitrt::kernels {
namespace {

uint64_t xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}

CpuX86 detect() {
  CpuX86 c{};
  unsigned a, b, cx, d;
  if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
  const bool osxsave = cx & (1u << 27);
  c.fma = cx & (1u << 12);
  c.f16c = cx & (1u << 29);
  const bool avx = cx & (1u << 28);
  const uint64_t xcr = osxsave ? xcr0() : 0;
  c.os_ymm = avx && (xcr & 0x6) == 0x6;            // SSE + AVX state
  c.os_zmm = c.os_ymm && (xcr & 0xe0) == 0xe0;     // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_tiles = (xcr & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  if (__get_cpuid_max(0, nullptr) < 7) return c;
  __cpuid_count(7, 0, a, b, cx, d);
  c.avx2 = c.os_ymm && (b & (1u << 5));
  c.avx512f = c.os_zmm && (b & (1u << 16));
  c.avx512dq = c.os_zmm && (b & (1u << 17));
  c.avx512bw = c.os_zmm && (b & (1u << 30));
  c.avx512vl = c.os_zmm && (b & (1u << 31));
  c.avx512_vnni = c.os_zmm && (cx & (1u << 11));
  c.amx_bf16 = d & (1u << 22);
  c.amx_tile = d & (1u << 24);
  c.amx_int8 = d & (1u << 25);
  __cpuid_count(7, 1, a, b, cx, d);
  c.avx_vnni = c.os_ymm && (a & (1u << 4));
  c.avx512_bf16 = c.os_zmm && (a & (1u << 5));
  c.os_amx = c.amx_tile && os_tiles && vitrt_platform_request_amx() != 0;
  c.fma = c.fma && c.os_ymm;
  c.f16c = c.f16c && c.os_ymm;
  return c;
}

}  // namespace

const CpuX86& cpu_x86() {
  static const CpuX86 cpu = detect();
  return cpu;
}

}  // namespace vitrt::kernels
