// Exposes vitrt_host and the C API's preprocessing to check_samples.py and
// check_torchvision.py, which compare them with PyTorch / torchvision / PIL /
// NumPy. SPEC is the preprocessing a generated model records:
//   H W C crop|stretch bilinear|bicubic CROP_PCT MEAN1..MEANC STD1..STDC
//   vitrt_samples_probe preprocess IMAGE OUT.npy SPEC
//       decode (PNG/JPEG) + vitrt_preprocess, as vitrt-run
//   vitrt_samples_probe preprocess-raw RAW HEIGHT WIDTH FORMAT STRIDE OUT.npy SPEC
//       vitrt_preprocess of raw 8-bit pixels: HEIGHT rows STRIDE bytes apart
//       of WIDTH pixels of FORMAT (1 gray, 3 RGB, 4 RGBA) values
//   vitrt_samples_probe npy-copy IN.npy OUT.npy
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "aligned_buffer.h"
#include "cli.h"
#include "npy.h"
#include "preprocess.h"
#include "random_model.h"

namespace vt = vitrt::tools;

namespace {

// Smallest patch dividing `side` with at most 32 patches along it, so any
// model size makes a valid model.
int patch_for(int side) {
  for (int p = 1;; ++p)
    if (side % p == 0 && side / p <= 32) return p;
}

// A random-weight model recording the preprocessing in a[0..], opened.
class ProbeModel {
 public:
  explicit ProbeModel(const std::vector<std::string>& a) {
    if (a.size() < 6) throw vt::UsageError("SPEC: H W C crop|stretch bilinear|bicubic CROP_PCT MEAN.. STD..");
    const int h = std::stoi(a[0]), w = std::stoi(a[1]), c = std::stoi(a[2]);
    if (c < 1 || a.size() != 6 + 2 * std::size_t(c)) throw vt::UsageError("SPEC: need C means and C stds");
    vitrt::conv::Model model = vitrt::test::RandomModel().make(c, h, w, 3, patch_for(h), patch_for(w));
    model.preprocess.resize = a[3] == "stretch" ? VITRT_RESIZE_STRETCH : VITRT_RESIZE_SHORTER_SIDE_CROP;
    model.preprocess.interpolation = a[4] == "bilinear" ? VITRT_INTERP_BILINEAR : VITRT_INTERP_BICUBIC;
    model.preprocess.crop_pct = std::stof(a[5]);
    model.preprocess.mean.assign(c, 0.f);
    model.preprocess.std.assign(c, 1.f);
    for (int i = 0; i < c; ++i) {
      model.preprocess.mean[i] = std::stof(a[6 + i]);
      model.preprocess.std[i] = std::stof(a[6 + c + i]);
    }
    const std::vector<uint8_t> bytes = vitrt::conv::write_model(model);
    file_ = vt::AlignedBuffer(bytes.size());
    std::memcpy(file_.data(), bytes.data(), bytes.size());
    if (vitrt_open(&m_, file_.data(), file_.size()) != VITRT_OK)
      throw std::runtime_error(std::string("probe model: ") + vitrt_last_error(&m_));
    vitrt_get_info(&m_, &info_);
  }
  vitrt_model* handle() { return &m_; }
  std::vector<int64_t> shape() const { return {1, info_.channels, info_.image_h, info_.image_w}; }

 private:
  vt::AlignedBuffer file_;
  vitrt_model m_{};
  vitrt_info info_{};
};

int probe(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "npy-copy") {
    const vt::NpyArray x = vt::read_npy(a[1]);
    vt::write_npy(a[2], x.shape, x.data.data());
    return 0;
  }
  if (a.size() >= 3 && a[0] == "preprocess") {
    ProbeModel model({a.begin() + 3, a.end()});
    const std::vector<float> x = vt::preprocess(model.handle(), vt::load_image(a[1]));
    vt::write_npy(a[2], model.shape(), x.data());
    return 0;
  }
  if (a.size() >= 7 && a[0] == "preprocess-raw") {
    ProbeModel model({a.begin() + 7, a.end()});
    std::ifstream in(a[1], std::ios::binary);
    const std::vector<uint8_t> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const int h = std::stoi(a[2]), w = std::stoi(a[3]), format = std::stoi(a[4]);
    const std::size_t stride = std::stoul(a[5]);
    // Exactly the bytes the image spans, so ASan sees any overread.
    if (h < 1 || raw.size() != (h - 1) * stride + std::size_t(w) * format)
      throw std::runtime_error("raw file size does not match HEIGHT, WIDTH, FORMAT and STRIDE");
    vitrt_model* m = model.handle();
    std::vector<uint8_t> scratch(vitrt_preprocess_scratch_size(m, h, w, format));
    std::vector<float> x(std::size_t(model.shape()[1] * model.shape()[2] * model.shape()[3]));
    if (vitrt_preprocess(m, raw.data(), h, w, format, stride, scratch.data(), scratch.size(), x.data(), x.size()) !=
        VITRT_OK)
      throw std::runtime_error(std::string("vitrt_preprocess: ") + vitrt_last_error(m));
    vt::write_npy(a[6], model.shape(), x.data());
    return 0;
  }
  throw vt::UsageError("usage: preprocess IMAGE OUT SPEC | preprocess-raw RAW H W FORMAT STRIDE OUT SPEC | "
                       "npy-copy IN OUT");
}

}  // namespace

int main(int argc, char** argv) {
  return vt::guarded_main("vitrt_samples_probe", [&] { return probe(argc, argv); });
}
