#include "image_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

namespace vitrt::tools {
namespace {

constexpr const char* kExtensions[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};

}  // namespace

bool has_image_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

std::string image_extensions() {
  std::string list;
  for (const char* e : kExtensions) list += (list.empty() ? "" : ", ") + std::string(e);
  return list;
}

std::vector<std::string> find_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw std::runtime_error("'" + dir + "': no such directory");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("'" + dir + "': not a directory");
  std::vector<std::string> images;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;  // a dangling symlink: listed, then refused by name when read
    if (!it->is_directory(entry_ec) && has_image_extension(it->path().string())) images.push_back(it->path().string());
  }
  if (ec) throw std::runtime_error("'" + dir + "': " + ec.message());
  // std::string orders by unsigned byte, as Python's sorted() orders UTF-8 names.
  std::sort(images.begin(), images.end());
  return images;
}

}  // namespace vitrt::tools
