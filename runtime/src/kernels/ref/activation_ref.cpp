#include <math.h>

#include "kernels/kernels.h"

namespace vitrt::kernels {

void gelu_erf_f32_ref(float* x, size_t n) {
  const float inv_sqrt2 = 0.70710678118654752f;
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.f + erff(x[i] * inv_sqrt2));
}

void gelu_tanh_f32_ref(float* x, size_t n) {
  const float sqrt_2_over_pi = 0.79788456080286536f;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.f + tanhf(sqrt_2_over_pi * (v + 0.044715f * v * v * v)));
  }
}

void relu_f32_ref(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0.f ? x[i] : 0.f;
}

void tanh_f32_ref(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = tanhf(x[i]);
}

void activation_f32_ref(float* x, size_t n, Act act) {
  switch (act) {
    case Act::None: return;
    case Act::GeluErf: return gelu_erf_f32_ref(x, n);
    case Act::GeluTanh: return gelu_tanh_f32_ref(x, n);
    case Act::Relu: return relu_f32_ref(x, n);
    case Act::Tanh: return tanh_f32_ref(x, n);
  }
}

}  // namespace vitrt::kernels
