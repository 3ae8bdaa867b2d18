// torch.save zip archives built byte by byte: storages come from their zip
// entries, and a hostile archive is an error naming the file.
#include <catch2/catch.hpp>

#include <cstring>

#include "pickle_stream.h"
#include "readers/pytorch.h"
#include "zip_builder.h"

using namespace vitrt::conv;
using K = PyValue::Kind;
using pickle_stream::Stream;

namespace {

// Float32 0, 1, ..., n - 1 as raw little-endian bytes.
std::string floats(int n) {
  std::string s(size_t(n) * 4, '\0');
  for (int i = 0; i < n; ++i) {
    const float f = float(i);
    std::memcpy(&s[size_t(i) * 4], &f, 4);
  }
  return s;
}

// {'w': view} (+ 'wt' = a second view) over storage "0" holding `storage`.
std::vector<uint8_t> archive(const Stream& pickle, const std::string& storage, bool deflate = false) {
  return zip_builder::build({{"m/data.pkl", pickle.b, false},
                             {"m/byteorder", "little", false},
                             {"m/data/0", storage, deflate}});
}

Stream state_dict(const std::vector<int64_t>& size, const std::vector<int64_t>& stride, int64_t numel = 12,
                  int64_t offset = 0) {
  Stream s;
  s.proto(2).op('}').op('(').str("w");
  pickle_stream::tensor(s, 0, {3, 4}, {4, 1}, numel);
  s.str("wt");
  pickle_stream::tensor(s, offset, size, stride, numel);
  s.op('u').op('.');
  return s;
}

PyRef read(const std::vector<uint8_t>& bytes) {
  ZipArchive zip(zip_builder::shared(bytes), "m.pth");
  REQUIRE(is_torch_zip(zip));
  return read_torch_zip(zip, "m.pth");
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    read(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("pytorch: tensors are views of their storage entry, read once", "[unit]") {
  for (bool deflate : {false, true}) {
    PyRef d = read(archive(state_dict({4, 3}, {1, 4}), floats(12), deflate));
    REQUIRE(d->entries.size() == 2);
    const RawTensor& w = d->entries[0].second->tensor;
    const RawTensor& wt = d->entries[1].second->tensor;
    CHECK(to_float(w, "w") == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    CHECK(to_float(wt, "wt") == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  }
}

TEST_CASE("pytorch: storages and views are bounded by the entry's bytes", "[unit]") {
  // The persistent id claims 2^40 elements of a 48-byte entry.
  CHECK(error_of(archive(state_dict({3}, {1}, int64_t(1) << 40), floats(12))) ==
        "m.pth: storage '0' holds 48 bytes, not 1099511627776 elements of F32");
  // A broadcast view of 2^30 elements: refused before a 4 GiB gather.
  CHECK_THAT(error_of(archive(state_dict({1 << 30}, {0}), floats(12))),
             Catch::StartsWith("m.pth: pickle offset ") && Catch::Contains("reaches beyond its storage of 12 elements"));
  CHECK_THAT(error_of(archive(state_dict({0}, {1}, 12, int64_t(1) << 50), floats(12))),
             Catch::Contains("at offset 1125899906842624 reaches beyond"));
  // The storage entry is missing.
  CHECK(error_of(zip_builder::build({{"m/data.pkl", state_dict({3}, {1}).b, false}})) ==
        "m.pth: storage '0' has no entry m/data/0");
}

TEST_CASE("pytorch: an archive without data.pkl is not a checkpoint", "[unit]") {
  ZipArchive zip(zip_builder::shared(zip_builder::build({{"m/other.pkl", "x", false}})), "m.pth");
  CHECK_FALSE(is_torch_zip(zip));
  CHECK_THROWS_WITH(read_torch_zip(zip, "m.pth"), "m.pth: not a torch.save archive (no m/data.pkl)");
}
