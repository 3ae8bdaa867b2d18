#include "readers/zip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace vitrt::conv {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22, kZip64LocatorSize = 20, kZip64EndSize = 56, kCentralSize = 46, kLocalSize = 30;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;
// Deflate cannot expand data by more than ~1032:1; a larger claim is a bomb or corruption.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// [offset, offset + len) lies within [0, size).
bool in_range(uint64_t offset, uint64_t len, uint64_t size) { return offset <= size && len <= size - offset; }

}  // namespace

bool looks_like_zip(const std::vector<uint8_t>& file) { return file.size() >= 4 && le(file.data(), 4) == kLocalSig; }

ZipArchive::ZipArchive(std::shared_ptr<const std::vector<uint8_t>> file, std::string path)
    : file_(std::move(file)), path_(std::move(path)) {
  parse_central_directory();
  for (ZipEntry& e : entries_) check_local_header(e);

  std::vector<const ZipEntry*> by_offset;
  for (const ZipEntry& e : entries_) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->header_offset < b->header_offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const ZipEntry& prev = *by_offset[i - 1];
    if (by_offset[i]->header_offset < prev.data_offset + prev.compressed_size)
      throw std::runtime_error(path_ + ": zip entries '" + prev.name + "' and '" + by_offset[i]->name + "' overlap");
  }
}

void ZipArchive::parse_central_directory() {
  const std::vector<uint8_t>& f = *file_;
  auto fail = [&](const std::string& what) { return std::runtime_error(path_ + ": " + what); };

  // The end record sits at the very end, followed only by its comment.
  size_t end = SIZE_MAX;
  if (f.size() >= kEndSize) {
    const size_t lowest = f.size() - kEndSize > 0xFFFF ? f.size() - kEndSize - 0xFFFF : 0;
    for (size_t p = f.size() - kEndSize + 1; p-- > lowest;) {
      if (le(&f[p], 4) == kEndSig && p + kEndSize + le(&f[p + 20], 2) == f.size()) {
        end = p;
        break;
      }
    }
  }
  if (end == SIZE_MAX) throw fail("no zip end-of-central-directory record (file truncated or not a zip archive)");
  const uint8_t* e = &f[end];
  if (le(e + 4, 2) != 0 || le(e + 6, 2) != 0) throw fail("multi-disk zip archives are not supported");
  uint64_t count = le(e + 10, 2), cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
  uint64_t cd_limit = end;  // the central directory must end before this

  if (end >= kZip64LocatorSize && le(&f[end - kZip64LocatorSize], 4) == kZip64LocatorSig) {
    const uint8_t* loc = &f[end - kZip64LocatorSize];
    const uint64_t z = le(loc + 8, 8);
    if (le(loc + 4, 4) != 0 || le(loc + 16, 4) > 1) throw fail("multi-disk zip archives are not supported");
    if (!in_range(z, kZip64EndSize, end - kZip64LocatorSize) || le(&f[z], 4) != kZip64EndSig)
      throw fail("corrupt ZIP64 end-of-central-directory record");
    const uint8_t* r = &f[z];
    if (le(r + 16, 4) != 0 || le(r + 20, 4) != 0) throw fail("multi-disk zip archives are not supported");
    count = le(r + 32, 8);
    cd_size = le(r + 40, 8);
    cd_offset = le(r + 48, 8);
    cd_limit = z;
  } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    throw fail("ZIP64 archive without its ZIP64 end-of-central-directory locator (truncated?)");
  }
  if (!in_range(cd_offset, cd_size, cd_limit))
    throw fail("zip central directory [" + std::to_string(cd_offset) + ", +" + std::to_string(cd_size) +
               ") lies outside the file (truncated?)");
  if (count > cd_size / kCentralSize) throw fail("zip central directory too small for " + std::to_string(count) + " entries");

  uint64_t p = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  entries_.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    if (!in_range(p, kCentralSize, cd_end) || le(&f[p], 4) != kCentralSig)
      throw fail("corrupt zip central directory at entry " + std::to_string(i));
    const uint8_t* h = &f[p];
    const uint64_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    if (!in_range(p + kCentralSize, name_len + extra_len + comment_len, cd_end))
      throw fail("corrupt zip central directory at entry " + std::to_string(i));
    ZipEntry z;
    z.name.assign(reinterpret_cast<const char*>(h + kCentralSize), size_t(name_len));
    auto bad = [&](const std::string& what) { return fail("zip entry '" + z.name + "': " + what); };
    if (le(h + 8, 2) & kFlagEncrypted) throw bad("encrypted entries are not supported");
    z.method = uint16_t(le(h + 10, 2));
    z.crc32 = uint32_t(le(h + 16, 4));
    z.compressed_size = le(h + 20, 4);
    z.size = le(h + 24, 4);
    z.header_offset = le(h + 42, 4);
    uint64_t disk = le(h + 34, 2);

    // ZIP64 extra field: 8-byte values for exactly the saturated fields, in this order.
    const uint8_t* x = h + kCentralSize + name_len;
    for (uint64_t q = 0; q + 4 <= extra_len;) {
      const uint64_t id = le(x + q, 2), len = le(x + q + 2, 2);
      if (q + 4 + len > extra_len) throw bad("corrupt extra field");
      if (id == kZip64ExtraId) {
        const uint8_t* v = x + q + 4;
        uint64_t used = 0;
        auto next = [&](uint64_t& field, int width) {
          if (used + uint64_t(width) > len) throw bad("ZIP64 extra field too short");
          field = le(v + used, width);
          used += uint64_t(width);
        };
        if (z.size == 0xFFFFFFFF) next(z.size, 8);
        if (z.compressed_size == 0xFFFFFFFF) next(z.compressed_size, 8);
        if (z.header_offset == 0xFFFFFFFF) next(z.header_offset, 8);
        if (disk == 0xFFFF) next(disk, 4);
      }
      q += 4 + len;
    }
    if (disk != 0) throw fail("multi-disk zip archives are not supported");
    if (z.method != 0 && z.method != 8)
      throw bad("compression method " + std::to_string(z.method) + " is not supported (only stored and deflate)");
    if (!by_name_.emplace(z.name, entries_.size()).second) throw bad("appears twice in the archive");
    entries_.push_back(std::move(z));
    p += kCentralSize + name_len + extra_len + comment_len;
  }
}

void ZipArchive::check_local_header(ZipEntry& e) const {
  const std::vector<uint8_t>& f = *file_;
  auto bad = [&](const std::string& what) { return std::runtime_error(path_ + ": zip entry '" + e.name + "': " + what); };
  if (!in_range(e.header_offset, kLocalSize, f.size()) || le(&f[e.header_offset], 4) != kLocalSig)
    throw bad("no local header at offset " + std::to_string(e.header_offset) + " (truncated or corrupt)");
  const uint8_t* h = &f[e.header_offset];
  const uint64_t name_len = le(h + 26, 2), extra_len = le(h + 28, 2);
  if (le(h + 8, 2) != e.method) throw bad("local header disagrees with the central directory on the method");
  if (!in_range(e.header_offset + kLocalSize, name_len + extra_len, f.size()) ||
      std::string(reinterpret_cast<const char*>(h + kLocalSize), size_t(name_len)) != e.name)
    throw bad("local header disagrees with the central directory on the name");
  e.data_offset = e.header_offset + kLocalSize + name_len + extra_len;
  if (!in_range(e.data_offset, e.compressed_size, f.size()))
    throw bad("data [" + std::to_string(e.data_offset) + ", +" + std::to_string(e.compressed_size) +
              ") lies beyond the end of the file (truncated?)");
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

ZipData ZipArchive::read(const ZipEntry& e) const {
  auto bad = [&](const std::string& what) { return std::runtime_error(path_ + ": zip entry '" + e.name + "': " + what); };
  ZipData out;
  if (e.method == 0) {
    if (e.compressed_size != e.size) throw bad("stored entry with different compressed and uncompressed sizes");
    out.buffer = file_;
    out.offset = size_t(e.data_offset);
    out.size = size_t(e.size);
  } else {
    if (e.size > e.compressed_size * kMaxDeflateRatio + 64)
      throw bad("claims " + std::to_string(e.size) + " bytes from " + std::to_string(e.compressed_size) +
                " deflated bytes, more than deflate can produce");
    // Grown as output arrives, so that a size claimed by a corrupt header
    // costs no allocation beyond what its data really inflate to.
    auto buf = std::make_shared<std::vector<uint8_t>>();
    constexpr uint64_t kFirstAlloc = 1u << 20;
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) throw bad("cannot initialise zlib");
    // avail_in/avail_out are 32-bit: feed at most 1 GiB at a time.
    constexpr uint64_t kChunk = 1u << 30;
    uint64_t in_done = 0, out_done = 0;
    int rc = Z_OK;
    Bytef none;  // zlib refuses a null next_out even with no room: a zero-byte entry's buffer has no data()
    while (rc == Z_OK) {  // Z_BUF_ERROR = no progress: input exhausted or output full
      if (out_done == buf->size() && out_done < e.size)
        buf->resize(size_t(std::min(e.size, std::max(kFirstAlloc, 2 * out_done))));
      const uint64_t in_n = std::min(kChunk, e.compressed_size - in_done),
                     out_n = std::min(kChunk, buf->size() - out_done);
      zs.next_in = const_cast<Bytef*>(file_->data() + e.data_offset + in_done);
      zs.avail_in = uInt(in_n);
      zs.next_out = out_n ? buf->data() + out_done : &none;
      zs.avail_out = uInt(out_n);
      rc = inflate(&zs, Z_NO_FLUSH);
      in_done += in_n - zs.avail_in;
      out_done += out_n - zs.avail_out;
    }
    std::string msg = zs.msg ? zs.msg : "";
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      if (rc == Z_BUF_ERROR && out_done == e.size) throw bad("deflate data inflate to more than the declared size");
      if (rc == Z_BUF_ERROR) throw bad("deflate data end early (truncated?)");
      throw bad("corrupt deflate data" + (msg.empty() ? std::string() : ": " + msg));
    }
    if (out_done != e.size)
      throw bad("inflates to " + std::to_string(out_done) + " bytes, expected " + std::to_string(e.size));
    out.buffer = std::move(buf);
    out.size = size_t(e.size);
  }
  uLong crc = crc32_z(0, Z_NULL, 0);
  crc = crc32_z(crc, out.data(), out.size);
  if (uint32_t(crc) != e.crc32) throw bad("CRC-32 mismatch (corrupt data)");
  return out;
}

}  // namespace vitrt::conv
