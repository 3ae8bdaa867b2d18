// Shared by the libFuzzer harnesses: the input as the shared buffer the
// converter's readers take. Harnesses call the code under test and swallow
// its exceptions (a clear error is the expected answer to hostile bytes);
// crashes, sanitizer reports, leaks, hangs and huge allocations are what
// libFuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vitrt::fuzz {

inline std::shared_ptr<const std::vector<uint8_t>> shared_bytes(const uint8_t* data, size_t size) {
  return std::make_shared<const std::vector<uint8_t>>(data, data + size);
}

}  // namespace vitrt::fuzz
