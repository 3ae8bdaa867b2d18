// vitrt-convert: checkpoint -> vitrt model file. Every failure is one line on
// stderr, "vitrt-convert: error: ...", and exit code 1 (2 for usage errors).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "cli.h"
#include "convert.h"
#include "inspect.h"
#include "quant/calibrate.h"
#include "quant/quantize.h"
#include "quant/report.h"
#include "summary.h"

namespace {

constexpr char kTool[] = "vitrt-convert";

int run(int argc, char** argv) {
  using namespace vitrt::conv;
  const Options o = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (o.inspect) {
    std::cout << inspect(o);
    return 0;
  }
  // A bad --calib directory fails before the conversion's work.
  const std::vector<std::string> images =
      o.calib_dir.empty() ? std::vector<std::string>{} : find_images(o.calib_dir);
  Conversion c = convert(o);
  for (const std::string& note : c.notes) std::cerr << kTool << ": " << note << "\n";
  std::vector<uint8_t> reference;  // c.model in fp32, for --calib / --report
  if (!images.empty()) {
    Model fp32 = c.model;
    set_weight_dtype(fp32, DType::F32, {});
    reference = write_model(fp32);
    if (o.dtype == DType::I8) calibrate(c.model, reference, images, std::cerr);
  }
  std::vector<uint8_t> bytes = write_model(c.model);
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  if (!out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size())) || !out.flush()) {
    const std::string why = std::strerror(errno);
    out.close();
    std::remove(o.output.c_str());
    throw std::runtime_error("cannot write " + o.output + ": " + why);
  }
  std::cout << summary(c, o.output, bytes) << "\n";
  if (o.report) std::cout << quantization_report(reference, bytes, c.model, images, std::cerr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vitrt::tools::guarded_main(kTool, vitrt::conv::usage(), argc, argv, [&] { return run(argc, argv); });
}
