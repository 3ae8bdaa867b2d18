// JSON text -> the converter's parser (config.json, labels).
#include <exception>
#include <string_view>

#include "readers/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    vitrt::conv::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
  }
  return 0;
}
