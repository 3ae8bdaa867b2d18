// Image bytes -> decode (format sniffing, limits, stb_image) -> the C API's
// preprocessing (shorter-side resize, centre crop, normalization) for a
// generated 224 x 224 model, as vitrt-run does.
#include <cstring>
#include <exception>
#include <vector>

#include "aligned_buffer.h"
#include "preprocess.h"
#include "random_model.h"

namespace {

// Opened once: a random-weight model with timm's default preprocessing.
vitrt_model* model() {
  static vitrt::tools::AlignedBuffer file;
  static vitrt_model m;
  static const bool opened = [] {
    const std::vector<uint8_t> bytes =
        vitrt::conv::write_model(vitrt::test::RandomModel().make(3, 224, 224, 2, 16, 16));
    file = vitrt::tools::AlignedBuffer(bytes.size());
    std::memcpy(file.data(), bytes.data(), bytes.size());
    return vitrt_open(&m, file.data(), file.size()) == VITRT_OK;
  }();
  return opened ? &m : nullptr;
}

// Decoding cost is linear in the pixels a header declares: under ASan, UBSan
// and coverage the largest image the tools accept (64 Mpixels, 0.9 s in a
// release build) takes ~14 s, past the 10 s-per-input budget. The fuzzer
// caps at 8 Mpixels instead, through the same check, as image libraries'
// own fuzzers do.
constexpr int64_t kFuzzMaxPixels = int64_t{8} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrt::tools;
  vitrt_model* m = model();
  if (!m) std::terminate();
  try {
    preprocess(m, decode_image(data, size, "fuzz", kFuzzMaxPixels));
  } catch (const std::exception&) {
  }
  return 0;
}
