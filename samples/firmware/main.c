/* Bare-metal sample: classify one image with a model linked into flash and
 * every byte of working memory in one static pool; no heap.
 *
 * The exit code is the vitrt_status of the first failing call (0 = success),
 * reported through semihosting on a debugger or simulator. A real firmware
 * copies a camera frame into `input` instead of the all-zero image. */
#include <stddef.h>
#include <stdint.h>

#include "vitrt/platform.h"
#include "vitrt/vitrt.h"

/* The model file, linked in verbatim (.incbin: no conversion step, any
 * size) and 64-byte aligned like the weights inside it, so the runtime
 * reads them in place from flash. */
__asm__(".pushsection .rodata.vitrt_firmware_model, \"a\"\n"
        ".balign 64\n"
        ".global vitrt_firmware_model, vitrt_firmware_model_end\n"
        "vitrt_firmware_model:\n"
        ".incbin \"" VITRT_FIRMWARE_MODEL_PATH "\"\n"
        "vitrt_firmware_model_end:\n"
        ".popsection\n");
extern const unsigned char vitrt_firmware_model[];
extern const unsigned char vitrt_firmware_model_end[];

/* Arena followed by the input image. The size is fixed at build time
 * (VITRT_FIRMWARE_RAM_BYTES) because a firmware's memory map is. */
_Alignas(VITRT_ARENA_ALIGNMENT) static unsigned char pool[VITRT_FIRMWARE_RAM_BYTES];

static vitrt_model model;

static size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

int main(void) {
  const size_t model_size = (size_t)(vitrt_firmware_model_end - vitrt_firmware_model);
  vitrt_status s = vitrt_open(&model, vitrt_firmware_model, model_size);
  if (s != VITRT_OK) {
    vitrt_platform_log(vitrt_last_error(&model));
    return (int)s;
  }
  vitrt_info info;
  s = vitrt_get_info(&model, &info);
  if (s != VITRT_OK) return (int)s;

  const size_t arena_bytes = align_up(vitrt_arena_size(&model), sizeof(float));
  const size_t input_count = (size_t)info.channels * (size_t)info.image_h * (size_t)info.image_w;
  if (arena_bytes + input_count * sizeof(float) > sizeof pool) {
    vitrt_platform_log("VITRT_FIRMWARE_RAM_BYTES is too small for this model");
    return (int)VITRT_ERR_ARENA_TOO_SMALL;
  }
  float* input = (float*)(void*)(pool + arena_bytes);
  for (size_t i = 0; i < input_count; ++i) input[i] = 0.0f;

  s = vitrt_bind_arena(&model, pool, arena_bytes);
  if (s == VITRT_OK) s = vitrt_run(&model, input, input_count);
  if (s != VITRT_OK) {
    vitrt_platform_log(vitrt_last_error(&model));
    return (int)s;
  }

  const float* logits = vitrt_logits(&model);
  int32_t best = 0;
  for (int32_t i = 1; i < info.num_classes; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  const char* label = vitrt_label(&model, best);
  vitrt_platform_log(label ? label : "done (model has no labels)");
  return 0;
}
