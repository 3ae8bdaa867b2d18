// Read-only ZIP archive access for the checkpoint formats built on ZIP:
// torch.save's zip format and NumPy's .npz. Supports stored and deflated
// entries and ZIP64 sizes/offsets; refuses encryption and multi-disk
// archives. Entries are located through the central directory, and every
// offset and size is checked against the file before use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace vitrt::conv {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0, size = 0;
  uint64_t header_offset = 0;  // of the local file header
  uint64_t data_offset = 0;    // of the (compressed) data, after the local header
};

// Bytes of one entry: a range of `buffer`, which is the archive file itself
// for stored entries (no copy) or a fresh buffer for deflated ones.
struct ZipData {
  std::shared_ptr<const std::vector<uint8_t>> buffer;
  size_t offset = 0, size = 0;

  const uint8_t* data() const { return buffer->data() + offset; }
};

class ZipArchive {
 public:
  // Parses the central directory and every local header of `file`; `path`
  // prefixes every error message. Throws on anything malformed, including
  // entries whose data overlap.
  ZipArchive(std::shared_ptr<const std::vector<uint8_t>> file, std::string path);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;

  // The entry's uncompressed bytes, CRC-32 verified.
  ZipData read(const ZipEntry& e) const;

 private:
  void parse_central_directory();
  void check_local_header(ZipEntry& e) const;

  std::shared_ptr<const std::vector<uint8_t>> file_;
  std::string path_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;  // index into entries_
};

// True when `file` starts with a local file header signature ("PK\3\4").
bool looks_like_zip(const std::vector<uint8_t>& file);

}  // namespace vitrt::conv
