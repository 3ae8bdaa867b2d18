// The one translation unit holding stb_image's (and stb_image_write's) implementation. Only the PNG
// and JPEG decoders are compiled in: the others (PNM, TGA, BMP, PSD, HDR,
// GIF, PIC) are where stb 2.27's known memory-safety bugs live, and the tools
// promise only PNG and JPEG. preprocess.cpp caps sizes before decoding.
#include <cstdint>
#include <cstdlib>

#include "stb_limits.h"

namespace vitrt::tools {
namespace {
thread_local size_t stb_limit = SIZE_MAX;
thread_local bool stb_refused = false;
}  // namespace

StbAllocationLimit::StbAllocationLimit(size_t max_bytes) {
  stb_limit = max_bytes;
  stb_refused = false;
}
StbAllocationLimit::~StbAllocationLimit() { stb_limit = SIZE_MAX; }
bool StbAllocationLimit::refused() const { return stb_refused; }

}  // namespace vitrt::tools

namespace {
void* stb_malloc(size_t n) {
  if (n > vitrt::tools::stb_limit) return vitrt::tools::stb_refused = true, nullptr;
  return std::malloc(n);
}
void* stb_realloc(void* p, size_t n) {
  if (n > vitrt::tools::stb_limit) return vitrt::tools::stb_refused = true, nullptr;
  return std::realloc(p, n);
}
}  // namespace

#define STBI_MALLOC(n) stb_malloc(n)
#define STBI_REALLOC(p, n) stb_realloc(p, n)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_FAILURE_USERMSG  // readable stbi_failure_reason() texts
#include <stb/stb_image.h>

// stb_image_write: PNG/JPEG output for the tools (attention maps) and for
// tests that need real encoded images.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
