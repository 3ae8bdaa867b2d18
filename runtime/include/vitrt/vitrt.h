/* vitrt C API: run a Vision Transformer from a vitrt model file with every
 * activation in one caller-provided arena.
 *
 * Typical use:
 *   vitrt_model m;
 *   if (vitrt_open(&m, file_bytes, file_size) != VITRT_OK) puts(vitrt_last_error(&m));
 *   size_t need = vitrt_arena_size(&m);
 *   vitrt_bind_arena(&m, arena, need);          // plans all activations once
 *   vitrt_run(&m, input_nchw, input_count);     // no heap, no exceptions
 *   const float* logits = vitrt_logits(&m);     // info.num_classes values (vitrt_get_info)
 *
 * The model bytes must outlive `m` and stay unchanged: weights are read in
 * place. No function here allocates memory.
 *
 * Thread safety: calls on different handles, and the functions that take no
 * handle, may run concurrently on any threads (handles may share the same
 * model bytes, each with its own arena), while calls on one handle must not
 * overlap, not even a query with vitrt_run. vitrt_run calls the parallel
 * function and the observers on its own thread and returns only when all
 * their work is done; a pool that several handles share must accept calls
 * from several threads at once. */
#ifndef VITRT_VITRT_H
#define VITRT_VITRT_H

#include <stddef.h>
#include <stdint.h>

/* Version of this header and library: project(VERSION) in CMakeLists.txt,
 * which fails configuring when these differ from it. */
#define VITRT_VERSION_MAJOR 0
#define VITRT_VERSION_MINOR 1
#define VITRT_VERSION_PATCH 0
#define VITRT_VERSION_STRING "0.1.0"
/* One number for #if: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define VITRT_VERSION (VITRT_VERSION_MAJOR * 10000 + VITRT_VERSION_MINOR * 100 + VITRT_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitrt_status {
  VITRT_OK = 0,
  VITRT_ERR_INVALID_ARGUMENT = 1, /* null pointer, wrong input size, ... */
  VITRT_ERR_INVALID_MODEL = 2,    /* not a vitrt file, corrupt, inconsistent */
  VITRT_ERR_UNSUPPORTED = 3,      /* valid file using a feature not built in */
  VITRT_ERR_VERSION = 4,          /* schema version this runtime does not know */
  VITRT_ERR_ARENA_TOO_SMALL = 5,
  VITRT_ERR_ALIGNMENT = 6,        /* model or arena pointer misaligned */
  VITRT_ERR_STATE = 7             /* call out of order (run before bind, ...) */
} vitrt_status;

/* Model bytes must start at an address aligned to this; the arena too. */
#define VITRT_MODEL_ALIGNMENT 16
#define VITRT_ARENA_ALIGNMENT 64

/* Limits vitrt_open enforces on a model's config (and the converter before
 * converting). Every published ViT lies well inside them; they bound the
 * arena and the run time a hostile model file can ask for (attention's cost
 * grows with tokens squared, and tokens need no weights in the file). */
#define VITRT_MAX_IMAGE_SIDE 4096 /* image_h, image_w */
#define VITRT_MAX_CHANNELS 16
#define VITRT_MAX_PATCH 64        /* patch_h, patch_w */
#define VITRT_MAX_TOKENS 4098     /* patches + class + distillation token: a 64x64 grid */
#define VITRT_MAX_DIM 8192        /* dim, head_dim, heads * head_dim, pre_logits, stem channels */
#define VITRT_MAX_DEPTH 128
#define VITRT_MAX_HEADS 128
#define VITRT_MAX_MLP 32768
#define VITRT_MAX_CLASSES 1000000
/* depth * heads * tokens^2: attention's work, which needs no weights in the
 * file (ViT-H/16 at 1024 x 1024 pixels: 8.6e9). */
#define VITRT_MAX_ATTENTION (1LL << 34)
/* preprocess: crop_pct in [VITRT_MIN_CROP_PCT, 1] (hosts compute
 * image side / crop_pct in int), mean finite, std finite and non-zero. */
#define VITRT_MIN_CROP_PCT 0.1f
/* A model file is below 2 GiB (FlatBuffers' offsets are 32-bit signed). */

/* The handle is caller-owned storage, so opening a model needs no heap. Its
 * contents are private to the runtime. */
#define VITRT_MODEL_STORAGE_WORDS 128
typedef struct vitrt_model {
  uint64_t opaque_[VITRT_MODEL_STORAGE_WORDS];
} vitrt_model;

/* Work-sharing hook: run fn(ctx, 0..ntasks-1), in any order or in parallel,
 * and return when every task has finished. */
typedef void (*vitrt_task_fn)(void* ctx, int task);
typedef void (*vitrt_parallel_fn)(void* pool, vitrt_task_fn fn, void* ctx, int ntasks);

/* Short fixed text for a status code. */
const char* vitrt_status_string(vitrt_status status);

/* Verify (FlatBuffers verifier + semantic checks of every size, shape and
 * offset) and open a model held in memory. */
vitrt_status vitrt_open(vitrt_model* m, const void* data, size_t size);

/* Detailed message for the last failed call on `m` ("" if none). */
const char* vitrt_last_error(const vitrt_model* m);

/* Bytes of arena that vitrt_bind_arena needs, valid once opened. */
size_t vitrt_arena_size(const vitrt_model* m);

/* Plan every activation into `arena` (VITRT_ARENA_ALIGNMENT aligned). */
vitrt_status vitrt_bind_arena(vitrt_model* m, void* arena, size_t size);

/* Optional: share work across `threads` (1..VITRT_MAX_THREADS) through
 * `parallel`. Threads > 1 need a larger arena (per-thread scratch): call
 * before vitrt_arena_size. */
#define VITRT_MAX_THREADS 64
vitrt_status vitrt_set_parallel(vitrt_model* m, vitrt_parallel_fn parallel, void* pool, int threads);

/* Observer hook (calibration, debugging): after each Linear of a run,
 * fn(ctx, &event) on the thread that called vitrt_run, once the Linear's
 * parallel tasks have all finished. Both pointers point into the arena and
 * are valid only during the call; the observer must not modify them. */
typedef struct vitrt_linear_event {
  const char* name;      /* "patch_embed", "blocks.N.qkv|proj|fc1|fc2", "pre_logits.N",
                            "head", "head_dist" (checkpoint-independent names) */
  int32_t rows, in, out;
  const float* input;    /* [rows, in], fp32 (before any int8 quantization) */
  const float* output;   /* [rows, out]: this Linear's x W^T + b alone, before the
                            residual add of proj and fc2 */
} vitrt_linear_event;
typedef void (*vitrt_observer_fn)(void* ctx, const vitrt_linear_event* event);

/* Optional: set (fn != NULL) or remove the observer. With one set, proj and
 * fc2 write their output to a separate arena buffer before adding it to the
 * residual stream (same results, bit for bit), so the arena may be larger: call
 * before vitrt_arena_size, and bind again when switching between observed
 * and unobserved. Without an observer a run costs nothing extra. */
vitrt_status vitrt_set_observer(vitrt_model* m, vitrt_observer_fn fn, void* ctx);

/* Attention observer (attention maps, debugging): after each block's
 * attention, once per head, fn(ctx, &event) on the thread that called
 * vitrt_run with that head's softmax(q k^T * scale), recomputed in fp32 from
 * the block's q and k (int8 models run attention in bf16 on some kernel sets;
 * the probabilities shown are the fp32 ones). Tokens are ordered as the model
 * holds them: `prefix` class/distillation tokens first, then the patches row
 * by row. `probs` points into the arena, valid only during the call. Set it
 * (fn != NULL) or remove it before vitrt_arena_size and bind again, like the
 * Linear observer: it needs tokens^2 floats of arena. Off, it costs nothing. */
typedef struct vitrt_attention_event {
  int32_t block, head, heads;
  int32_t tokens, prefix;
  const float* probs; /* [tokens (query), tokens (key)], each row sums to 1 */
} vitrt_attention_event;
typedef void (*vitrt_attention_fn)(void* ctx, const vitrt_attention_event* event);
vitrt_status vitrt_set_attention_observer(vitrt_model* m, vitrt_attention_fn fn, void* ctx);

/* Kernel sets: the runtime picks the fastest one the CPU supports at
 * vitrt_open ("amx", "avx512bf16", "avx512vnni", "avxvnni", "avx2" on
 * x86-64, "xnnpack" when built with XNNPACK, then the portable "ref"); the environment variable VITRT_KERNELS=<name> (hosted
 * platforms) or this call forces one, for tests and benchmarks. A set this
 * CPU or build lacks is refused with VITRT_ERR_UNSUPPORTED (vitrt_open
 * fails too when VITRT_KERNELS names one); name NULL = the fastest again.
 * Any time after vitrt_open. A set that needs a different arena (the
 * optional "xnnpack" set with fp32 weights: scratch to pack them in) makes
 * the plan stale: vitrt_arena_size gives the new size; bind again. */
vitrt_status vitrt_set_kernels(vitrt_model* m, const char* name);
/* Name of the kernel set `m` runs with (NULL when not open). */
const char* vitrt_kernels(const vitrt_model* m);
/* Every kernel set of this build, fastest first: *names (static) gets
 * the list; returns its length. */
int vitrt_kernel_sets(const char* const** names);
/* Non-zero when this CPU and build support the set `name`; else *why (if
 * not NULL) gets the reason (a static string). */
int vitrt_kernels_supported(const char* name, const char** why);

/* Run on one image, float NCHW [1, channels, image_h, image_w]. */
vitrt_status vitrt_run(vitrt_model* m, const float* input, size_t count);

/* Logits of the last run, in the arena; NULL before the first run. */
const float* vitrt_logits(const vitrt_model* m);

/* Model facts, valid once opened. */
typedef struct vitrt_info {
  int32_t image_h, image_w, channels;
  int32_t patch_h, patch_w;
  int32_t dim, depth, heads, head_dim, mlp_dim;
  int32_t num_tokens, num_classes;
  uint32_t schema_version;
  float mean[4], std[4];      /* per channel (first `channels` used) */
  int32_t resize_mode;        /* VITRT_RESIZE_* (vitrt.schema.ResizeMode) */
  int32_t interpolation;      /* VITRT_INTERP_* (vitrt.schema.Interpolation) */
  float crop_pct;
  size_t weight_bytes;        /* sum of tensor data */
} vitrt_info;
vitrt_status vitrt_get_info(const vitrt_model* m, vitrt_info* info);

/* Class label i (NUL-terminated, in the model bytes), or NULL when the model
 * has no labels or i is out of range. */
const char* vitrt_label(const vitrt_model* m, int32_t i);

/* Preprocessing: 8-bit pixels -> the model's input, with the transform the
 * model records (vitrt_info: resize_mode, crop_pct, interpolation, mean,
 * std), as timm / torchvision evaluate on float tensors:
 *   x = pixels / 255 (1-channel models: PIL's 'L' luma of RGB; gray pixels
 *       for a 3-channel model are repeated)
 *   -> resize, F.interpolate(mode, align_corners=False, antialias=True):
 *      VITRT_RESIZE_SHORTER_SIDE_CROP: the shorter side to
 *      floor(min(image_h, image_w) / crop_pct), the other as
 *      torchvision's Resize(int), then a centre crop of image_h x image_w
 *      (zero-padded where the resized image is smaller);
 *      VITRT_RESIZE_STRETCH: straight to image_h x image_w
 *   -> (x - mean) / std per channel, float NCHW [1, channels, image_h, image_w].
 * Models of 1 or 3 channels only. Scratch comes from the caller:
 *   size_t need = vitrt_preprocess_scratch_size(&m, h, w, VITRT_PIXELS_RGB);
 *   vitrt_preprocess(&m, rgb, h, w, VITRT_PIXELS_RGB, 0, scratch, need, input, count); */
#define VITRT_PIXELS_GRAY 1 /* pixel formats: interleaved HWC, 8 bits per value */
#define VITRT_PIXELS_RGB 3
#define VITRT_PIXELS_RGBA 4 /* alpha is ignored */
#define VITRT_MAX_PIXELS_SIDE 65536 /* image height and width */
#define VITRT_RESIZE_SHORTER_SIDE_CROP 0 /* vitrt_info.resize_mode */
#define VITRT_RESIZE_STRETCH 1
#define VITRT_INTERP_BILINEAR 0 /* vitrt_info.interpolation */
#define VITRT_INTERP_BICUBIC 1

/* Bytes of scratch vitrt_preprocess needs for a height x width image of
 * `format` (any alignment; a few KiB to a few hundred KiB: weight tables and
 * a few resized rows, not the image); 0 when the model is not open or the
 * arguments are invalid. */
size_t vitrt_preprocess_scratch_size(const vitrt_model* m, int32_t height, int32_t width, int32_t format);

/* `pixels`: height rows of width pixels of `format`, row_stride bytes apart
 * (0: width * format). Writes out_count floats (channels * image_h * image_w)
 * to `out`. VITRT_ERR_ARENA_TOO_SMALL when scratch_size is below
 * vitrt_preprocess_scratch_size; details in vitrt_last_error. */
vitrt_status vitrt_preprocess(vitrt_model* m, const uint8_t* pixels, int32_t height, int32_t width,
                              int32_t format, size_t row_stride, void* scratch, size_t scratch_size,
                              float* out, size_t out_count);

/* The same resampler on float planes (position embeddings, attention maps):
 * `planes` planes of in_h x in_w floats to out_h x out_w (sides 1 ..
 * VITRT_MAX_PIXELS_SIDE), planar, row-major, as F.interpolate(mode,
 * align_corners=False, antialias=True). Scratch size 0: invalid arguments. */
size_t vitrt_resize_scratch_size(int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                                 int32_t interpolation);
vitrt_status vitrt_resize(const float* in, int32_t planes, int32_t in_h, int32_t in_w, float* out,
                          int32_t out_h, int32_t out_w, int32_t interpolation, void* scratch,
                          size_t scratch_size);

#ifdef __cplusplus
}
#endif

#endif /* VITRT_VITRT_H */
