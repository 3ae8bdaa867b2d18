// The runtime must not allocate: every malloc family call and every
// operator new is counted while it binds and runs. The malloc family is
// replaced in the executable (glibc's documented malloc replacement, over
// its __libc_* entry points) rather than --wrap'ed at link time, so calls
// from shared libraries (libXNNPACK, libcpuinfo for the xnnpack set) count.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "quant/quantize.h"
#include "tiny_model.h"

namespace {
bool counting = false;
int allocations = 0;
void count() {
  if (counting) ++allocations;
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
#define VITRT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VITRT_TEST_ASAN 1
#endif
#endif

#if VITRT_TEST_ASAN
// Under AddressSanitizer the sanitizer owns malloc and operator new: count
// through its allocation hook instead (every path, shared libraries too).
// (declared here: GCC ships no <sanitizer/allocator_interface.h>)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, size_t),
                                                         void (*)(const volatile void*));
namespace {
void on_malloc(const volatile void*, size_t) { count(); }
void on_free(const volatile void*) {}
[[maybe_unused]] const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#else
extern "C" {
void* __libc_malloc(size_t n);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t n);
void* __libc_memalign(size_t align, size_t n);
void __libc_free(void* p);
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
void* aligned_alloc(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  count();
  if (align < sizeof(void*) || (align & (align - 1))) return EINVAL;
  void* p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

void* operator new(size_t n) {
  count();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }

#endif  // VITRT_TEST_ASAN

using namespace vitrt::test;

TEST_CASE("open, bind and run allocate nothing", "[unit][heap]") {
  // fp32, fp16 and int8 weights: each dtype has its own arena buffers.
  const auto dtype = GENERATE(vitrt::conv::DType::F32, vitrt::conv::DType::F16,
                              vitrt::conv::DType::I8);
  TinyOptions o;
  o.dist_token = true;
  auto model = make_tiny(o, 21);
  vitrt::conv::set_weight_dtype(model, dtype, {});
  Aligned bytes(vitrt::conv::write_model(model));
  const auto image = random_image(model, 22);
  vitrt_model m;
  Aligned arena(1 << 20);

  // The counter itself works, for a shared library's malloc too (libc's strdup).
  allocations = 0;
  counting = true;
  delete new int(1);
  free(strdup("x"));
  counting = false;
  REQUIRE(allocations == 2);

  allocations = 0;
  counting = true;
  const vitrt_status open = vitrt_open(&m, bytes.data(), bytes.size());
  const size_t need = vitrt_arena_size(&m);
  const vitrt_status bind = vitrt_bind_arena(&m, arena.data(), arena.size());
  const vitrt_status run1 = vitrt_run(&m, image.data(), image.size());
  const vitrt_status run2 = vitrt_run(&m, image.data(), image.size());
  counting = false;
  REQUIRE(open == VITRT_OK);
  REQUIRE(need <= arena.size());
  REQUIRE(bind == VITRT_OK);
  REQUIRE(run1 == VITRT_OK);
  REQUIRE(run2 == VITRT_OK);
  REQUIRE(allocations == 0);
}

TEST_CASE("preprocessing and resizing allocate nothing", "[unit][heap]") {
  auto model = make_tiny(TinyOptions{}, 23);
  Aligned bytes(vitrt::conv::write_model(model));
  vitrt_model m;
  REQUIRE(vitrt_open(&m, bytes.data(), bytes.size()) == VITRT_OK);
  const int32_t h = 37, w = 53;
  std::vector<uint8_t> pixels(size_t(h) * w * VITRT_PIXELS_RGBA, 77), scratch(1 << 16);
  std::vector<float> input(size_t(model.config.channels) * model.config.image_h * model.config.image_w);
  std::vector<float> planes(2 * 9 * 9, 0.5f), resized(2 * 5 * 7);

  allocations = 0;
  counting = true;
  const size_t need = vitrt_preprocess_scratch_size(&m, h, w, VITRT_PIXELS_RGBA);
  const vitrt_status pre = vitrt_preprocess(&m, pixels.data(), h, w, VITRT_PIXELS_RGBA, 0, scratch.data(),
                                            scratch.size(), input.data(), input.size());
  const vitrt_status resize = vitrt_resize(planes.data(), 2, 9, 9, resized.data(), 5, 7, VITRT_INTERP_BICUBIC,
                                           scratch.data(), scratch.size());
  counting = false;
  REQUIRE(need <= scratch.size());
  REQUIRE(pre == VITRT_OK);
  REQUIRE(resize == VITRT_OK);
  REQUIRE(allocations == 0);
}
