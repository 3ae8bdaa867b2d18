// A small strict JSON parser (RFC 8259) for checkpoint headers and configs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vitrt::conv {

struct JsonError : std::runtime_error {
  JsonError(const std::string& what, size_t offset)
      : std::runtime_error(what + " at byte " + std::to_string(offset)), offset(offset) {}
  size_t offset;
};

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Type type = Type::Null;
  bool boolean = false;
  double number = 0.0;
  bool is_integer = false;   // the literal had no fraction or exponent and fits int64
  int64_t integer = 0;       // exact value when is_integer
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;  // file order, keys unique

  bool is_null() const { return type == Type::Null; }
  bool is_bool() const { return type == Type::Bool; }
  bool is_number() const { return type == Type::Number; }
  bool is_string() const { return type == Type::String; }
  bool is_array() const { return type == Type::Array; }
  bool is_object() const { return type == Type::Object; }

  // Member `key` of an object, or nullptr (also when this is not an object).
  const Json* find(std::string_view key) const;
};

// A parsed value costs ~100 bytes against 2 in the text ("0,"): the value
// budget bounds the memory a hostile header can ask for (~0.5 GB; a real
// safetensors header of 10^4 tensors holds ~10^5 values).
constexpr size_t kJsonMaxValues = size_t(1) << 22;

// Parses a whole document; throws JsonError (with the byte offset) on any
// syntax error, duplicate key, trailing content, nesting beyond max_depth or
// more than max_values values.
Json parse_json(std::string_view text, int max_depth = 64, size_t max_values = kJsonMaxValues);

}  // namespace vitrt::conv
