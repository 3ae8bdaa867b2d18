// The attention observer's probabilities: recomputed in fp32 from a block's
// q and k, one head at a time, only when an observer is set - the attention
// kernels never hold a whole [tokens, tokens] matrix, and stay untouched.
#include "kernels/kernels.h"
#include "state.h"

namespace vitrt {

void observe_attention(const State& st, int32_t block, const float* qkv, float* probs) {
  const Dims& d = st.d;
  const size_t row = size_t(3) * d.inner, t = size_t(d.tokens);
  for (int32_t h = 0; h < d.heads; ++h) {
    const float* q = qkv + size_t(h) * d.head_dim;
    const float* k = q + d.inner;
    for (size_t i = 0; i < t; ++i) {
      float* p = probs + i * t;
      for (size_t j = 0; j < t; ++j) {
        float s = 0.f;
        for (int32_t c = 0; c < d.head_dim; ++c) s += q[i * row + c] * k[j * row + c];
        p[j] = s * d.attn_scale;
      }
      kernels::softmax_f32_ref(p, d.tokens);
    }
    const vitrt_attention_event e{block, h, d.heads, d.tokens, d.prefix, probs};
    st.attention_observer(st.attention_observer_ctx, &e);
  }
}

}  // namespace vitrt
