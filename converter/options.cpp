#include "options.h"

#include "cli.h"
#include "quant/quantize.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace vitrt::conv {

// Misuse of the command line: exit code 2, as in every tool.
using tools::UsageError;

std::string usage() {
  return "usage: vitrt-convert CHECKPOINT -o OUT [--arch NAME | --config JSON] [--heads N]\n"
         "         [--image-size H[xW]] [--patch-size P[xQ]] [--pool cls|mean] [--eps E]\n"
         "         [--mean a[,b,c] --std a[,b,c]] [--labels FILE]\n"
         "         [--dtype fp32|fp16|int8] [--keep-float LAYER[,LAYER...]] [--calib DIR [--report]]\n"
         "         [--family NAME] [--key NAME] [--crop-pct F] [--resize crop|stretch]\n"
         "         [--interpolation bicubic|bilinear]\n"
         "       vitrt-convert --inspect CHECKPOINT [the flags above]\n"
         "       vitrt-convert --inspect MODEL.vitrt [--json]\n"
         "       vitrt-convert --help | --version\n"
         "Converts a ViT checkpoint (.safetensors, torch.save .pt/.pth/.pth.tar, NumPy .npz) into a vitrt model;\n"
         "--inspect prints its format, family and hyperparameters, and what must still be given;\n"
         "for a .vitrt model file, everything the file records (--json: as one JSON object).\n"
         "Flags override --config / --arch, which override the checkpoint's own 'arch' entry\n"
         "(MoCo v3, timm's train.py) and what the weights imply.\n"
         "--key NAME takes the state dict checkpoint[NAME] of a torch.save file holding several\n"
         "(model, model_ema, state_dict, teacher, ...).\n"
         "--dtype fp16|int8 stores every Linear weight as fp16 or as int8 (per-channel scales, activations\n"
         "quantized per token at run time); --keep-float keeps layers fp32: patch_embed, head (with\n"
         "head_dist, pre_logits), qkv, proj, fc1, fc2 (in every block) or blocks.N.\n"
         "--calib DIR runs the fp32 model on every image under DIR and gives each int8 Linear a static\n"
         "input scale, max |input| / 127, instead of per-token scales; --report (with --calib, fp16 or int8)\n"
         "then prints each Linear's output cosine and SQNR against fp32 on those images.\n";
}

namespace {

[[noreturn]] void bad(const std::string& flag, const std::string& value, const char* want) {
  throw UsageError("invalid " + flag + " '" + value + "': expected " + want);
}

int positive_int(const std::string& flag, const std::string& s) {
  if (s.empty() || s[0] == '-' || s[0] == '+') bad(flag, s, "a positive integer");
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno || *end || v <= 0 || v > 1 << 20) bad(flag, s, "a positive integer");
  return int(v);
}

float finite_float(const std::string& flag, const std::string& s) {
  errno = 0;
  char* end = nullptr;
  float v = std::strtof(s.c_str(), &end);
  if (s.empty() || errno || *end || !std::isfinite(v)) bad(flag, s, "a number");
  return v;
}

// "H" or "HxW".
void size_pair(const std::string& flag, const std::string& s, Param<int>& h, Param<int>& w) {
  size_t x = s.find('x');
  h.set(positive_int(flag, s.substr(0, x)), flag);
  w.set(x == std::string::npos ? *h : positive_int(flag, s.substr(x + 1)), flag);
}

std::vector<float> float_list(const std::string& flag, const std::string& s) {
  std::vector<float> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    out.push_back(finite_float(flag, s.substr(start, comma - start)));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// The flags parse_options reads a value for: a last flag that is none of
// them is unknown, not missing its value.
bool takes_value(const std::string& flag) {
  static const char* const kFlags[] = {"-o", "--output", "--arch", "--config", "--labels", "--dtype",
                                       "--keep-float", "--calib", "--family", "--key", "--heads",
                                       "--image-size", "--patch-size", "--eps", "--pool", "--mean", "--std",
                                       "--crop-pct", "--resize", "--interpolation"};
  for (const char* f : kFlags)
    if (flag == f) return true;
  return false;
}

}  // namespace

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  HParams& f = o.flags;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (flag == "--inspect") { o.inspect = true; continue; }
    if (flag == "--report") { o.report = true; continue; }
    if (flag == "--json") { o.json = true; continue; }
    if (flag.size() < 2 || flag[0] != '-') { positional.push_back(flag); continue; }
    if (size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (i + 1 >= args.size())
        throw takes_value(flag) ? UsageError(flag + " needs a value") : tools::unknown_option(flag);
      value = args[++i];
    }
    if (flag == "-o" || flag == "--output") o.output = value;
    else if (flag == "--arch") o.arch = value;
    else if (flag == "--config") o.config_path = value;
    else if (flag == "--labels") o.labels_path = value;
    else if (flag == "--dtype") {
      if (value == "fp32") o.dtype = DType::F32;
      else if (value == "fp16") o.dtype = DType::F16;
      else if (value == "int8") o.dtype = DType::I8;
      else bad(flag, value, "fp32, fp16 or int8");
    } else if (flag == "--keep-float") {
      for (size_t start = 0;;) {
        const size_t comma = value.find(',', start);
        const std::string name = value.substr(start, comma - start);
        if (!is_keep_float_name(name)) bad(flag, value, "patch_embed, head, qkv, proj, fc1, fc2 or blocks.N, comma-separated");
        o.keep_float.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    else if (flag == "--calib") o.calib_dir = value;
    else if (flag == "--family") o.family = value;
    else if (flag == "--key") o.key = value;
    else if (flag == "--heads") f.heads.set(positive_int(flag, value), flag);
    else if (flag == "--image-size") size_pair(flag, value, f.image_h, f.image_w);
    else if (flag == "--patch-size") size_pair(flag, value, f.patch_h, f.patch_w);
    else if (flag == "--eps") {
      float eps = finite_float(flag, value);
      if (eps <= 0) bad(flag, value, "a positive number");
      f.ln_eps.set(eps, flag);
    } else if (flag == "--pool") {
      if (value == "cls") f.pool.set(Pool::Token, flag);
      else if (value == "mean") f.pool.set(Pool::Mean, flag);
      else bad(flag, value, "cls or mean");
    } else if (flag == "--mean") {
      f.mean.set(float_list(flag, value), flag);
    } else if (flag == "--std") {
      std::vector<float> std = float_list(flag, value);
      for (float s : std)
        if (s <= 0) bad(flag, value, "positive numbers");
      f.std.set(std, flag);
    } else if (flag == "--crop-pct") {
      float pct = finite_float(flag, value);
      if (!(pct > 0 && pct <= 1)) bad(flag, value, "a number in (0, 1]");
      f.crop_pct.set(pct, flag);
    } else if (flag == "--resize") {
      // Values of schema ResizeMode.
      if (value == "crop") f.resize.set(0, flag);
      else if (value == "stretch") f.resize.set(1, flag);
      else bad(flag, value, "crop or stretch");
    } else if (flag == "--interpolation") {
      // Values of schema Interpolation.
      if (value == "bilinear") f.interpolation.set(0, flag);
      else if (value == "bicubic") f.interpolation.set(1, flag);
      else bad(flag, value, "bicubic or bilinear");
    } else {
      throw tools::unknown_option(flag);
    }
  }
  if (positional.size() != 1)
    throw UsageError(positional.empty() ? "no checkpoint given"
                                        : "expected one checkpoint, got " + std::to_string(positional.size()));
  o.checkpoint = positional[0];
  if (o.output.empty() && !o.inspect) throw UsageError("no output file given: pass -o OUT");
  if (!o.arch.empty() && !o.config_path.empty()) throw UsageError("pass --arch or --config, not both");
  if (o.json && !o.inspect) throw UsageError("--json needs --inspect");
  if (!o.keep_float.empty() && o.dtype == DType::F32)
    throw UsageError("--keep-float needs --dtype fp16 or int8");
  if (!o.calib_dir.empty() && o.dtype != DType::I8 && !o.report)
    throw UsageError("--calib needs --dtype int8 (or --report)");
  if (o.report && (o.calib_dir.empty() || o.dtype == DType::F32))
    throw UsageError("--report needs --calib DIR and --dtype fp16 or int8");
  return o;
}

}  // namespace vitrt::conv
