// The C API: argument and call-order checks around model.cpp and vit.cpp.
#include <string.h>

#include "kernels/kernels.h"
#include "preprocess.h"
#include "state.h"
#include "vitrt/platform.h"
#include "vitrt/vitrt_generated.h"

namespace {

using vitrt::State;

State* state(vitrt_model* m) { return m ? reinterpret_cast<State*>(m->opaque_) : nullptr; }
const State* state(const vitrt_model* m) {
  return m ? reinterpret_cast<const State*>(m->opaque_) : nullptr;
}

// The state of an opened model, or null (with a message when m is usable).
State* opened(vitrt_model* m) {
  State* st = state(m);
  if (st && st->magic != vitrt::kOpenMagic) {
    vitrt::fail(*st) << "model is not open";
    return nullptr;
  }
  return st;
}
const State* opened(const vitrt_model* m) {
  const State* st = state(m);
  return st && st->magic == vitrt::kOpenMagic ? st : nullptr;
}

// plan_arena with the error message set on failure.
bool plan(State& st, uint64_t* offsets, uint64_t* total) {
  if (vitrt::plan_arena(st, offsets, total)) return true;
  vitrt::fail(st) << "the arena this model needs does not fit this platform's address space";
  return false;
}

// Selects the kernel set `name` for st, or says why it cannot (`source`
// names where the request came from, for the message).
vitrt_status select_kernels(State& st, const char* name, const char* source) {
  const char* why = "";
  const vitrt::kernels::Ops* ops = vitrt::kernels::find_ops(name, &why);
  if (!ops) {
    vitrt::Message msg = vitrt::fail(st);
    msg << source << name << ": " << why << " (kernel sets:";
    const char* const* names;
    const int count = vitrt::kernels::kernel_set_names(&names);
    for (int i = 0; i < count; ++i) msg << " " << names[i];
    msg << ")";
    return VITRT_ERR_UNSUPPORTED;
  }
  // A set with more scratch (xnnpack's GEMM with fp32 weights) needs a new
  // plan: the arena must be bound again.
  uint64_t before[vitrt::kNumBuffers], after[vitrt::kNumBuffers], old_total, new_total;
  const bool had_plan = vitrt::plan_arena(st, before, &old_total);
  const vitrt::kernels::Ops* old = st.ops;
  st.ops = ops;
  if (!plan(st, after, &new_total)) {
    st.ops = old;
    return VITRT_ERR_UNSUPPORTED;
  }
  if (st.bound && (!had_plan || new_total != old_total ||
                   memcmp(before, after, sizeof(before)) != 0))
    st.bound = false;
  return VITRT_OK;
}

// Sets or removes one of the observer hooks. Each needs its own arena buffer
// (kObserved, kAttnProbs): switching it on or off changes the plan.
template <class Fn>
vitrt_status set_hook(vitrt_model* m, Fn State::*hook, void* State::*hook_ctx, Fn fn, void* ctx) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  if ((fn != nullptr) != (st->*hook != nullptr)) st->bound = false;
  st->*hook = fn;
  st->*hook_ctx = ctx;
  uint64_t offsets[vitrt::kNumBuffers], total;
  if (!plan(*st, offsets, &total)) {
    st->*hook = nullptr;
    st->bound = false;
    return VITRT_ERR_UNSUPPORTED;
  }
  return VITRT_OK;
}

}  // namespace

extern "C" {

const char* vitrt_status_string(vitrt_status status) {
  switch (status) {
    case VITRT_OK: return "ok";
    case VITRT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case VITRT_ERR_INVALID_MODEL: return "invalid model";
    case VITRT_ERR_UNSUPPORTED: return "unsupported";
    case VITRT_ERR_VERSION: return "unsupported schema version";
    case VITRT_ERR_ARENA_TOO_SMALL: return "arena too small";
    case VITRT_ERR_ALIGNMENT: return "misaligned pointer";
    case VITRT_ERR_STATE: return "call out of order";
  }
  return "unknown status";
}

vitrt_status vitrt_open(vitrt_model* m, const void* data, size_t size) {
  State* st = state(m);
  if (!st) return VITRT_ERR_INVALID_ARGUMENT;
  memset(m, 0, sizeof(*m));
  st->threads = 1;
  if (!data) {
    vitrt::fail(*st) << "model data is NULL";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  vitrt_status status = vitrt::open_model(*st, data, size);
  if (status != VITRT_OK) return status;
  st->ops = &vitrt::kernels::default_ops();
  if (const char* forced = vitrt_platform_kernels_override()) {
    status = select_kernels(*st, forced, "VITRT_KERNELS=");
    if (status != VITRT_OK) return status;
  }
  uint64_t offsets[vitrt::kNumBuffers], total;
  if (!plan(*st, offsets, &total)) return VITRT_ERR_UNSUPPORTED;
  st->magic = vitrt::kOpenMagic;
  return VITRT_OK;
}

const char* vitrt_last_error(const vitrt_model* m) {
  const State* st = state(m);
  return st ? st->error : "vitrt_model is NULL";
}

size_t vitrt_arena_size(const vitrt_model* m) {
  const State* st = opened(m);
  if (!st) return 0;
  uint64_t offsets[vitrt::kNumBuffers], total;
  if (!vitrt::plan_arena(*st, offsets, &total)) return 0;
  return static_cast<size_t>(total);
}

vitrt_status vitrt_bind_arena(vitrt_model* m, void* arena, size_t size) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  st->bound = false;
  st->ran = false;
  if (!arena) {
    vitrt::fail(*st) << "arena is NULL";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  if (reinterpret_cast<uintptr_t>(arena) % VITRT_ARENA_ALIGNMENT) {
    vitrt::fail(*st) << "arena must be " << int32_t{VITRT_ARENA_ALIGNMENT} << "-byte aligned";
    return VITRT_ERR_ALIGNMENT;
  }
  uint64_t total;
  if (!plan(*st, st->offsets, &total)) return VITRT_ERR_UNSUPPORTED;
  if (size < total) {
    vitrt::fail(*st) << "arena has " << static_cast<uint64_t>(size) << " bytes, model needs "
                     << total;
    return VITRT_ERR_ARENA_TOO_SMALL;
  }
  st->arena = static_cast<uint8_t*>(arena);
  st->bound = true;
  return VITRT_OK;
}

vitrt_status vitrt_set_parallel(vitrt_model* m, vitrt_parallel_fn parallel, void* pool,
                                int threads) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  if (threads < 1 || threads > vitrt::kMaxThreads || (threads > 1 && !parallel)) {
    vitrt::fail(*st) << "threads must be 1.." << int32_t{vitrt::kMaxThreads}
                     << " and more than 1 needs a parallel function";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  // A different thread count changes the scratch size: the plan is stale.
  if (threads != st->threads) st->bound = false;
  st->parallel = parallel;
  st->pool = pool;
  st->threads = threads;
  uint64_t offsets[vitrt::kNumBuffers], total;
  if (!plan(*st, offsets, &total)) {
    st->threads = 1;
    st->bound = false;
    return VITRT_ERR_UNSUPPORTED;
  }
  return VITRT_OK;
}

vitrt_status vitrt_set_observer(vitrt_model* m, vitrt_observer_fn fn, void* ctx) {
  return set_hook(m, &State::observer, &State::observer_ctx, fn, ctx);
}

vitrt_status vitrt_set_attention_observer(vitrt_model* m, vitrt_attention_fn fn, void* ctx) {
  return set_hook(m, &State::attention_observer, &State::attention_observer_ctx, fn, ctx);
}

vitrt_status vitrt_set_kernels(vitrt_model* m, const char* name) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  return select_kernels(*st, name ? name : vitrt::kernels::default_ops().name, "kernel set ");
}

const char* vitrt_kernels(const vitrt_model* m) {
  const State* st = opened(m);
  return st ? st->ops->name : nullptr;
}

int vitrt_kernel_sets(const char* const** names) {
  const char* const* all;
  const int count = vitrt::kernels::kernel_set_names(&all);
  if (names) *names = all;
  return count;
}

int vitrt_kernels_supported(const char* name, const char** why) {
  const char* reason = "";
  const bool ok = name && vitrt::kernels::find_ops(name, &reason);
  if (why) *why = ok ? "" : name ? reason : "name is NULL";
  return ok;
}

vitrt_status vitrt_run(vitrt_model* m, const float* input, size_t count) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  if (!st->bound) {
    vitrt::fail(*st) << "no arena bound (call vitrt_bind_arena, again after vitrt_set_parallel, "
                        "vitrt_set_observer, vitrt_set_attention_observer or a vitrt_set_kernels that changed the arena size)";
    return VITRT_ERR_STATE;
  }
  const vitrt::Dims& d = st->d;
  const uint64_t want = uint64_t{static_cast<uint32_t>(d.channels)} * d.image_h * d.image_w;
  if (!input || count != want) {
    vitrt::fail(*st) << "input must be " << want << " floats (" << d.channels << "x" << d.image_h
                     << "x" << d.image_w << " NCHW), got " << static_cast<uint64_t>(count);
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  vitrt::run_vit(*st, input);
  st->ran = true;
  return VITRT_OK;
}

const float* vitrt_logits(const vitrt_model* m) {
  const State* st = opened(m);
  if (!st || !st->ran) return nullptr;
  return reinterpret_cast<const float*>(st->arena + st->offsets[vitrt::kLogits]);
}

vitrt_status vitrt_get_info(const vitrt_model* m, vitrt_info* info) {
  const State* st = opened(m);
  if (!st || !info) return VITRT_ERR_INVALID_ARGUMENT;
  const vitrt::Dims& d = st->d;
  memset(info, 0, sizeof(*info));
  info->image_h = d.image_h;
  info->image_w = d.image_w;
  info->channels = d.channels;
  info->patch_h = d.patch_h;
  info->patch_w = d.patch_w;
  info->dim = d.dim;
  info->depth = d.depth;
  info->heads = d.heads;
  info->head_dim = d.head_dim;
  info->mlp_dim = d.mlp_dim;
  info->num_tokens = d.tokens;
  info->num_classes = d.num_classes;
  info->schema_version = st->model->schema_version();
  info->weight_bytes = static_cast<size_t>(st->weight_bytes);
  vitrt::PreprocessParams p;
  vitrt::preprocess_params(*st, &p);
  memcpy(info->mean, p.mean, sizeof(p.mean));
  memcpy(info->std, p.std, sizeof(p.std));
  info->resize_mode = p.resize_mode;
  info->interpolation = p.interpolation;
  info->crop_pct = p.crop_pct;
  return VITRT_OK;
}

size_t vitrt_preprocess_scratch_size(const vitrt_model* m, int32_t height, int32_t width, int32_t format) {
  const State* st = opened(m);
  return st ? vitrt::preprocess_scratch_size(*st, height, width, format) : 0;
}

vitrt_status vitrt_preprocess(vitrt_model* m, const uint8_t* pixels, int32_t height, int32_t width,
                              int32_t format, size_t row_stride, void* scratch, size_t scratch_size,
                              float* out, size_t out_count) {
  State* st = opened(m);
  if (!st) return m ? VITRT_ERR_STATE : VITRT_ERR_INVALID_ARGUMENT;
  return vitrt::preprocess(*st, pixels, height, width, format, row_stride, scratch, scratch_size, out,
                           out_count);
}

const char* vitrt_label(const vitrt_model* m, int32_t i) {
  const State* st = opened(m);
  if (!st || !st->model->labels() || i < 0 || i >= st->d.num_classes) return nullptr;
  return st->model->labels()->Get(static_cast<uint32_t>(i))->c_str();
}

}  // extern "C"
