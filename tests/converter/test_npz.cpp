#include <catch2/catch.hpp>

#include <cstring>

#include "readers/npz.h"
#include "zip_builder.h"

using namespace vitrt::conv;

namespace {

// A .npy file: magic, version, header length (2 bytes for v1, 4 after), header, data.
std::string npy(const std::string& header, const std::string& data, int version = 1) {
  std::string s = "\x93NUMPY";
  s += char(version);
  s += '\0';
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i) s += char(header.size() >> (8 * i));
  return s + header + data;
}

ZipData hold(const std::string& s) {
  ZipData d;
  d.buffer = std::make_shared<const std::vector<uint8_t>>(s.begin(), s.end());
  d.size = s.size();
  return d;
}

RawTensor parse(const std::string& s) { return parse_npy(hold(s), "x.npy"); }

std::string error_of(const std::string& s) {
  try {
    parse(s);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const std::string k1p5 = std::string("\0\0\xC0\x3F", 4);  // 1.5f little-endian

}  // namespace

TEST_CASE("npy: headers of versions 1-3, dtypes and shapes", "[unit]") {
  RawTensor t = parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }         \n", k1p5 + k1p5));
  CHECK(t.dtype == RawDType::F32);
  CHECK(t.shape == std::vector<int64_t>{2});
  CHECK(to_float(t, "t") == std::vector<float>{1.5f, 1.5f});

  t = parse(npy("{\"descr\":\"<f8\",\"shape\":(),\"fortran_order\":False}\n", std::string("\0\0\0\0\0\0\xF8\x3F", 8), 2));
  CHECK(t.shape.empty());
  CHECK(to_float(t, "t") == std::vector<float>{1.5f});

  t = parse(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (1, 3), }\n", std::string("\1\0\1", 3), 3));
  CHECK(t.dtype == RawDType::Bool);
  CHECK(t.shape == std::vector<int64_t>{1, 3});

  const std::pair<const char*, RawDType> types[] = {{"<f2", RawDType::F16}, {"<i8", RawDType::I64},
                                                    {"<i4", RawDType::I32}, {"|i1", RawDType::I8},
                                                    {"|u1", RawDType::U8},  {"<u1", RawDType::U8}};
  for (const auto& [descr, dtype] : types) {
    const std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (0, 4), }\n";
    CHECK(parse(npy(h, "")).dtype == dtype);
  }
}

TEST_CASE("npy: unsupported or malformed headers are refused", "[unit]") {
  auto h = [](const std::string& descr, const std::string& fortran, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n";
  };
  CHECK(error_of(npy(h(">f4", "False", "(1,)"), k1p5)) ==
        "x.npy: unsupported .npy dtype '>f4' (supported: little-endian f8 f4 f2 i8 i4 i2 i1 u1 b1)");
  CHECK(error_of(npy(h("|f4", "False", "(1,)"), k1p5)).find("unsupported .npy dtype '|f4'") != std::string::npos);
  CHECK(error_of(npy(h("|O", "False", "(1,)"), k1p5)).find("unsupported .npy dtype") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "false", "(1,)"), k1p5)).find("True or False") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "False", "(2,)"), k1p5)) ==
        "x.npy: shape [2] of <f4 needs 2 x 4 bytes, the array has 4");
  CHECK(error_of(npy(h("<f4", "False", "(-1,)"), k1p5)).find("expected a dimension") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "False", "(99999999999999999999,)"), k1p5)).find("too large") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "False", "(4611686018427387904, 4)"), k1p5)).find("too large") != std::string::npos);
  CHECK(error_of(npy("{'descr': '<f4', 'shape': (1,), }\n", k1p5)).find("lacks") != std::string::npos);
  CHECK(error_of(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", k1p5))
            .find("repeated key 'descr'") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "False", "(1,)") + "x", k1p5)).find("trailing") != std::string::npos);
  CHECK(error_of(npy("{'descr': '<f4", k1p5)).find("unterminated") != std::string::npos);
  CHECK(error_of(npy(h("<f4", "False", "(1,)"), k1p5, 4)).find("version 4") != std::string::npos);
  CHECK(error_of("\x93NUMPX\1\0\0\0") == "x.npy: not a .npy array (bad magic)");
  const std::string good = npy(h("<f4", "False", "(1,)"), k1p5);
  for (size_t n = 0; n < good.size(); ++n) CHECK_FALSE(error_of(good.substr(0, n)).empty());
}

TEST_CASE("npy: Fortran-order arrays are transposed into C order", "[unit]") {
  // numpy.asfortranarray(numpy.arange(24).reshape(2, 3, 4)): element
  // (i, j, k) is at i + 2 j + 6 k; its C-order index is 12 i + 4 j + k.
  std::string fortran;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) {
        const int16_t v = int16_t(12 * i + 4 * j + k);
        fortran += std::string(reinterpret_cast<const char*>(&v), 2);
      }
  const RawTensor t =
      parse(npy("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }\n", fortran));
  CHECK(t.shape == std::vector<int64_t>{2, 3, 4});
  REQUIRE(t.nbytes == 48);
  for (int n = 0; n < 24; ++n) {
    int16_t v;
    std::memcpy(&v, t.data() + 2 * n, 2);
    CHECK(v == n);
  }
  // Size-1 and empty dimensions, and many of them, are no special case.
  const RawTensor col = parse(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2, 1), }\n", k1p5 + k1p5));
  CHECK(to_float(col, "col") == std::vector<float>{1.5f, 1.5f});
  CHECK(parse(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 99999999999), }\n", "")).nbytes == 0);
  std::string ones = "(";
  for (int i = 0; i < 5000; ++i) ones += "1, ";
  CHECK(parse(npy("{'descr': '<f4', 'fortran_order': True, 'shape': " + ones + "), }\n", k1p5)).nbytes == 4);
  // The size checks come first: a short Fortran array is refused, not read past.
  CHECK(error_of(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", k1p5 + k1p5 + k1p5))
            .find("needs 4 x 4 bytes, the array has 12") != std::string::npos);
}

TEST_CASE("npz: stored and deflated arrays keep their slash-separated names", "[unit]") {
  const std::string a = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", k1p5);
  auto file = zip_builder::shared(zip_builder::build(
      {{"Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel.npy", a, false}, {"head/bias.npy", a, true}}));
  ZipArchive zip(file, "m.npz");
  REQUIRE(is_npz(zip));
  TensorMap m = read_npz(zip, "m.npz");
  REQUIRE(m.size() == 2);
  const RawTensor& k = m.at("Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel");
  CHECK(k.storage == file);  // stored: read in place
  CHECK(to_float(k, "k") == std::vector<float>{1.5f});
  CHECK(to_float(m.at("head/bias"), "b") == std::vector<float>{1.5f});

  ZipArchive other(zip_builder::shared(zip_builder::build({{"a.npy", a, false}, {"notes.txt", "hi", false}})), "m.npz");
  CHECK_THROWS_WITH(read_npz(other, "m.npz"), "m.npz: entry 'notes.txt' is not a .npy array");
}

TEST_CASE("npy: sizes that overflow are errors naming the array", "[unit]") {
  auto h = [](const std::string& descr, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
  };
  const std::string eight(8, '\0');
  // 2^61 elements fit int64, their 2^64 bytes do not.
  CHECK(error_of(npy(h("<f8", "(2305843009213693952,)"), eight)) ==
        "x.npy: shape [2305843009213693952] of <f8 needs 2305843009213693952 x 8 bytes, the array has 8");
  CHECK(error_of(npy(h("<f4", "(4611686018427387904, 4)"), eight)) ==
        "x.npy: shape [4611686018427387904, 4] is too large");
  // A zero dimension makes any other harmless.
  CHECK(parse(npy(h("<f8", "(0, 4611686018427387904)"), "")).nbytes == 0);
  // A v2 header length beyond the data.
  std::string big = npy(h("<f4", "(1,)"), k1p5, 2);
  big[11] = '\x7f';
  CHECK(error_of(big) == "x.npy: truncated .npy header");
}
