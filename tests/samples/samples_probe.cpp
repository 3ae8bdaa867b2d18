// Exposes vitrt_host pieces to check_samples.py, which compares them with
// PyTorch / PIL / NumPy:
//   vitrt_samples_probe preprocess IMAGE OUT.npy H W C crop|stretch
//                       bilinear|bicubic CROP_PCT MEAN1..MEANC STD1..STDC
//   vitrt_samples_probe npy-copy IN.npy OUT.npy
#include <string>
#include <vector>

#include "cli.h"
#include "npy.h"
#include "preprocess.h"

namespace vt = vitrt::tools;

namespace {

int probe(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "npy-copy") {
    const vt::NpyArray x = vt::read_npy(a[1]);
    vt::write_npy(a[2], x.shape, x.data.data());
    return 0;
  }
  if (a.size() >= 9 && a[0] == "preprocess") {
    vt::PreprocessSpec spec;
    spec.height = std::stoi(a[3]);
    spec.width = std::stoi(a[4]);
    spec.channels = std::stoi(a[5]);
    spec.resize = a[6] == "stretch" ? vt::ResizeMode::Stretch : vt::ResizeMode::ShorterSideCrop;
    spec.interpolation = a[7] == "bilinear" ? vt::Interpolation::Bilinear : vt::Interpolation::Bicubic;
    spec.crop_pct = std::stod(a[8]);
    if (a.size() != 9 + 2 * std::size_t(spec.channels)) throw vt::UsageError("need C means and C stds");
    for (int c = 0; c < spec.channels; ++c) {
      spec.mean[c] = std::stof(a[9 + c]);
      spec.std[c] = std::stof(a[9 + spec.channels + c]);
    }
    const std::vector<float> x = vt::preprocess(vt::load_image(a[1], spec.channels), spec);
    vt::write_npy(a[2], {1, spec.channels, spec.height, spec.width}, x.data());
    return 0;
  }
  throw vt::UsageError("usage: preprocess ... | npy-copy IN OUT");
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt_samples_probe", [&] { return probe(argc, argv); });
}
