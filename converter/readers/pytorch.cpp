#include "readers/pytorch.h"

#include <cstring>
#include <map>
#include <stdexcept>

namespace vitrt::conv {
namespace {

// torch.save names every entry "<dir>/..."; <dir> is the file's stem or "archive".
std::string archive_dir(const ZipArchive& zip) {
  if (zip.entries().empty()) return "";
  const std::string& first = zip.entries().front().name;
  size_t slash = first.find('/');
  return slash == std::string::npos ? "" : first.substr(0, slash + 1);
}

std::string as_text(const ZipData& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size); }

}  // namespace

bool is_torch_zip(const ZipArchive& zip) {
  const std::string dir = archive_dir(zip);
  return !dir.empty() && zip.find(dir + "data.pkl");
}

bool looks_like_legacy_torch(const std::vector<uint8_t>& file) {
  const bool pickle = file.size() >= 2 && file[0] == 0x80 && file[1] >= 2 && file[1] <= 5;
  const bool tar = file.size() >= 262 && std::memcmp(&file[257], "ustar", 5) == 0;
  return pickle || tar;
}

PyRef read_torch_zip(const ZipArchive& zip, const std::string& path) {
  const std::string dir = archive_dir(zip);
  if (zip.find(dir + "constants.pkl"))
    throw std::runtime_error(path + ": a TorchScript archive (torch.jit.save), not a checkpoint; "
                             "save model.state_dict() with torch.save instead");
  if (const ZipEntry* e = zip.find(dir + "byteorder"); e && as_text(zip.read(*e)) != "little")
    throw std::runtime_error(path + ": big-endian torch.save checkpoints are not supported");

  // Storages are shared between tensors (views, tied weights): read each once.
  std::map<std::string, PyRef> storages;
  auto load = [&](const PyRef& pid) -> PyRef {
    using K = PyValue::Kind;
    const auto& t = pid->items;
    if (pid->kind != K::Tuple || t.size() != 5 || t[0]->kind != K::String || t[0]->text != "storage" ||
        t[1]->kind != K::Global || t[2]->kind != K::String || t[4]->kind != K::Int)
      throw std::runtime_error(path + ": malformed storage reference in data.pkl");
    const std::string& key = t[2]->text;
    const auto dtype = torch_storage_dtype(t[1]->text);
    if (!dtype) throw std::runtime_error(path + ": storage '" + key + "' has type " + t[1]->text);
    const int64_t numel = t[4]->integer;
    if (auto it = storages.find(key); it != storages.end()) {
      if (it->second->tensor.dtype != *dtype || it->second->tensor.shape[0] != numel)
        throw std::runtime_error(path + ": storage '" + key + "' is referenced with different types or sizes");
      return it->second;
    }
    const ZipEntry* e = zip.find(dir + "data/" + key);
    if (!e) throw std::runtime_error(path + ": storage '" + key + "' has no entry " + dir + "data/" + key);
    const uint64_t elem = raw_dtype_size(*dtype);
    if (numel < 0 || uint64_t(numel) > e->size / elem || uint64_t(numel) * elem != e->size)
      throw std::runtime_error(path + ": storage '" + key + "' holds " + std::to_string(e->size) + " bytes, not " +
                               std::to_string(numel) + " elements of " + raw_dtype_name(*dtype));
    ZipData d = zip.read(*e);
    PyRef s = std::make_shared<PyValue>();
    s->kind = K::Storage;
    s->tensor.dtype = *dtype;
    s->tensor.shape = {numel};
    s->tensor.storage = d.buffer;
    s->tensor.offset = d.offset;
    s->tensor.nbytes = d.size;
    storages.emplace(key, s);
    return s;
  };
  const ZipEntry* data_pkl = zip.find(dir + "data.pkl");
  if (!data_pkl) throw std::runtime_error(path + ": not a torch.save archive (no " + dir + "data.pkl)");
  ZipData pkl = zip.read(*data_pkl);
  return unpickle(pkl.data(), pkl.size, path, load);
}

}  // namespace vitrt::conv
