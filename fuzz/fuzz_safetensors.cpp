// safetensors bytes -> tensors -> family detection and mapping -> model
// bytes: the converter's reader, its mappers and the writer on one input.
#include <exception>

#include "convert.h"
#include "fuzz_util.h"
#include "model_writer.h"
#include "readers/safetensors.h"
#include "readers/tensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vitrt::conv;
  try {
    const TensorMap tensors = read_safetensors(vitrt::fuzz::shared_bytes(data, size), "fuzz.safetensors");
    for (const auto& [name, t] : tensors)
      if (t.numel() <= (int64_t{1} << 20)) to_float(t, name);
    Options o;
    o.checkpoint = "fuzz.safetensors";
    o.flags.heads.set(2, "--heads");
    const Conversion c = convert(o, tensors);
    write_model(c.model);
  } catch (const std::exception&) {
  }
  return 0;
}
