// PyTorch checkpoint bytes (zip, or a bare pickle as legacy files start)
// -> restricted unpickler -> state-dict search: the .pth path of the
// converter.
#include <exception>
#include <stdexcept>

#include "fuzz_util.h"
#include "readers/pickle.h"
#include "readers/pytorch.h"
#include "readers/tensors.h"
#include "readers/unwrap.h"
#include "readers/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrt::conv;
  try {
    const auto bytes = vitrt::fuzz::shared_bytes(data, size);
    PyRef checkpoint;
    if (looks_like_zip(*bytes)) {
      const ZipArchive zip(bytes, "fuzz.pth");
      if (!is_torch_zip(zip)) return 0;
      checkpoint = read_torch_zip(zip, "fuzz.pth");
    } else {
      // A bare pickle has no storages to load (like unpickle's other callers,
      // refuse a persistent id with an error).
      checkpoint = unpickle(data, size, "fuzz.pkl", [](const PyRef&) -> PyRef {
        throw std::runtime_error("fuzz.pkl: persistent id outside a checkpoint");
      });
    }
    if (checkpoint) unwrap_state_dict(checkpoint, "fuzz.pth");
  } catch (const std::exception&) {
  }
  return 0;
}
