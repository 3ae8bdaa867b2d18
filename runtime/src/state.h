// The runtime's private state, kept inside the caller's vitrt_model storage.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "vitrt/vitrt.h"

namespace vitrt {
namespace schema {
struct Model;
}
namespace kernels {
struct Ops;
}

// Every activation buffer of the forward pass; the planner places them.
enum Buffer : int {
  kStemA,       // ConvStem feature maps, ping (convs 0, 2, ...)
  kStemB,       // ConvStem feature maps, pong (convs 1, 3, ...)
  kPatches,     // patch_embed input rows: flattened patches, or ConvStem grid cells
  kTokens,      // residual stream [tokens, dim]
  kNormA,       // LN1 output (pre-norm)
  kQkv,         // [tokens, 3 * inner]
  kScratch,     // attention scratch (a tile of score rows, a head's keys), per thread
  kAttn,        // attention output [tokens, inner]
  kNormB,       // LN2 output (pre-norm)
  kHidden,      // MLP hidden [tokens, mlp_dim]
  kPooled,      // pooled feature vector [dim]
  kFeatures,    // pre_logits output
  kLogits,
  kLogitsDist,  // distillation head output
  kQuantX,      // int8 Linear input [rows, in] (int8 weights only)
  kQuantScales, // its per-row scales
  kWeightScratch,  // float GEMM weight panels converted / reordered, per thread
  kObserved,    // with an observer: proj / fc2 output before the residual add
  kAttnProbs,   // with an attention observer: one head's [tokens, tokens] probabilities
  kNumBuffers
};

// Sizes and options resolved from the model config at open.
struct Dims {
  int32_t image_h, image_w, channels, patch_h, patch_w, grid_h, grid_w;
  int32_t dim, depth, heads, head_dim, mlp_dim, num_classes;
  int32_t patches, prefix, tokens, patch_len, inner, features;
  int32_t pre_logits_width;  // widest pre_logits output (0 = none)
  float eps, attn_scale;
  uint8_t post_norm, mlp_act, pooling, pre_logits_act;
  bool class_token, dist_token, pos_embed, pos_patches_only;
  bool conv_stem;
  uint64_t stem_floats[2];  // ConvStem ping/pong buffer sizes (largest map each)
};

constexpr int kMaxThreads = VITRT_MAX_THREADS;

struct State {
  uint32_t magic;  // kOpenMagic once vitrt_open succeeded
  const schema::Model* model;
  Dims d;
  uint64_t weight_bytes;
  // Widest input of a Linear whose float GEMM needs weight scratch (F16, or
  // F32 RowMajor), of one with F32 Panel16 weights (scratch only for sets
  // with Ops::f32_panel_scratch), and of one with I8 weights (0 = none).
  int32_t scratch_max_in, panel_max_in, i8_max_in;
  const kernels::Ops* ops;  // the kernel set in use

  vitrt_parallel_fn parallel;
  void* pool;
  int32_t threads;

  vitrt_observer_fn observer;  // null = none
  void* observer_ctx;
  vitrt_attention_fn attention_observer;  // null = none
  void* attention_observer_ctx;

  uint8_t* arena;
  uint64_t offsets[kNumBuffers];
  bool bound, ran;

  char error[240];
};
constexpr uint32_t kOpenMagic = 0x56495452u;  // "VITR"

static_assert(sizeof(State) <= sizeof(vitrt_model), "State must fit the caller's vitrt_model");
static_assert(alignof(State) <= alignof(vitrt_model), "vitrt_model storage alignment");

// Starts the message of a failed call; returns a builder to append details.
inline Message fail(State& st) { return Message(st.error, sizeof(st.error)); }

// model.cpp: verifies `data` and fills st.model, st.d, st.weight_bytes.
vitrt_status open_model(State& st, const void* data, size_t size);

// vit.cpp: arena layout for st.threads threads; false when the total does
// not fit size_t on this platform.
bool plan_arena(const State& st, uint64_t offsets[kNumBuffers], uint64_t* total);
// vit.cpp: one forward pass over the bound arena; logits land in kLogits.
void run_vit(State& st, const float* input);
// attention_probs.cpp: each head's softmax(q k^T * scale) of block `block`
// into `probs` ([tokens, tokens]), passed to st.attention_observer.
void observe_attention(const State& st, int32_t block, const float* qkv, float* probs);
// vit.cpp: runs fn(ctx, 0..st.threads-1), through the pool when there is one.
void run_tasks(const State& st, vitrt_task_fn fn, void* ctx);
// stem.cpp: the patch_embed input rows [patches, patch_len] of one image.
void stem_rows(const State& st, const float* input, float* rows);

}  // namespace vitrt
