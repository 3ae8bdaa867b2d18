// Which files the tools take as images when they list a directory
// (vitrt-run DIR, vitrt-eval's class folders, vitrt-convert --calib): one
// extension list for all of them.
#pragma once

#include <string>
#include <vector>

namespace vitrt::tools {

// torchvision's IMG_EXTENSIONS (what ImageFolder counts as a sample),
// matched case-insensitively. Only PNG and JPEG decode: a listed file in
// another format is an error naming that format, never skipped silently.
bool has_image_extension(const std::string& path);
// The list for messages: ".jpg, .jpeg, .png, ...".
std::string image_extensions();

// Every file below `dir` (recursively, following directory symlinks as
// ImageFolder does) with an image extension, sorted by byte order. Throws
// when `dir` is missing or not a directory; may return none.
std::vector<std::string> find_images(const std::string& dir);

}  // namespace vitrt::tools
