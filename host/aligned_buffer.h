// Heap bytes aligned for the runtime: model files are read in place (tensor
// data is 64-byte aligned relative to the file start) and arenas need
// VITRT_ARENA_ALIGNMENT, so one 64-byte aligned buffer type serves both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

namespace vitrt::tools {

class AlignedBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t size)
      // operator new(0) is valid but may return null-like storage; ask for 1.
      : data_(static_cast<uint8_t*>(::operator new(size ? size : 1, std::align_val_t(kAlignment)))),
        size_(size) {}

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t(kAlignment)); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  std::size_t size_ = 0;
};

// Whole file in a 64-byte aligned buffer. Throws std::runtime_error naming
// `what` ("model", "image", ...) and the path for missing, unreadable or
// empty files and directories.
AlignedBuffer read_file(const std::string& path, const char* what);

// Size of the regular file at `path`, which must exist and not be empty;
// otherwise throws "<name>: no such file" / "is a directory" / "is empty"
// (every tool names these the same, not as "out of memory" or "corrupt").
std::uintmax_t input_file_size(const std::string& path, const std::string& name);

}  // namespace vitrt::tools
