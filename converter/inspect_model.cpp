#include "inspect_model.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "aligned_buffer.h"
#include "cli.h"
#include "summary.h"
#include "vitrt/vitrt.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt::conv {
namespace {

namespace s = vitrt::schema;

using tools::json_string;

// Integers as such; everything else is a float of the file, shortest form.
std::string number(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else *std::to_chars(buf, buf + sizeof buf - 1, float(v)).ptr = '\0';
  return buf;
}

// One report, written as indented "key: value" text and as JSON at once.
class Report {
 public:
  explicit Report(bool json) : json_(json) {}

  void begin(const std::string& key) {
    if (json_) out_ += sep() + json_string(key) + ": {";
    else out_ += indent() + key + ":\n";
    first_ = true;
    ++depth_;
  }
  void end() {
    --depth_;
    if (json_) out_ += "}";
    first_ = false;
  }
  void text(const std::string& key, const std::string& v) { put(key, v, json_string(v)); }
  void num(const std::string& key, double v) { put(key, number(v), number(v)); }
  void flag(const std::string& key, bool v) { put(key, v ? "yes" : "no", v ? "true" : "false"); }
  void numbers(const std::string& key, const flatbuffers::Vector<float>* v) {
    std::string t, j;
    for (uint32_t i = 0; v && i < v->size(); ++i) {
      t += (i ? "," : "") + number(v->Get(i));
      j += (i ? ", " : "") + number(v->Get(i));
    }
    put(key, t, "[" + j + "]");
  }
  // Every label in JSON; the first few and a count in text.
  void labels(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
    constexpr uint32_t kShown = 10;
    std::string t, j;
    for (uint32_t i = 0; v && i < v->size(); ++i) {
      const std::string label = v->Get(i)->str();
      j += (i ? ", " : "") + json_string(label);
      if (i < kShown) t += (i ? ", " : "") + std::to_string(i) + " " + label;
    }
    if (v && v->size() > kShown) t += ", ... (" + std::to_string(v->size()) + " in all)";
    put("labels", v ? t : "none", v ? "[" + j + "]" : "null");
  }
  std::string str() const { return json_ ? "{" + out_ + "}\n" : out_; }

 private:
  std::string indent() const { return std::string(size_t(depth_) * 2, ' '); }
  std::string sep() {
    const bool was_first = first_;
    first_ = false;
    return was_first ? "" : ", ";
  }
  void put(const std::string& key, const std::string& text, const std::string& json) {
    if (json_) out_ += sep() + json_string(key) + ": " + json;
    else out_ += indent() + key + ": " + text + "\n";
  }

  bool json_;
  std::string out_;
  int depth_ = 0;
  bool first_ = true;
};

std::string dtype_layout(const s::Tensor* t) {
  if (!t) return "absent";
  std::string d = t->dtype() == s::DType::F32 ? "fp32" : t->dtype() == s::DType::F16 ? "fp16"
                  : t->dtype() == s::DType::I8 ? "int8" : "int32";
  return d + " " + s::EnumNameWeightLayout(t->layout());
}

std::string shape(const s::Tensor* t) {
  std::string out;
  for (uint32_t i = 0; t && t->shape() && i < t->shape()->size(); ++i)
    out += (i ? "x" : "") + std::to_string(t->shape()->Get(int(i)));
  return out;
}

void linear(Report& r, const std::string& name, const s::Linear* l) {
  if (!l || !l->weight()) return;
  std::string v = dtype_layout(l->weight()) + " [" + shape(l->weight()) + "]";
  if (l->input_scale() != 0) v += ", static input scale " + number(l->input_scale());
  r.text(name, v);
}

}  // namespace

bool looks_like_vitrt_model(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 8 && s::ModelBufferHasIdentifier(bytes.data());
}

std::string inspect_model(const std::string& path, const std::vector<uint8_t>& file, bool json) {
  tools::AlignedBuffer bytes(file.size());  // the runtime reads it in place
  std::memcpy(bytes.data(), file.data(), file.size());
  vitrt_model rt;
  vitrt_info info;
  if (vitrt_open(&rt, bytes.data(), bytes.size()) != VITRT_OK || vitrt_get_info(&rt, &info) != VITRT_OK)
    throw std::runtime_error(path + ": not a valid vitrt model: " + vitrt_last_error(&rt));
  const s::Model* m = s::GetModel(bytes.data());
  const s::Config* c = m->config();

  Report r(json);
  r.text("model", path);
  r.num("file_bytes", double(file.size()));
  r.num("schema_version", info.schema_version);
  r.num("weight_bytes", double(info.weight_bytes));
  r.num("arena_bytes", double(vitrt_arena_size(&rt)));
  r.text("arena_note", std::string("1 thread, kernels ") + vitrt_kernels(&rt));
  r.begin("config");
  r.num("image_h", c->image_h());
  r.num("image_w", c->image_w());
  r.num("channels", c->channels());
  r.num("patch_h", c->patch_h());
  r.num("patch_w", c->patch_w());
  r.text("stem", s::EnumNameStemKind(c->stem()));
  r.num("dim", c->dim());
  r.num("depth", c->depth());
  r.num("heads", c->heads());
  r.num("head_dim", c->head_dim());
  r.num("mlp_dim", c->mlp_dim());
  r.text("mlp_activation", s::EnumNameActivation(c->mlp_activation()));
  r.text("norm_placement", s::EnumNameNormPlacement(c->norm_placement()));
  r.num("ln_eps", c->ln_eps());
  r.num("attn_scale", c->attn_scale() != 0 ? c->attn_scale() : 1.0 / std::sqrt(double(c->head_dim())));
  r.flag("class_token", c->class_token());
  r.flag("dist_token", c->dist_token());
  r.text("pos_embed", s::EnumNamePosEmbedKind(c->pos_embed()));
  r.flag("pos_embed_patches_only", c->pos_embed_patches_only());
  r.num("tokens", info.num_tokens);
  r.text("pooling", s::EnumNamePooling(c->pooling()));
  r.num("pre_logits_layers", m->pre_logits() ? m->pre_logits()->size() : 0);
  r.text("pre_logits_activation", s::EnumNameActivation(m->pre_logits_act()));
  r.num("num_classes", c->num_classes());
  r.end();
  r.begin("preprocess");
  r.text("transform", describe_preprocess(info));
  r.text("resize", info.resize_mode == 1 ? "stretch" : "crop");
  r.num("crop_pct", info.crop_pct);
  r.text("interpolation", info.interpolation == 0 ? "bilinear" : "bicubic");
  r.numbers("mean", m->preprocess() ? m->preprocess()->mean() : nullptr);
  r.numbers("std", m->preprocess() ? m->preprocess()->std() : nullptr);
  r.end();
  r.labels(m->labels());
  r.begin("linears");
  linear(r, "patch_embed", m->patch_embed());
  for (uint32_t i = 0; m->blocks() && i < m->blocks()->size(); ++i) {
    const s::Block* b = m->blocks()->Get(i);
    const std::string p = "blocks." + std::to_string(i) + ".";
    linear(r, p + "qkv", b->qkv());
    linear(r, p + "proj", b->proj());
    linear(r, p + "fc1", b->fc1());
    linear(r, p + "fc2", b->fc2());
  }
  for (uint32_t i = 0; m->pre_logits() && i < m->pre_logits()->size(); ++i)
    linear(r, "pre_logits." + std::to_string(i), m->pre_logits()->Get(i));
  linear(r, "head", m->head());
  linear(r, "head_dist", m->head_dist());
  r.end();
  return r.str();
}

}  // namespace vitrt::conv
