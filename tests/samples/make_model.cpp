// Writes a small random-weight model for check_cli.py, with the
// preprocessing settings and labels under test (vitrt-convert only emits
// what timm checkpoints carry):
//   vitrt_samples_make_model OUT.vitrt CHANNELS HEIGHT WIDTH crop|stretch
//                            bilinear|bicubic CROP_PCT [LABEL...]
// With labels, the class count is the label count; otherwise 7.
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "random_model.h"

namespace conv = vitrt::conv;

namespace {

int make(int argc, char** argv) {
  if (argc < 8) throw vitrt::tools::UsageError("usage: OUT C H W crop|stretch bilinear|bicubic CROP_PCT [LABEL...]");
  const std::vector<std::string> labels(argv + 8, argv + argc);
  conv::Model m = vitrt::test::RandomModel().make(std::stoi(argv[2]), std::stoi(argv[3]), std::stoi(argv[4]),
                                                  labels.empty() ? 7 : int(labels.size()));
  m.labels = labels;
  m.preprocess.resize = std::string(argv[5]) == "stretch" ? 1 : 0;
  m.preprocess.interpolation = std::string(argv[6]) == "bilinear" ? 0 : 1;
  m.preprocess.crop_pct = std::stof(argv[7]);

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
