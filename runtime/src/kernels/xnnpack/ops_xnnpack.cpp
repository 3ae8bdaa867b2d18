// The xnnpack set's plumbing: XNNPACK's allocator hook over per-thread
// regions of the arena and its one-time initialization.
#include <stdint.h>
#include <xnnpack.h>

#include "kernels/xnnpack/xnnpack_kernels.h"

namespace vitrt::kernels {
namespace {

// A bump region: the GEMM points it at its per-task scratch around each
// operator's create (thread_local: every pool thread has its own scratch).
// Freed memory is reclaimed only when the region is set again.
struct Region {
  uintptr_t cur, end;
};
thread_local Region t_region;

void* region_allocate(size_t align, size_t size) {
  Region& r = t_region;
  const uintptr_t p = (r.cur + align - 1) & ~uintptr_t(align - 1);
  if (!r.cur || p > r.end || size > r.end - p) return nullptr;  // XNNPACK: out of memory
  r.cur = p + size;
  return reinterpret_cast<void*>(p);
}
void* allocate(void*, size_t size) { return region_allocate(64, size); }
// Fully-connected operators never grow a block; failing keeps the heap out.
void* reallocate(void*, void* p, size_t size) { return p ? nullptr : region_allocate(64, size); }
void deallocate(void*, void*) {}
void* aligned_allocate(void*, size_t align, size_t size) {
  return region_allocate(align < 64 ? 64 : align, size);
}
const xnn_allocator kRegionAllocator = {nullptr, allocate, reallocate, deallocate,
                                        aligned_allocate, deallocate};

const Ops* g_base;

}  // namespace

bool xnnpack_init(const Ops& base) {
  g_base = &base;
  return xnn_initialize(&kRegionAllocator) == xnn_status_success;
}

void xnnpack_region(void* begin, size_t bytes) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(begin);
  t_region = {b, b ? b + bytes : 0};
}

size_t xnnpack_region_left(void** at) {
  const Region& r = t_region;
  const uintptr_t p = (r.cur + 63) & ~uintptr_t(63);
  *at = reinterpret_cast<void*>(p);
  return r.cur && p < r.end ? r.end - p : 0;
}

const Ops& xnnpack_base() { return *g_base; }

}  // namespace vitrt::kernels
