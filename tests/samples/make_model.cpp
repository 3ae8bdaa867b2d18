// Writes a small random-weight model for check_cli.py, with the
// preprocessing settings and labels under test (vitrt-convert only emits
// what timm checkpoints carry):
//   vitrt_samples_make_model OUT.vitrt CHANNELS HEIGHT WIDTH crop|stretch
//                            bilinear|bicubic CROP_PCT [LABEL...]
// With labels, the class count is the label count; otherwise 7.
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "model_writer.h"

namespace conv = vitrt::conv;

namespace {

std::mt19937 rng(42);

conv::Tensor random(std::vector<int32_t> shape, float scale, float offset = 0.f) {
  std::size_t n = 1;
  for (int32_t d : shape) n *= std::size_t(d);
  std::uniform_real_distribution<float> u(-scale, scale);
  conv::Tensor t{std::move(shape), {}};
  for (std::size_t i = 0; i < n; ++i) t.data.push_back(offset + u(rng));
  return t;
}

conv::Linear linear(int32_t out, int32_t in) { return {random({out, in}, 1.f), random({out}, 0.5f)}; }
conv::Norm norm(int32_t dim) { return {random({dim}, 0.2f, 1.f), random({dim}, 0.1f)}; }

int make(int argc, char** argv) {
  if (argc < 8) throw vitrt::tools::UsageError("usage: OUT C H W crop|stretch bilinear|bicubic CROP_PCT [LABEL...]");
  conv::Model m;
  conv::Config& c = m.config;
  c.channels = std::stoi(argv[2]);
  c.image_h = std::stoi(argv[3]);
  c.image_w = std::stoi(argv[4]);
  c.patch_h = c.patch_w = 4;
  c.dim = 8;
  c.depth = 1;
  c.heads = 2;
  c.head_dim = 4;
  c.mlp_dim = 16;
  m.labels.assign(argv + 8, argv + argc);
  c.num_classes = m.labels.empty() ? 7 : int32_t(m.labels.size());
  m.preprocess.mean = c.channels == 1 ? std::vector<float>{0.5f} : std::vector<float>{0.485f, 0.456f, 0.406f};
  m.preprocess.std = c.channels == 1 ? std::vector<float>{0.25f} : std::vector<float>{0.229f, 0.224f, 0.225f};
  m.preprocess.resize = std::string(argv[5]) == "stretch" ? 1 : 0;
  m.preprocess.interpolation = std::string(argv[6]) == "bilinear" ? 0 : 1;
  m.preprocess.crop_pct = std::stof(argv[7]);

  const int32_t patches = (c.image_h / c.patch_h) * (c.image_w / c.patch_w);
  m.patch_embed = linear(c.dim, c.channels * c.patch_h * c.patch_w);
  m.cls_token = random({c.dim}, 1.f);
  m.pos_embed = random({patches + 1, c.dim}, 0.5f);
  conv::Block b;
  b.norm1 = norm(c.dim);
  b.qkv = linear(3 * c.heads * c.head_dim, c.dim);
  b.proj = linear(c.dim, c.heads * c.head_dim);
  b.norm2 = norm(c.dim);
  b.fc1 = linear(c.mlp_dim, c.dim);
  b.fc2 = linear(c.dim, c.mlp_dim);
  m.blocks.push_back(b);
  m.norm = norm(c.dim);
  m.head = linear(c.num_classes, c.dim);

  const std::vector<uint8_t> bytes = conv::write_model(m);
  std::ofstream out(argv[1], std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error(std::string("cannot write ") + argv[1]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vitrt::tools::guarded_main("vitrt_samples_make_model", [&] { return make(argc, argv); });
}
