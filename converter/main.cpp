// vitrt-convert: checkpoint -> vitrt model file. Every failure is one line on
// stderr and a non-zero exit.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

#include "quant/calibrate.h"
#include "convert.h"
#include "inspect.h"
#include "quant/quantize.h"
#include "quant/report.h"

int main(int argc, char** argv) {
  using namespace vitrt::conv;
  try {
    Options o = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (o.help) {
      std::cout << usage();
      return 0;
    }
    if (o.inspect) {
      std::cout << inspect(o);
      return 0;
    }
    // A bad --calib directory fails before the conversion's work.
    const std::vector<std::string> images =
        o.calib_dir.empty() ? std::vector<std::string>{} : find_images(o.calib_dir);
    Conversion c = convert(o);
    for (const std::string& note : c.notes) std::cerr << note << "\n";
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
      std::cerr << "error: cannot write " << o.output << ": " << std::strerror(errno) << "\n";
      out.close();
      std::remove(o.output.c_str());
      return 1;
    }
    std::cout << summary(c, o.output, bytes.size()) << "\n";
    if (o.report) std::cout << quantization_report(reference, bytes, c.model, images, std::cerr);
    return 0;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (char& ch : msg)
      if (ch == '\n' || ch == '\r') ch = ' ';
    std::cerr << "error: " << msg << "\n";
  }
  return 1;
}
