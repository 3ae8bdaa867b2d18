// vitrt_open's checks: the FlatBuffers verifier makes every access in bounds,
// then every config value, tensor shape, size and alignment is checked
// against what the forward pass will read, so run() needs no checks at all.
#include <float.h>

#include "kernels/kernels.h"
#include "state.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

namespace s = schema;

constexpr uint32_t kSchemaVersion = 1;
constexpr uint64_t kTensorAlignment = 64;
// Config limits: vitrt.h documents them; the converter applies the same.
constexpr int64_t kMaxImage = VITRT_MAX_IMAGE_SIDE, kMaxChannels = VITRT_MAX_CHANNELS;
constexpr int64_t kMaxPatch = VITRT_MAX_PATCH, kMaxDim = VITRT_MAX_DIM, kMaxDepth = VITRT_MAX_DEPTH;
constexpr int64_t kMaxHeads = VITRT_MAX_HEADS, kMaxMlp = VITRT_MAX_MLP, kMaxTokens = VITRT_MAX_TOKENS;
constexpr int64_t kMaxClasses = VITRT_MAX_CLASSES;
constexpr int64_t kMaxPatchLen = kMaxChannels * kMaxPatch * kMaxPatch;
constexpr int64_t kMaxStemConvs = 16, kMaxKernel = 16, kMaxStemFloats = int64_t{1} << 28;
constexpr int kMaxRank = 4;

bool positive_finite(float v) { return v > 0.f && v <= FLT_MAX; }  // false for NaN

class Checker {
 public:
  Checker(State& st, const uint8_t* base) : st_(st), base_(base) {}

  bool ok() const { return status_ == VITRT_OK; }
  vitrt_status status() const { return status_; }

  // Records the first failure only; later checks are skipped by callers.
  Message error(vitrt_status code) {
    status_ = code;
    return fail(st_);
  }

  bool int_field(const char* name, int64_t v, int64_t max) {
    if (v >= 1 && v <= max) return true;
    error(VITRT_ERR_INVALID_MODEL) << "config." << name << ": " << v << ", expected 1.." << max;
    return false;
  }

  // A tensor of shape [d0, d1, d2, d3] up to the first negative dimension,
  // named prefix+field+sub: fp32, or inside linear() also F16 or I8.
  void tensor(const s::Tensor* t, const char* prefix, const char* field, const char* sub,
              bool required, int64_t d0, int64_t d1 = -1, int64_t d2 = -1, int64_t d3 = -1) {
    if (!ok()) return;
    if (!t) {
      if (required) error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub << ": missing";
      return;
    }
    const s::DType dt = t->dtype();
    if (dt != s::DType::F32 && dt != s::DType::F16 && dt != s::DType::I8) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub << ": dtype "
                                     << static_cast<int32_t>(dt) << " is not F32, F16 or I8";
      return;
    }
    if (dt != s::DType::F32 && !linear_weight_) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub
                                     << ": F16 and I8 are only allowed for Linear weights";
      return;
    }
    const int64_t want[kMaxRank] = {d0, d1, d2, d3};
    int rank = 1;
    while (rank < kMaxRank && want[rank] >= 0) ++rank;
    const auto* shape = t->shape();
    bool same = shape && static_cast<int>(shape->size()) == rank;
    for (int i = 0; same && i < rank; ++i) same = shape->Get(i) == want[i];
    if (!same) {
      Message m = error(VITRT_ERR_INVALID_MODEL);
      m << prefix << field << sub << ": shape [";
      const int n = shape ? static_cast<int>(shape->size()) : 0;
      for (int i = 0; i < n && i < kMaxRank; ++i) m << (i ? "," : "") << shape->Get(i);
      if (n > kMaxRank) m << ",...";
      m << "], expected [";
      for (int i = 0; i < rank; ++i) m << (i ? "," : "") << want[i];
      m << "]";
      return;
    }
    if (!encoding(t, prefix, field, sub, d0)) return;
    const auto* data = t->data();
    uint64_t bytes = dt == s::DType::F32 ? sizeof(float) : dt == s::DType::F16 ? 2 : 1;
    for (int i = 0; i < rank; ++i) bytes *= static_cast<uint64_t>(want[i]);
    if (dt == s::DType::I8)  // Blocked16x4 pads [d0, d1] to whole 16x4 tiles
      bytes = static_cast<uint64_t>((d0 + kernels::kQs8TileN - 1) / kernels::kQs8TileN) *
              kernels::kQs8TileN * ((d1 + kernels::kQs8TileK - 1) / kernels::kQs8TileK) *
              kernels::kQs8TileK;
    else if (t->layout() == s::WeightLayout::Panel16)  // pads d0 to whole panels
      bytes = bytes / static_cast<uint64_t>(d0) *
              static_cast<uint64_t>((d0 + kernels::kPanelN - 1) / kernels::kPanelN * kernels::kPanelN);
    if (!data || data->size() != bytes) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub << ": data has "
                                     << static_cast<uint64_t>(data ? data->size() : 0)
                                     << " bytes, expected " << bytes;
      return;
    }
    if (static_cast<uint64_t>(data->Data() - base_) % kTensorAlignment != 0) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub
                                     << ": data is not 64-byte aligned in the file";
      return;
    }
    st_.weight_bytes += bytes;
  }

  void linear(const s::Linear* l, const char* prefix, const char* field, bool required,
              int64_t out, int64_t in) {
    if (!ok()) return;
    if (!l) {
      if (required) error(VITRT_ERR_INVALID_MODEL) << prefix << field << ": missing";
      return;
    }
    linear_weight_ = true;
    tensor(l->weight(), prefix, field, ".weight", true, out, in);
    linear_weight_ = false;
    tensor(l->bias(), prefix, field, ".bias", false, out);
    if (!ok()) return;
    const s::DType dt = l->weight()->dtype();
    const float scale = l->input_scale();
    if (!(scale == 0.f || (positive_finite(scale) && dt == s::DType::I8))) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field
                                     << ".input_scale: must be 0, or positive and finite with I8 weights";
      return;
    }
    const bool panels = dt == s::DType::F32 && l->weight()->layout() == s::WeightLayout::Panel16;
    int32_t& widest = dt == s::DType::I8 ? st_.i8_max_in
                      : panels           ? st_.panel_max_in
                                         : st_.scratch_max_in;
    if (in > widest) widest = static_cast<int32_t>(in);
  }

  void norm(const s::Norm* n, const char* prefix, const char* field, bool required, int64_t dim) {
    if (!ok()) return;
    if (!n) {
      if (required) error(VITRT_ERR_INVALID_MODEL) << prefix << field << ": missing";
      return;
    }
    tensor(n->weight(), prefix, field, ".weight", true, dim);
    tensor(n->bias(), prefix, field, ".bias", false, dim);
  }

  void absent(const void* p, const char* field, const char* why) {
    if (ok() && p) error(VITRT_ERR_INVALID_MODEL) << field << ": present, but " << why;
  }

 private:
  // The fields that go with t's dtype: I8 needs Blocked16x4 and `rows`
  // positive finite scales and channel sums; other dtypes have none of them
  // and are RowMajor, or Panel16 for Linear weights.
  bool encoding(const s::Tensor* t, const char* prefix, const char* field, const char* sub,
                int64_t rows) {
    const bool i8 = t->dtype() == s::DType::I8;
    const auto layout = static_cast<int>(t->layout());
    const auto* scales = t->scales();
    const auto* sums = t->channel_sums();
    const bool layout_ok = i8 ? layout == 1 : layout == 0 || (layout == 2 && linear_weight_);
    if (!layout_ok) {
      error(layout >= 0 && layout <= 2 ? VITRT_ERR_UNSUPPORTED : VITRT_ERR_INVALID_MODEL)
          << prefix << field << sub << ": layout " << layout << ", this runtime reads "
          << (i8 ? "I8 weights Blocked16x4 (1)"
                 : "F32/F16 RowMajor (0), and Panel16 (2) for Linear weights");
      return false;
    }
    if (!i8) {
      if (scales || sums)
        error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub
                                       << ": scales/channel_sums present on a non-I8 tensor";
      return ok();
    }
    const int64_t n_scales = scales ? scales->size() : 0, n_sums = sums ? sums->size() : 0;
    if (n_scales != rows || n_sums != rows) {
      error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub << ": " << n_scales << " scales and "
                                     << n_sums << " channel_sums, expected " << rows << " each";
      return false;
    }
    for (uint32_t i = 0; i < scales->size(); ++i) {
      if (!positive_finite(scales->Get(i))) {
        error(VITRT_ERR_INVALID_MODEL) << prefix << field << sub << ".scales[" << i
                                       << "]: not positive and finite";
        return false;
      }
    }
    return true;
  }

  State& st_;
  const uint8_t* base_;
  vitrt_status status_ = VITRT_OK;
  bool linear_weight_ = false;  // set while linear() checks a weight
};

// Config values and the sizes derived from them, computed in 64 bits.
void check_config(Checker& c, const s::Config& cf, Dims& d) {
  if (!(c.int_field("image_h", cf.image_h(), kMaxImage) &&
        c.int_field("image_w", cf.image_w(), kMaxImage) &&
        c.int_field("channels", cf.channels(), kMaxChannels) &&
        c.int_field("patch_h", cf.patch_h(), cf.image_h() < kMaxPatch ? cf.image_h() : kMaxPatch) &&
        c.int_field("patch_w", cf.patch_w(), cf.image_w() < kMaxPatch ? cf.image_w() : kMaxPatch) &&
        c.int_field("dim", cf.dim(), kMaxDim) && c.int_field("depth", cf.depth(), kMaxDepth) &&
        c.int_field("heads", cf.heads(), kMaxHeads) &&
        c.int_field("head_dim", cf.head_dim(), kMaxDim) &&
        c.int_field("mlp_dim", cf.mlp_dim(), kMaxMlp) &&
        c.int_field("num_classes", cf.num_classes(), kMaxClasses)))
    return;
  if (cf.image_h() % cf.patch_h() || cf.image_w() % cf.patch_w()) {
    c.error(VITRT_ERR_INVALID_MODEL) << "config: image " << cf.image_h() << "x" << cf.image_w()
                                     << " is not divisible by patch " << cf.patch_h() << "x"
                                     << cf.patch_w();
    return;
  }
  const int64_t grid_h = cf.image_h() / cf.patch_h(), grid_w = cf.image_w() / cf.patch_w();
  const int64_t patches = grid_h * grid_w;
  const int64_t prefix = (cf.class_token() ? 1 : 0) + (cf.dist_token() ? 1 : 0);
  const int64_t patch_len = int64_t{cf.channels()} * cf.patch_h() * cf.patch_w();
  const int64_t inner = int64_t{cf.heads()} * cf.head_dim();
  if (!(c.int_field("(tokens)", patches + prefix, kMaxTokens) &&
        c.int_field("(channels*patch_h*patch_w)", patch_len, kMaxPatchLen) &&
        c.int_field("(heads*head_dim)", inner, kMaxDim) &&
        c.int_field("(depth*heads*tokens^2)", int64_t{cf.depth()} * cf.heads() * (patches + prefix) *
                                                  (patches + prefix), VITRT_MAX_ATTENTION)))
    return;

  const auto np = static_cast<int>(cf.norm_placement());
  const auto act = static_cast<int>(cf.mlp_activation());
  const auto pool = static_cast<int>(cf.pooling());
  const auto pos = static_cast<int>(cf.pos_embed());
  const auto stem = static_cast<int>(cf.stem());
  if (np > 1 || np < 0 || act < 0 || act > 4 || pool < 0 || pool > 2 || pos < 0 || pos > 2 ||
      stem < 0 || stem > 1) {
    c.error(VITRT_ERR_INVALID_MODEL) << "config: unknown enum value (norm_placement " << np
                                     << ", mlp_activation " << act << ", pooling " << pool
                                     << ", pos_embed " << pos << ", stem " << stem << ")";
    return;
  }
  if (!positive_finite(cf.ln_eps()) || !positive_finite(cf.attn_scale())) {
    c.error(VITRT_ERR_INVALID_MODEL) << "config: ln_eps and attn_scale must be positive and finite";
    return;
  }
  if (cf.pooling() == s::Pooling::ClassToken && !cf.class_token()) {
    c.error(VITRT_ERR_INVALID_MODEL) << "config.pooling: ClassToken without a class token";
    return;
  }
  if (cf.dist_token() && (!cf.class_token() || cf.pooling() != s::Pooling::ClassToken)) {
    c.error(VITRT_ERR_INVALID_MODEL) << "config.dist_token: needs class_token and ClassToken pooling";
    return;
  }

  d.image_h = cf.image_h();
  d.image_w = cf.image_w();
  d.channels = cf.channels();
  d.patch_h = cf.patch_h();
  d.patch_w = cf.patch_w();
  d.grid_h = static_cast<int32_t>(grid_h);
  d.grid_w = static_cast<int32_t>(grid_w);
  d.dim = cf.dim();
  d.depth = cf.depth();
  d.heads = cf.heads();
  d.head_dim = cf.head_dim();
  d.mlp_dim = cf.mlp_dim();
  d.num_classes = cf.num_classes();
  d.patches = static_cast<int32_t>(patches);
  d.prefix = static_cast<int32_t>(prefix);
  d.tokens = static_cast<int32_t>(patches + prefix);
  d.patch_len = static_cast<int32_t>(patch_len);
  d.inner = static_cast<int32_t>(inner);
  d.features = d.dim;
  d.eps = cf.ln_eps();
  d.attn_scale = cf.attn_scale();
  d.post_norm = cf.norm_placement() == s::NormPlacement::Post;
  d.mlp_act = static_cast<uint8_t>(act);
  d.pooling = static_cast<uint8_t>(pool);
  d.class_token = cf.class_token();
  d.dist_token = cf.dist_token();
  d.pos_embed = cf.pos_embed() != s::PosEmbedKind::None;
  d.pos_patches_only = cf.pos_embed_patches_only();
  d.conv_stem = cf.stem() == s::StemKind::ConvStem;
}

void check_preprocess(Checker& c, const s::Preprocess* p, int32_t channels) {
  if (!c.ok() || !p) return;
  const auto* mean = p->mean();
  const auto* std = p->std();
  if ((mean && static_cast<int32_t>(mean->size()) != channels) ||
      (std && static_cast<int32_t>(std->size()) != channels)) {
    c.error(VITRT_ERR_INVALID_MODEL) << "preprocess: mean/std need " << channels << " values";
    return;
  }
  for (uint32_t i = 0; mean && i < mean->size(); ++i) {
    const float v = mean->Get(i);
    if (!(v >= -FLT_MAX && v <= FLT_MAX)) {
      c.error(VITRT_ERR_INVALID_MODEL) << "preprocess.mean[" << i << "]: not finite";
      return;
    }
  }
  for (uint32_t i = 0; std && i < std->size(); ++i) {
    const float v = std->Get(i);
    if (!(positive_finite(v) || positive_finite(-v))) {
      c.error(VITRT_ERR_INVALID_MODEL) << "preprocess.std[" << i << "]: zero or not finite";
      return;
    }
  }
  const auto resize = static_cast<int>(p->resize());
  const auto interp = static_cast<int>(p->interpolation());
  if (resize < 0 || resize > 1 || interp < 0 || interp > 1) {
    c.error(VITRT_ERR_INVALID_MODEL) << "preprocess: bad resize/interpolation";
    return;
  }
  // Hosts compute floor(image side / crop_pct) in int: keep it small.
  const float crop = p->crop_pct();
  if (!(crop >= VITRT_MIN_CROP_PCT && crop <= 1.f))
    c.error(VITRT_ERR_INVALID_MODEL) << "preprocess.crop_pct: outside 0.1..1";
}

void check_blocks(Checker& c, const s::Model& m, const Dims& d) {
  if (!c.ok()) return;
  const auto* blocks = m.blocks();
  const int64_t n = blocks ? blocks->size() : 0;
  if (n != d.depth) {
    c.error(VITRT_ERR_INVALID_MODEL) << "blocks: " << n << " entries, config.depth is " << d.depth;
    return;
  }
  for (int32_t i = 0; i < d.depth && c.ok(); ++i) {
    char prefix[32];
    Message(prefix, sizeof(prefix)) << "blocks[" << i << "].";
    const s::Block* b = blocks->Get(i);
    c.norm(b->norm1(), prefix, "norm1", true, d.dim);
    c.linear(b->qkv(), prefix, "qkv", true, 3 * int64_t{d.inner}, d.dim);
    if (!b->proj() && c.ok() && d.inner != d.dim)
      c.error(VITRT_ERR_INVALID_MODEL) << prefix << "proj: missing, and heads*head_dim "
                                       << d.inner << " != dim " << d.dim;
    c.linear(b->proj(), prefix, "proj", false, d.dim, d.inner);
    c.norm(b->norm2(), prefix, "norm2", true, d.dim);
    c.linear(b->fc1(), prefix, "fc1", true, d.mlp_dim, d.dim);
    c.linear(b->fc2(), prefix, "fc2", true, d.dim, d.mlp_dim);
  }
}

// ConvStem: the convolutions chain from the image channels to the token grid
// (each output side floor((in + 2 * padding - kernel) / stride) + 1), every
// feature map fits its ping-pong buffer, and patch_embed reads the channels
// of the last map.
void check_stem(Checker& c, const s::Model& m, Dims& d) {
  if (!c.ok()) return;
  const auto* convs = m.stem_convs();
  const int64_t n = convs ? convs->size() : 0;
  d.stem_floats[0] = d.stem_floats[1] = 0;
  if (!d.conv_stem) {
    if (n) c.error(VITRT_ERR_INVALID_MODEL) << "stem_convs: present, but config.stem is Patchify";
    return;
  }
  if (n < 1 || n > kMaxStemConvs) {
    c.error(VITRT_ERR_INVALID_MODEL) << "stem_convs: " << n << " convolutions, expected 1.."
                                     << kMaxStemConvs << " for config.stem ConvStem";
    return;
  }
  c.absent(m.patch_norm_in(), "patch_norm_in", "a ConvStem has no flattened patches");
  int64_t ch = d.channels, h = d.image_h, w = d.image_w;
  for (int64_t i = 0; i < n && c.ok(); ++i) {
    char prefix[32];
    Message(prefix, sizeof(prefix)) << "stem_convs[" << i << "].";
    const s::Conv2d* cv = convs->Get(static_cast<uint32_t>(i));
    const auto* shape = cv->weight() ? cv->weight()->shape() : nullptr;
    if (!shape || shape->size() != 4) {
      c.error(VITRT_ERR_INVALID_MODEL) << prefix << "weight: missing or not [out, in, kh, kw]";
      return;
    }
    const int64_t out = shape->Get(0), kh = shape->Get(2), kw = shape->Get(3);
    const int64_t stride = cv->stride(), pad = cv->padding();
    if (out < 1 || out > kMaxDim || kh < 1 || kh > kMaxKernel || kw < 1 || kw > kMaxKernel ||
        stride < 1 || stride > kMaxKernel || pad < 0 || pad > kMaxKernel) {
      c.error(VITRT_ERR_INVALID_MODEL) << prefix << "weight: out " << out << ", kernel " << kh << "x" << kw
                                       << ", stride " << stride << ", padding " << pad
                                       << ": out of range";
      return;
    }
    c.tensor(cv->weight(), prefix, "weight", "", true, out, ch, kh, kw);
    c.tensor(cv->bias(), prefix, "bias", "", false, out);
    if (!c.ok()) return;
    if (h + 2 * pad < kh || w + 2 * pad < kw) {
      c.error(VITRT_ERR_INVALID_MODEL) << prefix << "weight: kernel " << kh << "x" << kw
                                       << " exceeds its padded " << h << "x" << w << " input";
      return;
    }
    h = (h + 2 * pad - kh) / stride + 1;
    w = (w + 2 * pad - kw) / stride + 1;
    ch = out;
    const int64_t floats = ch * h * w;
    if (floats > kMaxStemFloats) {
      c.error(VITRT_ERR_INVALID_MODEL) << prefix << "weight: output " << ch << "x" << h << "x" << w
                                       << " is too large";
      return;
    }
    uint64_t& buffer = d.stem_floats[i % 2];
    if (static_cast<uint64_t>(floats) > buffer) buffer = static_cast<uint64_t>(floats);
  }
  if (c.ok() && (h != d.grid_h || w != d.grid_w)) {
    c.error(VITRT_ERR_INVALID_MODEL) << "stem_convs: output grid " << h << "x" << w
                                     << ", but image / patch gives " << d.grid_h << "x" << d.grid_w;
    return;
  }
  d.patch_len = static_cast<int32_t>(ch);
}

void check_model(Checker& c, const s::Model& m, Dims& d) {
  check_config(c, *m.config(), d);
  check_preprocess(c, m.preprocess(), d.channels);
  if (!c.ok()) return;
  const auto* labels = m.labels();
  if (labels && static_cast<int64_t>(labels->size()) != d.num_classes) {
    c.error(VITRT_ERR_INVALID_MODEL) << "labels: " << static_cast<uint64_t>(labels->size())
                                     << " entries for " << d.num_classes << " classes";
    return;
  }
  check_stem(c, m, d);
  c.norm(m.patch_norm_in(), "", "patch_norm_in", false, d.patch_len);
  c.linear(m.patch_embed(), "", "patch_embed", true, d.dim, d.patch_len);
  c.norm(m.patch_norm_out(), "", "patch_norm_out", false, d.dim);
  if (d.class_token) c.tensor(m.cls_token(), "", "cls_token", "", true, d.dim);
  else c.absent(m.cls_token(), "cls_token", "config.class_token is false");
  if (d.dist_token) c.tensor(m.dist_token(), "", "dist_token", "", true, d.dim);
  else c.absent(m.dist_token(), "dist_token", "config.dist_token is false");
  if (d.pos_embed)
    c.tensor(m.pos_embed(), "", "pos_embed", "", true, d.pos_patches_only ? d.patches : d.tokens,
             d.dim);
  else c.absent(m.pos_embed(), "pos_embed", "config.pos_embed is None");
  check_blocks(c, m, d);

  c.norm(m.norm(), "", "norm", false, d.dim);
  c.norm(m.fc_norm(), "", "fc_norm", false, d.dim);
  const auto act = static_cast<int>(m.pre_logits_act());
  if (c.ok() && (act < 0 || act > 4))
    c.error(VITRT_ERR_INVALID_MODEL) << "pre_logits_act: unknown activation " << act;
  d.pre_logits_width = 0;
  const auto* pre_logits = m.pre_logits();
  for (uint32_t i = 0; c.ok() && pre_logits && i < pre_logits->size(); ++i) {
    char field[32];
    Message(field, sizeof(field)) << "pre_logits[" << i << "]";
    const auto* w = pre_logits->Get(i)->weight();
    const auto* shape = w ? w->shape() : nullptr;
    const int64_t out = shape && shape->size() == 2 ? shape->Get(0) : 0;
    if (!c.int_field("(pre_logits features)", out, kMaxDim)) return;
    c.linear(pre_logits->Get(i), "", field, true, out, d.features);
    d.features = static_cast<int32_t>(out);
    if (d.features > d.pre_logits_width) d.pre_logits_width = d.features;
  }
  d.pre_logits_act = static_cast<uint8_t>(act);
  c.linear(m.head(), "", "head", true, d.num_classes, d.features);
  if (d.dist_token) {
    c.absent(m.fc_norm(), "fc_norm", "the distillation head reads tokens 0 and 1 directly");
    c.absent(m.pre_logits(), "pre_logits", "the distillation head reads tokens 0 and 1 directly");
    c.linear(m.head_dist(), "", "head_dist", true, d.num_classes, d.dim);
  } else {
    c.absent(m.head_dist(), "head_dist", "config.dist_token is false");
  }
}

}  // namespace

vitrt_status open_model(State& st, const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (reinterpret_cast<uintptr_t>(data) % VITRT_MODEL_ALIGNMENT) {
    fail(st) << "model bytes must be " << int32_t{VITRT_MODEL_ALIGNMENT} << "-byte aligned";
    return VITRT_ERR_ALIGNMENT;
  }
  if (size < 8 || !s::ModelBufferHasIdentifier(bytes)) {
    fail(st) << "not a vitrt model (file identifier is not VITR)";
    return VITRT_ERR_INVALID_MODEL;
  }
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    fail(st) << "model file too large (" << static_cast<uint64_t>(size) << " bytes)";
    return VITRT_ERR_INVALID_MODEL;
  }
  // Depth: Model > blocks > Block > Linear > Tensor > data is 6 levels.
  flatbuffers::Verifier verifier(bytes, size, /*max_depth=*/16, /*max_tables=*/1 << 20);
  if (!s::VerifyModelBuffer(verifier)) {
    fail(st) << "corrupt model file (FlatBuffers verification failed, " << static_cast<uint64_t>(size)
             << " bytes)";
    return VITRT_ERR_INVALID_MODEL;
  }
  const s::Model* m = s::GetModel(bytes);
  if (m->schema_version() != kSchemaVersion) {
    fail(st) << "schema_version " << m->schema_version() << " is not supported (this runtime reads "
             << kSchemaVersion << ")";
    return VITRT_ERR_VERSION;
  }
  Checker c(st, bytes);
  st.weight_bytes = 0;
  check_model(c, *m, st.d);
  if (c.ok()) st.model = m;
  return c.status();
}

}  // namespace vitrt
