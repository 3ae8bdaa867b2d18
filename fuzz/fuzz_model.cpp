// Model file -> vitrt_open (the verifier) -> arena size -> bind -> run on a
// zero image: the runtime's whole input path. Arenas above 64 MiB are
// skipped (the tools cap them; here they would only slow fuzzing down).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vitrt/vitrt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  void* file = std::aligned_alloc(VITRT_ARENA_ALIGNMENT, (size + 63) / 64 * 64 + 64);
  if (size) std::memcpy(file, data, size);
  vitrt_model m;
  if (vitrt_open(&m, file, size) == VITRT_OK) {
    const size_t need = vitrt_arena_size(&m);
    vitrt_info info;
    if (need > 0 && need <= (size_t{64} << 20) && vitrt_get_info(&m, &info) == VITRT_OK) {
      void* arena = std::aligned_alloc(VITRT_ARENA_ALIGNMENT, (need + 63) / 64 * 64);
      const size_t count = size_t(info.channels) * info.image_h * info.image_w;
      if (count <= (size_t{16} << 20)) {
        std::vector<float> image(count, 0.f);
        if (vitrt_bind_arena(&m, arena, need) == VITRT_OK &&
            vitrt_run(&m, image.data(), image.size()) == VITRT_OK) {
          const float* logits = vitrt_logits(&m);
          volatile float sink = 0;
          for (int32_t i = 0; i < info.num_classes; ++i) sink = sink + logits[i];
        }
      }
      std::free(arena);
    }
  }
  std::free(file);
  return 0;
}
