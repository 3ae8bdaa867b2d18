#include "families/hparams.h"

#include <cmath>
#include <limits>

#include "families/timm_arch.h"
#include "vitrt/vitrt.h"

namespace vitrt::conv {

HParams overlay(HParams base, const HParams& over) {
  auto pick = [](auto& b, const auto& o) { if (o) b = o; };
  pick(base.dim, over.dim);
  pick(base.depth, over.depth);
  pick(base.heads, over.heads);
  pick(base.mlp_dim, over.mlp_dim);
  pick(base.num_classes, over.num_classes);
  pick(base.channels, over.channels);
  pick(base.image_h, over.image_h);
  pick(base.image_w, over.image_w);
  pick(base.patch_h, over.patch_h);
  pick(base.patch_w, over.patch_w);
  pick(base.class_token, over.class_token);
  pick(base.dist_token, over.dist_token);
  pick(base.fc_norm, over.fc_norm);
  pick(base.qkv_bias, over.qkv_bias);
  pick(base.pos_embed_patches_only, over.pos_embed_patches_only);
  pick(base.pool, over.pool);
  pick(base.ln_eps, over.ln_eps);
  pick(base.crop_pct, over.crop_pct);
  pick(base.interpolation, over.interpolation);
  pick(base.resize, over.resize);
  pick(base.mean, over.mean);
  pick(base.std, over.std);
  pick(base.labels, over.labels);
  pick(base.arch, over.arch);
  return base;
}

namespace {

// Typed access to config members; wrong types are errors, absent is not.
class ConfigReader {
 public:
  ConfigReader(const Json& obj, std::string source, std::string prefix)
      : obj_(obj), source_(std::move(source)), prefix_(std::move(prefix)) {}

  const Json* get(const char* key) const {
    const Json* v = obj_.find(key);
    return v && !v->is_null() ? v : nullptr;
  }

  [[noreturn]] void bad(const char* key, const char* want) const {
    throw std::runtime_error(source_ + ": \"" + prefix_ + key + "\" must be " + want);
  }

  static bool is_int(const Json& v) {
    return v.is_integer && v.integer > 0 && v.integer <= std::numeric_limits<int>::max();
  }

  void positive_int(const char* key, Param<int>& out) const {
    if (const Json* v = get(key)) {
      if (!is_int(*v)) bad(key, "a positive integer");
      out.set(int(v->integer), source_);
    }
  }

  // An int or [h, w].
  void size2(const char* key, Param<int>& h, Param<int>& w) const {
    const Json* v = get(key);
    if (!v) return;
    if (is_int(*v)) {
      h.set(int(v->integer), source_);
      w.set(int(v->integer), source_);
    } else if (v->is_array() && v->array.size() == 2 && is_int(v->array[0]) && is_int(v->array[1])) {
      h.set(int(v->array[0].integer), source_);
      w.set(int(v->array[1].integer), source_);
    } else {
      bad(key, "a positive integer or [height, width]");
    }
  }

  void boolean(const char* key, Param<bool>& out) const {
    if (const Json* v = get(key)) {
      if (!v->is_bool()) bad(key, "true or false");
      out.set(v->boolean, source_);
    }
  }

  void positive_float(const char* key, Param<float>& out) const {
    if (const Json* v = get(key)) {
      if (!v->is_number() || !(v->number > 0)) bad(key, "a positive number");
      out.set(float(v->number), source_);
    }
  }

  void floats(const char* key, Param<std::vector<float>>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_array() || v->array.empty()) bad(key, "a non-empty array of numbers");
    std::vector<float> f;
    for (const Json& x : v->array) {
      if (!x.is_number()) bad(key, "a non-empty array of numbers");
      f.push_back(float(x.number));
    }
    out.set(std::move(f), source_);
  }

  void pool(const char* key, Param<Pool>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_string()) bad(key, "a string");
    if (v->string == "token") out.set(Pool::Token, source_);
    else if (v->string == "avg") out.set(Pool::Mean, source_);
    else throw std::runtime_error(source_ + ": global_pool \"" + v->string + "\" is not supported (token or avg)");
  }

  void interpolation(const char* key, Param<int>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_string()) bad(key, "a string");
    if (v->string == "bicubic") out.set(1, source_);
    else if (v->string == "bilinear") out.set(0, source_);
    else throw std::runtime_error(source_ + ": interpolation \"" + v->string + "\" is not supported (bicubic or bilinear)");
  }

  // timm's crop_mode: "center" is its eval transform's resize + centre crop,
  // "squash" resizes straight to the model size; "border" has no equivalent.
  void crop_mode(const char* key, Param<int>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_string()) bad(key, "a string");
    if (v->string == "center") out.set(0, source_);  // schema ResizeMode
    else if (v->string == "squash") out.set(1, source_);
    else throw std::runtime_error(source_ + ": crop_mode \"" + v->string + "\" is not supported (center or squash)");
  }

  void label_list(const char* key, Param<std::vector<std::string>>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_array()) bad(key, "an array of strings");
    std::vector<std::string> labels;
    for (const Json& x : v->array) {
      if (!x.is_string()) bad(key, "an array of strings");
      labels.push_back(x.string);
    }
    out.set(std::move(labels), source_);
  }

  // Hugging Face {"0": "tench", "1": ...}: keys must be exactly 0..n-1.
  void label_map(const char* key, Param<std::vector<std::string>>& out) const {
    const Json* v = get(key);
    if (!v) return;
    if (!v->is_object()) bad(key, "an object of index -> label");
    std::vector<std::string> labels(v->object.size());
    std::vector<bool> seen(labels.size());
    for (const auto& [k, name] : v->object) {
      size_t i = 0;
      bool digits = !k.empty() && k.size() < 10;
      for (char ch : k) {
        digits = digits && ch >= '0' && ch <= '9';
        i = i * 10 + size_t(ch - '0');
      }
      if (!digits || i >= labels.size() || seen[i] || !name.is_string())
        bad(key, "an object mapping 0..n-1 to label strings");
      labels[i] = name.string;
      seen[i] = true;
    }
    out.set(std::move(labels), source_);
  }

  const Json& obj() const { return obj_; }

 private:
  const Json& obj_;
  std::string source_, prefix_;
};

HParams from_hf_transformers(const ConfigReader& c, const std::string& source) {
  HParams h;
  c.positive_int("hidden_size", h.dim);
  c.positive_int("num_attention_heads", h.heads);
  c.positive_int("num_hidden_layers", h.depth);
  c.positive_int("intermediate_size", h.mlp_dim);
  c.size2("image_size", h.image_h, h.image_w);
  c.size2("patch_size", h.patch_h, h.patch_w);
  c.positive_int("num_channels", h.channels);
  c.positive_float("layer_norm_eps", h.ln_eps);
  c.boolean("qkv_bias", h.qkv_bias);
  c.label_map("id2label", h.labels);
  if (const Json* act = c.get("hidden_act"); act && !(act->is_string() && act->string == "gelu"))
    throw std::runtime_error(source + ": hidden_act other than \"gelu\" is not supported");
  return h;
}

HParams from_timm(const ConfigReader& c, const std::string& source) {
  HParams h;
  if (const Json* arch = c.get("architecture")) {
    if (!arch->is_string()) c.bad("architecture", "a string");
    // An architecture outside the table is fine: the file may say the rest.
    if (auto known = find_arch(arch->string, source + " architecture " + arch->string)) h = *known;
    else h.arch.set(arch->string, source);
  }
  HParams f;
  if (const Json* args = c.get("model_args")) {
    if (!args->is_object()) c.bad("model_args", "an object");
    ConfigReader m(*args, source, "model_args.");
    m.positive_int("num_heads", f.heads);
    m.positive_int("embed_dim", f.dim);
    m.positive_int("depth", f.depth);
    m.positive_int("num_classes", f.num_classes);
    m.positive_int("in_chans", f.channels);
    m.size2("img_size", f.image_h, f.image_w);
    m.size2("patch_size", f.patch_h, f.patch_w);
    m.boolean("class_token", f.class_token);
    m.boolean("fc_norm", f.fc_norm);
    m.boolean("no_embed_class", f.pos_embed_patches_only);
    m.boolean("qkv_bias", f.qkv_bias);
    m.pool("global_pool", f.pool);
    Param<float> ratio;
    m.positive_float("mlp_ratio", ratio);
    if (ratio) {
      const Param<int>& dim = f.dim ? f.dim : h.dim;
      if (!dim) throw std::runtime_error(source + ": model_args.mlp_ratio needs model_args.embed_dim or a known architecture");
      f.mlp_dim.set(int(std::lround(*dim * *ratio)), source);
    }
    if (const Json* act = m.get("act_layer"); act && !(act->is_string() && act->string == "gelu"))
      throw std::runtime_error(source + ": model_args.act_layer other than \"gelu\" is not supported");
  }
  if (const Json* pre = c.get("pretrained_cfg")) {
    if (!pre->is_object()) c.bad("pretrained_cfg", "an object");
    ConfigReader p(*pre, source, "pretrained_cfg.");
    if (const Json* in = p.get("input_size")) {
      if (!in->is_array() || in->array.size() != 3) p.bad("input_size", "[channels, height, width]");
      for (const Json& d : in->array)
        if (!ConfigReader::is_int(d)) p.bad("input_size", "[channels, height, width]");
      f.channels.set(int(in->array[0].integer), source);
      f.image_h.set(int(in->array[1].integer), source);
      f.image_w.set(int(in->array[2].integer), source);
    }
    p.floats("mean", f.mean);
    p.floats("std", f.std);
    p.positive_float("crop_pct", f.crop_pct);
    p.interpolation("interpolation", f.interpolation);
    p.crop_mode("crop_mode", f.resize);
    p.positive_int("num_classes", f.num_classes);
  }
  c.positive_int("num_classes", f.num_classes);
  c.pool("global_pool", f.pool);
  c.label_list("label_names", f.labels);
  return overlay(h, f);
}

}  // namespace

HParams hparams_from_config(const Json& config, const std::string& source) {
  if (!config.is_object()) throw std::runtime_error(source + ": config is not a JSON object");
  ConfigReader c(config, source, "");
  if (c.get("hidden_size") || c.get("num_attention_heads")) return from_hf_transformers(c, source);
  return from_timm(c, source);
}

void check_limits(const HParams& hp) {
  auto at_most = [](const Param<int>& p, int max, const char* what) {
    if (p && *p > max)
      throw std::runtime_error(std::string(what) + " " + std::to_string(*p) + " (from " + p.source +
                               ") is above the runtime's limit of " + std::to_string(max));
  };
  at_most(hp.image_h, VITRT_MAX_IMAGE_SIDE, "image height");
  at_most(hp.image_w, VITRT_MAX_IMAGE_SIDE, "image width");
  at_most(hp.patch_h, VITRT_MAX_PATCH, "patch height");
  at_most(hp.patch_w, VITRT_MAX_PATCH, "patch width");
  at_most(hp.channels, VITRT_MAX_CHANNELS, "channels");
  at_most(hp.dim, VITRT_MAX_DIM, "dim");
  at_most(hp.depth, VITRT_MAX_DEPTH, "depth");
  at_most(hp.heads, VITRT_MAX_HEADS, "heads");
  at_most(hp.mlp_dim, VITRT_MAX_MLP, "mlp_dim");
  at_most(hp.num_classes, VITRT_MAX_CLASSES, "num_classes");
  if (hp.image_h && hp.image_w && hp.patch_h && hp.patch_w) {
    const int64_t patches = int64_t(*hp.image_h / *hp.patch_h) * (*hp.image_w / *hp.patch_w);
    if (patches > VITRT_MAX_TOKENS)
      throw std::runtime_error("image " + std::to_string(*hp.image_h) + "x" + std::to_string(*hp.image_w) +
                               " (from " + hp.image_h.source + ") in patches of " + std::to_string(*hp.patch_h) +
                               "x" + std::to_string(*hp.patch_w) + " gives " + std::to_string(patches) +
                               " tokens, above the runtime's limit of " + std::to_string(VITRT_MAX_TOKENS));
  }
  if (hp.crop_pct && !(*hp.crop_pct >= VITRT_MIN_CROP_PCT && *hp.crop_pct <= 1.f))
    throw std::runtime_error("crop_pct " + std::to_string(*hp.crop_pct) + " (from " + hp.crop_pct.source +
                             ") is outside 0.1..1");
}

}  // namespace vitrt::conv
