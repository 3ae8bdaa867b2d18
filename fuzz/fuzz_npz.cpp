// .npz / .npy bytes: the converter's zip + npy reader (JAX checkpoints) and
// the tools' .npy reader (vitrt-run --tensor).
#include <exception>

#include "fuzz_util.h"
#include "npy.h"
#include "readers/npz.h"
#include "readers/tensors.h"
#include "readers/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrt::conv;
  const auto bytes = vitrt::fuzz::shared_bytes(data, size);
  try {
    if (looks_like_zip(*bytes)) {
      const ZipArchive zip(bytes, "fuzz.npz");
      for (const ZipEntry& e : zip.entries()) zip.read(e);
      if (is_npz(zip))
        for (const auto& [name, t] : read_npz(zip, "fuzz.npz"))
          if (t.numel() <= (int64_t{1} << 20)) to_float(t, name);
    } else {
      parse_npy(ZipData{bytes, 0, size}, "fuzz.npy");
    }
  } catch (const std::exception&) {
  }
  try {
    vitrt::tools::parse_npy(data, size, "fuzz.npy");
  } catch (const std::exception&) {
  }
  return 0;
}
