// A per-thread cap on any one allocation stb_image makes (its STBI_MALLOC and
// STBI_REALLOC, in stb_image_impl.cpp). stb sizes some buffers by what a file
// claims, not by what it holds: a PNG chunk length is allocated before its
// bytes are read, and zlib output grows without bound (a decompression bomb:
// a few KB inflating to gigabytes). decode_image caps every allocation at
// what the header's pixels can need; above it stb fails as out of memory.
#pragma once

#include <cstddef>

namespace vitrt::tools {

// Sets this thread's cap for its lifetime, then lifts it.
class StbAllocationLimit {
 public:
  explicit StbAllocationLimit(size_t max_bytes);
  ~StbAllocationLimit();
  StbAllocationLimit(const StbAllocationLimit&) = delete;
  StbAllocationLimit& operator=(const StbAllocationLimit&) = delete;
  // Whether stb asked for more than the cap since it was set.
  bool refused() const;
};

}  // namespace vitrt::tools
