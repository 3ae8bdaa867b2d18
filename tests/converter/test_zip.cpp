#include <catch2/catch.hpp>

#include <chrono>

#include "readers/zip.h"
#include "zip_builder.h"

using namespace vitrt::conv;
using zip_builder::Entry;

namespace {

std::string text(const ZipData& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size); }

std::string error_of(std::vector<uint8_t> bytes, bool read_all = true) {
  try {
    ZipArchive zip(zip_builder::shared(std::move(bytes)), "m.zip");
    if (read_all)
      for (const ZipEntry& e : zip.entries()) zip.read(e);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const std::string kLong(5000, 'v');  // compressible, so deflate shrinks it

std::vector<Entry> sample() {
  return {{"arch/data.pkl", "pickle bytes", false}, {"arch/data/0", kLong, true}, {"arch/empty", "", false}};
}

}  // namespace

TEST_CASE("zip: stored entries are read in place, deflated ones inflated", "[unit]") {
  for (bool zip64 : {false, true}) {
    auto file = zip_builder::shared(zip_builder::build(sample(), zip64));
    ZipArchive zip(file, "m.zip");
    REQUIRE(zip.entries().size() == 3);
    REQUIRE(zip.entries()[1].compressed_size < kLong.size());

    const ZipEntry* stored = zip.find("arch/data.pkl");
    REQUIRE(stored);
    ZipData d = zip.read(*stored);
    CHECK(text(d) == "pickle bytes");
    CHECK(d.buffer == file);  // no copy
    CHECK(d.offset == 30 + std::string("arch/data.pkl").size());

    ZipData z = zip.read(*zip.find("arch/data/0"));
    CHECK(z.buffer != file);
    CHECK(text(z) == kLong);
    CHECK(zip.read(*zip.find("arch/empty")).size == 0);
    CHECK(zip.find("nope") == nullptr);
  }
}

TEST_CASE("zip: every truncation is an error, never a crash", "[unit]") {
  for (bool zip64 : {false, true}) {
    const std::vector<uint8_t> full = zip_builder::build(sample(), zip64);
    for (size_t n = 0; n < full.size(); ++n) {
      std::string err = error_of(std::vector<uint8_t>(full.begin(), full.begin() + std::ptrdiff_t(n)));
      INFO("zip64 " << zip64 << ", truncated to " << n << " bytes");
      CHECK(err.rfind("m.zip: ", 0) == 0);
    }
  }
}

TEST_CASE("zip: a flipped data byte fails the CRC check, naming the entry", "[unit]") {
  std::vector<uint8_t> bytes = zip_builder::build({{"a/data/7", "0123456789", false}});
  bytes[30 + 8 + 3] ^= 1;  // inside the data
  CHECK(error_of(bytes) == "m.zip: zip entry 'a/data/7': CRC-32 mismatch (corrupt data)");
}

TEST_CASE("zip: corrupt deflate data and impossible sizes are refused", "[unit]") {
  std::vector<uint8_t> bytes = zip_builder::build({{"x.npy", kLong, true}});
  const size_t data = 30 + 5;
  bytes[data] = 0xFF;  // an invalid deflate block type
  CHECK(error_of(bytes).find("zip entry 'x.npy': corrupt deflate data") != std::string::npos);

  // The central directory claims far more than deflate can produce.
  bytes = zip_builder::build({{"x.npy", kLong, true}});
  const size_t cd = bytes.size() - 22 - 46 - 5;
  bytes[cd + 24 + 3] = 0x7F;  // uncompressed size ~2 GB
  CHECK(error_of(bytes).find("more than deflate can produce") != std::string::npos);
}

TEST_CASE("zip: entries whose data overlap are refused", "[unit]") {
  // Entry "outer" stores, as its data, a complete local header + data of
  // "inner"; the central directory points at both.
  const std::vector<uint8_t> inner_zip = zip_builder::build({{"inner", "abc", false}});
  const size_t inner_local = 30 + 5 + 3;
  const std::string inner_bytes(inner_zip.begin(), inner_zip.begin() + std::ptrdiff_t(inner_local));
  std::vector<uint8_t> bytes = zip_builder::build({{"outer", inner_bytes, false}, {"inner", "abc", false}});
  // Repoint the second central entry at the copy inside "outer"'s data.
  const size_t cd = 2 * 30 + 5 + inner_local + 5 + 3;
  const size_t second = cd + 46 + 5;
  const uint32_t inside = 30 + 5;
  for (int i = 0; i < 4; ++i) bytes[second + 42 + size_t(i)] = uint8_t(inside >> (8 * i));
  CHECK(error_of(bytes, false) == "m.zip: zip entries 'outer' and 'inner' overlap");
}

TEST_CASE("zip: unsupported features and non-zips are refused clearly", "[unit]") {
  std::vector<uint8_t> bytes = zip_builder::build({{"a", "x", false}});
  bytes[8] = 12;  // bzip2, in the local header
  CHECK(error_of(bytes, false).find("local header disagrees") != std::string::npos);
  const size_t cd = 30 + 1 + 1;
  bytes[cd + 10] = 12;  // and in the central directory
  CHECK(error_of(bytes, false) ==
        "m.zip: zip entry 'a': compression method 12 is not supported (only stored and deflate)");

  bytes = zip_builder::build({{"a", "x", false}});
  bytes[cd + 8] = 1;  // encrypted
  CHECK(error_of(bytes, false) == "m.zip: zip entry 'a': encrypted entries are not supported");

  bytes = zip_builder::build({{"a", "x", false}, {"a", "y", false}});
  CHECK(error_of(bytes, false) == "m.zip: zip entry 'a': appears twice in the archive");

  CHECK(error_of({'P', 'K', 3, 4, 0, 0}) ==
        "m.zip: no zip end-of-central-directory record (file truncated or not a zip archive)");
  CHECK(looks_like_zip(zip_builder::build({{"a", "x", false}})));
  CHECK_FALSE(looks_like_zip({'P', 'K', 5, 6}));
}

TEST_CASE("zip: a zero-byte deflated entry is valid", "[unit]") {
  for (bool zip64 : {false, true}) {
    ZipArchive zip(zip_builder::shared(zip_builder::build({{"a/empty", "", true}}, zip64)), "m.zip");
    REQUIRE(zip.entries()[0].method == 8);
    CHECK(zip.read(zip.entries()[0]).size == 0);
  }
}

TEST_CASE("zip: large deflated entries grow their buffer; wrong sizes are still refused", "[unit]") {
  std::string big(3 << 20, '\0');  // beyond the first 1 MiB allocation
  for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * i % 251);
  std::vector<uint8_t> bytes = zip_builder::build({{"big", big, true}});
  {
    ZipArchive zip(zip_builder::shared(bytes), "m.zip");
    REQUIRE(zip.entries()[0].compressed_size < big.size() / 10);
    CHECK(text(zip.read(zip.entries()[0])) == big);
  }

  const size_t size_field = bytes.size() - 22 - 46 - 3 + 24;
  auto claim = [&](uint32_t size) {
    for (int i = 0; i < 4; ++i) bytes[size_field + size_t(i)] = uint8_t(size >> (8 * i));
    return error_of(bytes);
  };
  CHECK(claim(uint32_t(big.size()) + 1000) ==
        "m.zip: zip entry 'big': inflates to 3145728 bytes, expected 3146728");
  CHECK(claim(uint32_t(big.size()) - 1) == "m.zip: zip entry 'big': deflate data inflate to more than the declared size");
}

TEST_CASE("zip: 100 000 entries are indexed in linear time", "[unit]") {
  std::vector<Entry> many;
  for (int i = 0; i < 100000; ++i) many.push_back({"a/data/" + std::to_string(i), "", false});
  const std::vector<uint8_t> bytes = zip_builder::build(many, /*zip64=*/true);  // over 65535 entries
  const auto start = std::chrono::steady_clock::now();
  ZipArchive zip(zip_builder::shared(bytes), "m.zip");
  REQUIRE(zip.entries().size() == 100000);
  for (int i = 0; i < 100000; i += 7) CHECK(zip.find("a/data/" + std::to_string(i)) == &zip.entries()[size_t(i)]);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));  // was 19 s

  many.push_back(many[4321]);
  CHECK(error_of(zip_builder::build(many, true), false) == "m.zip: zip entry 'a/data/4321': appears twice in the archive");
}
