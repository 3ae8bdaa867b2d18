// fp16 weights, fp32 arithmetic: convert a few weight rows, then reuse the
// fp32 GEMM. A later F16C / NEON kernel converts in registers instead.
#include "kernels/kernels.h"

#include <string.h>

namespace vitrt::kernels {
namespace {

// IEEE half bits to float, without relying on a compiler _Float16 type.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else {
    const float v = static_cast<float>(mantissa) * 0x1p-24f;  // zero, subnormal: exact
    memcpy(&bits, &v, sizeof(bits));
    bits |= sign;
  }
  float f;
  memcpy(&f, &bits, sizeof(f));
  return f;
}

}  // namespace

void gemm_f16w_f32_ref(const float* x, int m, int k, const uint16_t* w, const float* bias, int n,
                       float* y, int ldy, bool accumulate, float* scratch) {
  for (int j = 0; j < n; j += kF16ScratchRows) {
    const int rows = n - j < kF16ScratchRows ? n - j : kF16ScratchRows;
    const uint16_t* src = w + static_cast<size_t>(j) * k;
    for (size_t i = 0; i < static_cast<size_t>(rows) * k; ++i) scratch[i] = half_to_float(src[i]);
    gemm_f32_ref(x, m, k, scratch, bias ? bias + j : nullptr, rows, y + j, ldy, accumulate);
  }
}

}  // namespace vitrt::kernels
