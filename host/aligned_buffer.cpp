#include "aligned_buffer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace vitrt::tools {

std::uintmax_t input_file_size(const std::string& path, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw std::runtime_error(name + ": no such file");
  if (fs::is_directory(st)) throw std::runtime_error(name + ": is a directory");
  if (!fs::is_regular_file(st)) throw std::runtime_error(name + ": not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw std::runtime_error(name + ": " + ec.message());
  if (size == 0) throw std::runtime_error(name + ": is empty");
  return size;
}

AlignedBuffer read_file(const std::string& path, const char* what) {
  const std::string name = std::string(what) + " '" + path + "'";
  const std::uintmax_t size = input_file_size(path, name);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw std::runtime_error(name + ": " + std::strerror(errno));
  AlignedBuffer buf(static_cast<std::size_t>(size));
  if (std::fread(buf.data(), 1, buf.size(), f.get()) != buf.size())
    throw std::runtime_error(name + ": read failed");
  return buf;
}

}  // namespace vitrt::tools
