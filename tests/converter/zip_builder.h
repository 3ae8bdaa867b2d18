// Builds small ZIP archives byte by byte for the reader tests, written from
// the PKWARE APPNOTE independently of converter/zip.cpp. Deflated entries
// use zlib's raw deflate; ZIP64 mode stores every size and offset in the
// ZIP64 extra field and end records.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace zip_builder {

struct Entry {
  std::string name, data;
  bool deflate = false;
};

inline void put(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

inline std::string raw_deflate(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&zs, uLong(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline uint32_t crc(const std::string& s) {
  return uint32_t(crc32(0, reinterpret_cast<const Bytef*>(s.data()), uInt(s.size())));
}

// Local headers + data, central directory, (ZIP64 end record + locator,) end record.
inline std::vector<uint8_t> build(const std::vector<Entry>& entries, bool zip64 = false) {
  std::vector<uint8_t> out, central;
  for (const Entry& e : entries) {
    const std::string body = e.deflate ? raw_deflate(e.data) : e.data;
    const uint64_t offset = out.size();
    const uint32_t sat = 0xFFFFFFFF;
    std::vector<uint8_t> extra;
    if (zip64) {
      put(extra, 0x0001, 2);
      put(extra, 24, 2);
      put(extra, e.data.size(), 8);
      put(extra, body.size(), 8);
      put(extra, offset, 8);
    }
    put(out, 0x04034b50, 4);
    put(out, 45, 2);                     // version needed
    put(out, 0, 2);                      // flags
    put(out, e.deflate ? 8 : 0, 2);      // method
    put(out, 0, 4);                      // time, date
    put(out, crc(e.data), 4);
    put(out, zip64 ? sat : body.size(), 4);
    put(out, zip64 ? sat : e.data.size(), 4);
    put(out, e.name.size(), 2);
    put(out, 0, 2);                      // no extra field in the local header
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), body.begin(), body.end());

    put(central, 0x02014b50, 4);
    put(central, 45, 2);                 // version made by
    put(central, 45, 2);                 // version needed
    put(central, 0, 2);
    put(central, e.deflate ? 8 : 0, 2);
    put(central, 0, 4);
    put(central, crc(e.data), 4);
    put(central, zip64 ? sat : body.size(), 4);
    put(central, zip64 ? sat : e.data.size(), 4);
    put(central, e.name.size(), 2);
    put(central, extra.size(), 2);
    put(central, 0, 2);                  // comment length
    put(central, 0, 2);                  // disk
    put(central, 0, 2);                  // internal attributes
    put(central, 0, 4);                  // external attributes
    put(central, zip64 ? sat : offset, 4);
    central.insert(central.end(), e.name.begin(), e.name.end());
    central.insert(central.end(), extra.begin(), extra.end());
  }
  const uint64_t cd_offset = out.size(), cd_size = central.size();
  out.insert(out.end(), central.begin(), central.end());
  if (zip64) {
    const uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);                     // size of the rest of the record
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, entries.size(), 8);
    put(out, entries.size(), 8);
    put(out, cd_size, 8);
    put(out, cd_offset, 8);
    put(out, 0x07064b50, 4);             // locator
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFF : entries.size(), 2);
  put(out, zip64 ? 0xFFFFFFFF : cd_size, 4);
  put(out, zip64 ? 0xFFFFFFFF : cd_offset, 4);
  put(out, 0, 2);
  return out;
}

inline std::shared_ptr<const std::vector<uint8_t>> shared(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

}  // namespace zip_builder
