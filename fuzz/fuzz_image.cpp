// Image bytes -> decode (format sniffing, limits, stb_image) -> the
// model's preprocessing (shorter-side resize, centre crop, normalization),
// as vitrt-run does for a 224 x 224 model.
#include <exception>

#include "preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrt::tools;
  try {
    const PlanarImage img = decode_image(data, size, "fuzz", 3);
    PreprocessSpec spec;
    spec.height = spec.width = 224;
    preprocess(img, spec);
  } catch (const std::exception&) {
  }
  return 0;
}
