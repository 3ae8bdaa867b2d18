#include "quant/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "quant/calibrate.h"

namespace vitrt::conv {

void Agreement::add(const float* reference, const float* quantized, size_t n) {
  double dot = 0, rr = 0, qq = 0, noise = 0;
  for (size_t i = 0; i < n; ++i) {
    const double r = reference[i], q = quantized[i];
    dot += r * q;
    rr += r * r;
    qq += q * q;
    noise += (q - r) * (q - r);
  }
  cosine_sum_ += rr > 0 && qq > 0 ? dot / std::sqrt(rr * qq) : rr == qq ? 1.0 : 0.0;
  signal_ += rr;
  noise_ += noise;
  ++images_;
}

double Agreement::sqnr_db() const {
  if (noise_ == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(signal_ / noise_);
}

namespace {

// The fp32 model's Linear outputs of the current image, by observer name.
struct ReferenceOutputs {
  std::map<std::string, std::vector<float>> outputs;
  std::vector<std::string> order;  // as the first run reached them

  static void observe(void* ctx, const vitrt_linear_event* e) {
    auto& self = *static_cast<ReferenceOutputs*>(ctx);
    auto [it, added] = self.outputs.try_emplace(e->name);
    if (added) self.order.push_back(e->name);
    it->second.assign(e->output, e->output + size_t(e->rows) * size_t(e->out));
  }
};

// Compares the quantized model's Linear outputs with the reference's.
struct Comparison {
  const ReferenceOutputs* reference;
  std::map<std::string, Agreement> layers;

  static void observe(void* ctx, const vitrt_linear_event* e) {
    auto& self = *static_cast<Comparison*>(ctx);
    const auto it = self.reference->outputs.find(e->name);
    const size_t n = size_t(e->rows) * size_t(e->out);
    // Same architecture, so never false; guards a mismatched pair of files.
    if (it == self.reference->outputs.end() || it->second.size() != n) return;
    self.layers[e->name].add(it->second.data(), e->output, n);
  }
};

const char* dtype_name(DType d) { return d == DType::I8 ? "int8" : d == DType::F16 ? "fp16" : "fp32"; }

std::string row(const std::string& layer, const char* weights, const Agreement& a) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-20s %-7s %9.6f %8.2f\n", layer.c_str(), weights, a.mean_cosine(), a.sqnr_db());
  return buf;
}

}  // namespace

std::string quantization_report(const std::vector<uint8_t>& reference, const std::vector<uint8_t>& quantized,
                                Model& quantized_model, const std::vector<std::string>& images, std::ostream& log) {
  ReferenceOutputs ref_outputs;
  Comparison comparison{&ref_outputs, {}};
  ObservedModel fp32(reference, "fp32 reference model", &ReferenceOutputs::observe, &ref_outputs);
  ObservedModel quant(quantized, "quantized model", &Comparison::observe, &comparison);
  const size_t classes = size_t(fp32.classes());
  Agreement logits;
  size_t top1_same = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    std::vector<float> x;
    try {
      x = fp32.input(images[i]);
    } catch (const std::exception&) {
      if (i > 0) log << "\n";  // the error's line after the progress line, not glued to it
      throw;
    }
    const float* ref = fp32.run(x);
    const std::vector<float> ref_logits(ref, ref + classes);
    const float* q = quant.run(x);
    logits.add(ref_logits.data(), q, classes);
    top1_same += std::max_element(ref_logits.begin(), ref_logits.end()) - ref_logits.begin() ==
                 std::max_element(q, q + classes) - q;
    log << "\rvitrt-convert: report: " << i + 1 << "/" << images.size() << " images" << std::flush;
  }
  log << "\n";

  std::map<std::string, DType> dtypes;
  for (const auto& [name, linear] : named_linears(quantized_model)) dtypes[name] = linear->weight.dtype;
  std::string out = "quantized vs fp32 on " + std::to_string(images.size()) +
                    " calibration images: mean cosine per image, SQNR from summed energies\n";
  char header[160];
  std::snprintf(header, sizeof header, "%-20s %-7s %9s %8s\n", "layer", "weights", "cosine", "SQNR dB");
  out += header;
  for (const std::string& name : ref_outputs.order)
    out += row(name, dtype_name(dtypes.at(name)), comparison.layers[name]);
  out += row("logits", "", logits);
  char top1[120];
  std::snprintf(top1, sizeof top1, "top-1 agreement: %zu/%zu images (%.1f%%)\n", top1_same, images.size(),
                100.0 * double(top1_same) / double(images.size()));
  return out + top1;
}

}  // namespace vitrt::conv
