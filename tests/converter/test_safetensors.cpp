#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "readers/safetensors.h"

using namespace vitrt::conv;

namespace {

// A safetensors file from a hand-written header and data section.
std::shared_ptr<const std::vector<uint8_t>> file(const std::string& header, const std::vector<uint8_t>& data,
                                                 uint64_t header_len = UINT64_MAX) {
  if (header_len == UINT64_MAX) header_len = header.size();
  auto bytes = std::make_shared<std::vector<uint8_t>>();
  for (int i = 0; i < 8; ++i) bytes->push_back(uint8_t(header_len >> (8 * i)));
  bytes->insert(bytes->end(), header.begin(), header.end());
  bytes->insert(bytes->end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> le_bytes(std::initializer_list<uint16_t> v) {
  std::vector<uint8_t> b;
  for (uint16_t x : v) { b.push_back(uint8_t(x)); b.push_back(uint8_t(x >> 8)); }
  return b;
}

std::string error_of(const std::shared_ptr<const std::vector<uint8_t>>& f) {
  try {
    read_safetensors(f, "m.safetensors");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// F32 [2] = {1.5, -2}, F16 [2, 3], BF16 [3], I64 scalar, zero-size F32 [0, 4].
std::shared_ptr<const std::vector<uint8_t>> sample() {
  std::vector<uint8_t> data = {0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0};  // 1.5f, -2.0f
  auto f16 = le_bytes({0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x7C00});
  auto bf16 = le_bytes({0x3F80, 0xC040, 0x4049});
  data.insert(data.end(), f16.begin(), f16.end());   // [8, 20)
  data.insert(data.end(), bf16.begin(), bf16.end());  // [20, 26)
  for (int i = 0; i < 8; ++i) data.push_back(i == 0 ? 42 : 0);  // I64 42 at [26, 34)
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("h":{"dtype":"F16","shape":[2,3],"data_offsets":[8,20]},)"
      R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[20,26]},)"
      R"("n":{"dtype":"I64","shape":[],"data_offsets":[26,34]},)"
      R"("z":{"dtype":"F32","shape":[0,4],"data_offsets":[34,34]}}   )";  // trailing padding is allowed
  return file(header, data);
}

}  // namespace

TEST_CASE("safetensors: reads and converts F32, F16, BF16, I64, zero-size", "[unit]") {
  TensorMap m = read_safetensors(sample(), "m.safetensors");
  REQUIRE(m.size() == 5);
  CHECK(to_float(m.at("a"), "a") == std::vector<float>{1.5f, -2.0f});

  const RawTensor& h = m.at("h");
  CHECK(h.dtype == RawDType::F16);
  CHECK(h.shape == std::vector<int64_t>{2, 3});
  std::vector<float> hv = to_float(h, "h");
  CHECK(hv[0] == 1.0f);
  CHECK(hv[1] == -2.0f);
  CHECK(hv[2] == 65504.0f);
  CHECK(hv[3] == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(hv[4] == 0.333251953125f);
  CHECK(hv[5] == std::numeric_limits<float>::infinity());

  CHECK(to_float(m.at("b"), "b") == std::vector<float>{1.0f, -3.0f, 3.140625f});

  const RawTensor& n = m.at("n");
  CHECK(n.dtype == RawDType::I64);
  CHECK(n.shape.empty());
  CHECK(n.numel() == 1);
  int64_t v;
  std::memcpy(&v, n.data(), 8);
  CHECK(v == 42);
  CHECK_THROWS_WITH(to_float(n, "n"), Catch::Contains("I64"));

  CHECK(m.at("z").numel() == 0);
  CHECK(to_float(m.at("z"), "z").empty());
}

TEST_CASE("safetensors: half conversion covers every exponent class", "[unit]") {
  CHECK(half_to_float(0x0000) == 0.0f);
  CHECK(std::signbit(half_to_float(0x8000)));
  CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));  // smallest normal
  CHECK(half_to_float(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(std::isnan(half_to_float(0x7E00)));
  CHECK(half_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("safetensors: every truncation is an error naming the file", "[unit]") {
  auto full = sample();
  for (size_t len = 0; len < full->size(); ++len) {
    auto cut = std::make_shared<std::vector<uint8_t>>(full->begin(), full->begin() + long(len));
    std::string err = error_of(cut);
    INFO("length " << len);
    CHECK(err.rfind("m.safetensors: ", 0) == 0);
  }
}

TEST_CASE("safetensors: corrupt headers are errors", "[unit]") {
  const std::vector<uint8_t> eight(8, 0);
  auto entry = [](const std::string& body) { return "{\"t\":{" + body + "}}"; };
  CHECK_THAT(error_of(file("{}", {}, UINT64_MAX - 1)), Catch::Contains("implausibly large"));
  CHECK_THAT(error_of(file("{}", {}, 3)), Catch::Contains("truncated"));
  CHECK_THAT(error_of(file("{\"t\":", {})), Catch::Contains("corrupt safetensors header"));
  CHECK_THAT(error_of(file("[1]", {})), Catch::Contains("not a JSON object"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,16])"), eight)),
             Catch::Contains("needs 8 bytes"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[4],"data_offsets":[0,16])"), eight)),
             Catch::Contains("beyond the data"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[1],"data_offsets":[8,4])"), eight)),
             Catch::Contains("end before begin"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[-1],"data_offsets":[0,4])"), eight)),
             Catch::Contains("non-negative"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,4])"), eight)),
             Catch::Contains("non-negative"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4])"), eight)),
             Catch::Contains("too large"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"Q4","shape":[1],"data_offsets":[0,4])"), eight)),
             Catch::Contains("unsupported dtype"));
  CHECK_THAT(error_of(file(entry(R"("shape":[1],"data_offsets":[0,4])"), eight)), Catch::Contains("dtype"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0])"), eight)),
             Catch::Contains("data_offsets"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1)"), eight)),
             Catch::Contains("unexpected fields"));
  CHECK_THAT(error_of(file(R"({"t":[1]})", eight)), Catch::Contains("not an object"));
}

TEST_CASE("safetensors: overlapping data ranges are errors", "[unit]") {
  const std::vector<uint8_t> twelve(12, 0);
  CHECK_THAT(error_of(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           twelve)),
             Catch::Contains("overlapping"));
  CHECK_THAT(error_of(file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                           twelve)),
             Catch::Contains("overlapping"));
  // Adjacent ranges and an empty tensor inside another's range are fine.
  CHECK(error_of(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                      twelve))
            .empty());
}

TEST_CASE("safetensors: sizes and offsets that overflow are errors", "[unit]") {
  const std::vector<uint8_t> eight(8, 0);
  auto entry = [](const std::string& body) { return "{\"t\":{" + body + "}}"; };
  // 2^61 elements fit int64, their 2^64 bytes do not.
  CHECK_THAT(error_of(file(entry(R"("dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8])"), eight)),
             Catch::Contains("m.safetensors: tensor 't': shape [2305843009213693952] is too large"));
  // Offsets near the int64 limit, and beyond it.
  CHECK_THAT(
      error_of(file(entry(R"("dtype":"U8","shape":[7],"data_offsets":[9223372036854775800,9223372036854775807])"),
                    eight)),
      Catch::Contains("lies beyond the data (8 bytes)"));
  CHECK_THAT(error_of(file(entry(R"("dtype":"U8","shape":[8],"data_offsets":[0,18446744073709551616])"), eight)),
             Catch::Contains("data_offsets must be non-negative integers"));
  // An empty tensor at an absurd offset.
  CHECK_THAT(error_of(file(entry(R"("dtype":"F32","shape":[0],"data_offsets":[4611686018427387904,4611686018427387904])"),
                           eight)),
             Catch::Contains("lies beyond the data"));
  // A header length that would wrap 8 + n.
  CHECK_THAT(error_of(file("{}", {}, UINT64_MAX - 7)), Catch::Contains("implausibly large"));
}
