// Kernel sets, fastest first, and the CPU features each one needs. A set
// mixes kernels of several ISAs (the AMX set uses AVX-512 for everything but
// the int8 GEMM); each kernel lives in its own translation unit.
#include <string.h>

#include "kernels/kernels.h"
#if VITRT_X86_KERNELS
#include "kernels/x86/x86_kernels.h"
#endif
#if VITRT_XNNPACK_KERNELS
#include "kernels/xnnpack/xnnpack_kernels.h"
#endif

namespace vitrt::kernels {
namespace {

constexpr Ops kRef = {"ref", gemm_f32_ref, layernorm_f32_ref, attention_f32_ref, nullptr,
                      activation_f32_ref, conv2d_f32_ref, quantize_f32_qs8_ref, gemm_qs8_ref};

struct KernelSet {
  Ops ops;  // of a set built at run time, only the name
  bool (*supported)();
  const char* needs;  // the reason when unsupported
  const Ops* (*make)() = nullptr;  // the set built at run time, or null
};

const Ops& ops_of(const KernelSet& s) { return s.make ? *s.make() : s.ops; }

#if VITRT_XNNPACK_KERNELS
// After the native sets: XNNPACK's fp32 GEMM lost every ViT shape to ours
// on the AMX Xeon (bench/README.md); ahead of ref, which it beats. Built at
// its first selection (xnnpack_ops), so only its name is here.
const Ops* xnnpack_ops();
#define VITRT_XNNPACK_SET                                                               \
  {{"xnnpack", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}, \
   [] { return xnnpack_ops() != nullptr; }, "needs a CPU that XNNPACK supports", xnnpack_ops},
#define VITRT_XNNPACK_NAME "xnnpack",
#else
#define VITRT_XNNPACK_SET
#define VITRT_XNNPACK_NAME
#endif

#if VITRT_X86_KERNELS
bool has_avx2() {
  const CpuX86& c = cpu_x86();
  return c.avx2 && c.fma && c.f16c;
}
bool has_avxvnni() { return has_avx2() && cpu_x86().avx_vnni; }
bool has_avx512() {
  const CpuX86& c = cpu_x86();
  return has_avx2() && c.avx512f && c.avx512bw && c.avx512vl && c.avx512dq;
}
bool has_avx512vnni() { return has_avx512() && cpu_x86().avx512_vnni; }
bool has_avx512bf16() { return has_avx512vnni() && cpu_x86().avx512_bf16; }
bool has_amx() {
  const CpuX86& c = cpu_x86();
  return has_avx512bf16() && c.amx_tile && c.amx_int8 && c.amx_bf16 && c.os_amx;
}

constexpr Ops kAvx512 = {"", gemm_f32_avx512f, layernorm_f32_avx512f, attention_f32_avx512f,
                         nullptr, activation_f32_avx512f, conv2d_f32_ref, quantize_f32_qs8_avx512f,
                         nullptr};
constexpr Ops kAvx2 = {"", gemm_f32_avx2, layernorm_f32_avx2, attention_f32_avx2, nullptr,
                       activation_f32_avx2, conv2d_f32_ref, quantize_f32_qs8_avx2, nullptr};

constexpr Ops with(const Ops& base, const char* name, GemmQs8Fn gemm_qs8,
                   AttentionFn attention_bf16 = nullptr) {
  return {name, base.gemm, base.layernorm, base.attention, attention_bf16, base.activation,
          base.conv2d, base.quantize_qs8, gemm_qs8};
}

const KernelSet kSets[] = {
    {with(kAvx512, "amx", gemm_qs8_amx, attention_bf16_amx), has_amx,
     "needs AMX-TILE/AMX-INT8/AMX-BF16 with the OS's tile-data permission, and AVX-512 "
     "F/BW/VL/DQ/VNNI/BF16"},
    // Without AMX (Zen 4): VNNI GEMMs; int8 blocks' attention in bf16.
    {with(kAvx512, "avx512bf16", gemm_qs8_avx512vnni, attention_bf16_avx512bf16), has_avx512bf16,
     "needs AVX-512 F/BW/VL/DQ/VNNI/BF16"},
    {with(kAvx512, "avx512vnni", gemm_qs8_avx512vnni), has_avx512vnni,
     "needs AVX-512 F/BW/VL/DQ/VNNI"},
    {with(kAvx2, "avxvnni", gemm_qs8_avxvnni), has_avxvnni, "needs AVX-VNNI, AVX2, FMA, F16C"},
    {with(kAvx2, "avx2", gemm_qs8_avx2), has_avx2, "needs AVX2, FMA, F16C"},
    VITRT_XNNPACK_SET
    {kRef, [] { return true; }, ""},
};
const char* const kNames[] = {"amx", "avx512bf16", "avx512vnni",
                              "avxvnni", "avx2", VITRT_XNNPACK_NAME "ref"};
#else
const KernelSet kSets[] = {VITRT_XNNPACK_SET {kRef, [] { return true; }, ""}};
const char* const kNames[] = {VITRT_XNNPACK_NAME "ref"};
#endif
constexpr int kCount = sizeof(kSets) / sizeof(kSets[0]);
static_assert(sizeof(kNames) / sizeof(kNames[0]) == kCount, "one name per set");

#if VITRT_XNNPACK_KERNELS
// The best supported set before it (ref when none) with XNNPACK's fp32
// GEMM; XNNPACK starts here, once. Null when XNNPACK lacks this CPU.
const Ops* xnnpack_ops() {
  static const Ops* const ops = []() -> const Ops* {
    const Ops* base = &kRef;
    for (const KernelSet& s : kSets) {
      if (s.make == xnnpack_ops) break;
      if (s.supported()) {
        base = &s.ops;
        break;
      }
    }
    static Ops xnn = *base;
    xnn.name = "xnnpack";
    xnn.gemm = gemm_f32_xnnpack;
    xnn.f32_panel_scratch = true;
    return xnnpack_init(*base) ? &xnn : nullptr;
  }();
  return ops;
}
#endif

}  // namespace

const Ops& default_ops() {
  for (const KernelSet& s : kSets)
    if (s.supported()) return ops_of(s);
  return kRef;
}

const Ops* find_ops(const char* name, const char** why) {
  for (const KernelSet& s : kSets) {
    if (strcmp(s.ops.name, name) != 0) continue;
    if (s.supported()) return &ops_of(s);
    if (why) *why = s.needs;
    return nullptr;
  }
  if (why) *why = "no kernel set of that name in this build";
  return nullptr;
}

int kernel_set_names(const char* const** names) {
  *names = kNames;
  return kCount;
}

}  // namespace vitrt::kernels
