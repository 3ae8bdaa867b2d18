#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "npy.h"

using vitrt::tools::NpyArray;
using vitrt::tools::parse_npy;
using vitrt::tools::serialize_npy;

namespace {

// A .npy file with the given version and header text and `data_bytes` of data.
std::vector<uint8_t> make_npy(int major, const std::string& header, std::size_t data_bytes) {
  std::vector<uint8_t> out{0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  const std::size_t n = header.size();
  out.push_back(uint8_t(n));
  out.push_back(uint8_t(n >> 8));
  if (major > 1) {
    out.push_back(uint8_t(n >> 16));
    out.push_back(uint8_t(n >> 24));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

NpyArray parse(const std::vector<uint8_t>& bytes) { return parse_npy(bytes.data(), bytes.size(), "x.npy"); }

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    parse(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("npy round-trips float32 arrays of any rank", "[unit][npy]") {
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{}, {3}, {2, 3}, {1, 3, 4, 5}, {0, 7}}) {
    std::size_t count = 1;
    for (int64_t d : shape) count *= std::size_t(d);
    std::vector<float> data(count);
    for (std::size_t i = 0; i < count; ++i) data[i] = float(i) * -0.37f + 1e-30f;
    const std::vector<uint8_t> bytes = serialize_npy(shape, data.data());
    // numpy.save layout: v1, data starts on a 64-byte boundary after '\n'.
    const std::size_t header_end = 10 + (bytes[8] | bytes[9] << 8);
    CHECK(header_end % 64 == 0);
    CHECK(bytes[header_end - 1] == '\n');
    const NpyArray back = parse(bytes);
    CHECK(back.shape == shape);
    CHECK(back.data == data);
  }
}

TEST_CASE("npy serializes 1-d shapes as Python 1-tuples", "[unit][npy]") {
  const float v[2] = {1, 2};
  const std::vector<uint8_t> bytes = serialize_npy({2}, v);
  CHECK(std::string(bytes.begin(), bytes.end()).find("'shape': (2,)") != std::string::npos);
}

TEST_CASE("npy reads format versions 2 and 3", "[unit][npy]") {
  for (int major : {2, 3}) {
    const NpyArray a = parse(make_npy(major, "{'descr':'<f4','fortran_order':False,'shape':(2,2)}\n", 16));
    CHECK(a.shape == std::vector<int64_t>{2, 2});
    CHECK(a.data == std::vector<float>(4, 0.f));
  }
}

TEST_CASE("npy refuses anything but a complete <f4 array", "[unit][npy]") {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  REQUIRE_NOTHROW(parse(make_npy(1, good, 24)));

  CHECK_THAT(error_of({'N', 'O', 'P', 'E', 0, 0, 0, 0, 0, 0}), Catch::Contains("bad magic"));
  CHECK_THAT(error_of(make_npy(4, good, 24)), Catch::Contains("version 4"));
  CHECK_THAT(error_of({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'}), Catch::Contains("truncated .npy header"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48)),
             Catch::Contains("'<f8' is not float32"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24)),
             Catch::Contains("'>f4'"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'shape': (2, 3), }", 24)), Catch::Contains("lacks"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 24)),
             Catch::Contains("unexpected key 'x'"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24)),
             Catch::Contains("expected a dimension"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }", 8)),
             Catch::Contains("True or False"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", 24)),
             Catch::Contains("bad .npy header: expected ','"));
  CHECK_THAT(error_of(make_npy(1, good, 23)), Catch::Contains("(truncated)"));
  CHECK_THAT(error_of(make_npy(1, good, 28)), Catch::Contains("28 bytes, shape needs 24"));
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, "
                                  "99999999999), }", 0)),
             Catch::Contains("too large"));
}

TEST_CASE("npy reads Fortran-order arrays in C order", "[unit][npy]") {
  // numpy.asfortranarray(numpy.arange(6, dtype='<f4').reshape(2, 3)) stores
  // the columns one after the other: 0 3 1 4 2 5.
  std::vector<uint8_t> bytes = make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 0);
  for (float v : {0.f, 3.f, 1.f, 4.f, 2.f, 5.f}) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);  // the test hosts are little-endian, as '<f4'
    bytes.insert(bytes.end(), b, b + 4);
  }
  const NpyArray a = parse(bytes);
  CHECK(a.shape == std::vector<int64_t>{2, 3});
  CHECK(a.data == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK_THAT(error_of(make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 20)),
             Catch::Contains("(truncated)"));
}

TEST_CASE("read_npy names missing files", "[unit][npy]") {
  CHECK_THROWS_WITH(vitrt::tools::read_npy("/nonexistent/x.npy"), Catch::Contains("'/nonexistent/x.npy': no such file"));
}
