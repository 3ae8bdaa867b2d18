/* A C application using vitrt as an installed or vendored library:
 * classifies an all-zero image with the model file given and prints the top
 * class. tests/CMakeLists.txt builds it every way a user links vitrt
 * (find_package, add_subdirectory, pkg-config) and runs it; any error exits 1.
 *   vitrt-consumer MODEL.vitrt */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vitrt/vitrt.h>

#if VITRT_VERSION < 100
#error "VITRT_VERSION must be usable in #if"
#endif

static int fail(const char* what, const char* detail) {
  fprintf(stderr, "vitrt-consumer: %s: %s\n", what, detail);
  return 1;
}

/* Rounds n up to a multiple of `align`, as aligned_alloc requires. */
static size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage", "vitrt-consumer MODEL.vitrt");
  FILE* f = fopen(argv[1], "rb");
  if (!f) return fail(argv[1], "cannot open");
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size <= 0) return fail(argv[1], "empty or unreadable");
  void* bytes = aligned_alloc(VITRT_MODEL_ALIGNMENT, round_up((size_t)size, VITRT_MODEL_ALIGNMENT));
  if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) return fail(argv[1], "cannot read");
  fclose(f);

  vitrt_model m;
  vitrt_status st = vitrt_open(&m, bytes, (size_t)size);
  if (st != VITRT_OK) return fail("vitrt_open", vitrt_last_error(&m));
  vitrt_info info;
  if (vitrt_get_info(&m, &info) != VITRT_OK) return fail("vitrt_get_info", vitrt_last_error(&m));

  const size_t arena_size = vitrt_arena_size(&m);
  void* arena = aligned_alloc(VITRT_ARENA_ALIGNMENT, round_up(arena_size, VITRT_ARENA_ALIGNMENT));
  if (!arena) return fail("arena", "out of memory");
  if (vitrt_bind_arena(&m, arena, arena_size) != VITRT_OK)
    return fail("vitrt_bind_arena", vitrt_last_error(&m));

  const size_t count = (size_t)info.channels * (size_t)info.image_h * (size_t)info.image_w;
  float* input = calloc(count, sizeof(float));
  if (!input) return fail("input", "out of memory");
  if (vitrt_run(&m, input, count) != VITRT_OK) return fail("vitrt_run", vitrt_last_error(&m));

  const float* logits = vitrt_logits(&m);
  if (!logits || info.num_classes < 1) return fail("vitrt_logits", "no logits");
  int32_t top = 0;
  for (int32_t i = 0; i < info.num_classes; ++i) {
    if (!isfinite(logits[i])) return fail("vitrt_logits", "not finite");
    if (logits[i] > logits[top]) top = i;
  }
  const char* label = vitrt_label(&m, top);
  printf("vitrt %s (%s kernels), arena %zu bytes: top class %d (%s), logit %.4f\n",
         VITRT_VERSION_STRING, vitrt_kernels(&m), arena_size, (int)top, label ? label : "no label",
         (double)logits[top]);
  free(input);
  free(arena);
  free(bytes);
  return 0;
}
