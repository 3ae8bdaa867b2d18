// Preprocessing for devices and apps (vitrt_preprocess) and the float-plane
// resampler (vitrt_resize); the host tools use the same code.
#include "preprocess.h"

#include <stdint.h>

#include "resample.h"
#include "vitrt/vitrt_generated.h"

namespace vitrt {
namespace {

static_assert(VITRT_RESIZE_SHORTER_SIDE_CROP == int(schema::ResizeMode::ShorterSideCrop) &&
                  VITRT_RESIZE_STRETCH == int(schema::ResizeMode::Stretch),
              "VITRT_RESIZE_* are the schema's ResizeMode");
static_assert(VITRT_INTERP_BILINEAR == int(schema::Interpolation::Bilinear) &&
                  VITRT_INTERP_BICUBIC == int(schema::Interpolation::Bicubic) &&
                  VITRT_INTERP_BILINEAR == int(Filter::Bilinear) && VITRT_INTERP_BICUBIC == int(Filter::Bicubic),
              "VITRT_INTERP_* are the schema's Interpolation");

bool valid_side(int32_t s) { return s >= 1 && s <= VITRT_MAX_PIXELS_SIDE; }
bool valid_format(int32_t f) { return f == VITRT_PIXELS_GRAY || f == VITRT_PIXELS_RGB || f == VITRT_PIXELS_RGBA; }

// The decimal crop_pct was given as (0.8f -> 0.8, not 0.800000011920929):
// the shortest one that rounds to the same float, as std::to_chars finds,
// so floor(224 / crop_pct) is 280 as in timm, not 279. Values lie in
// [0.1, 1], where decimals and significant digits agree; no libm or strtod
// (newlib's allocates).
double shortest_decimal(float v) {
  double scale = 1.0;
  for (int digits = 0; digits <= 9; ++digits, scale *= 10.0) {
    const double d = double(int64_t(double(v) * scale + 0.5)) / scale;  // nearest, correctly rounded
    if (float(d) == v) return d;
  }
  return v;
}

// torchvision CenterCrop offset of a `crop` window in `size` pixels
// (negative: the window is larger and gets zero padding).
int64_t centre_crop_offset(int64_t size, int64_t crop) {
  if (size < crop) return -((crop - size) / 2);  // torchvision pads (crop - size) // 2 before
  // int(round(d / 2.0)) in Python rounds halves to even.
  const int64_t d = size - crop, half = d / 2;
  return (d % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

// The resize and crop of a height x width image, as resampling axes.
void plan_axes(const Dims& d, const PreprocessParams& p, int32_t height, int32_t width, ResizeAxis* ay,
               ResizeAxis* ax) {
  int64_t out_h = d.image_h, out_w = d.image_w;
  if (p.resize_mode == VITRT_RESIZE_SHORTER_SIDE_CROP) {
    // timm: scale = floor(img_size / crop_pct), the shorter model side
    // playing img_size for non-square models; the longer image side as
    // torchvision's int(size * long / short). Both positive: casts floor.
    const int64_t scale = int64_t(double(d.image_h < d.image_w ? d.image_h : d.image_w) / shortest_decimal(p.crop_pct));
    const int64_t shorter = height < width ? height : width, longer = height < width ? width : height;
    const int64_t scaled_long = int64_t(double(scale * longer) / double(shorter));
    out_h = height <= width ? scale : scaled_long;
    out_w = height <= width ? scaled_long : scale;
  }
  *ay = {height, out_h, centre_crop_offset(out_h, d.image_h), d.image_h};
  *ax = {width, out_w, centre_crop_offset(out_w, d.image_w), d.image_w};
}

// Source rows from 8-bit interleaved pixels, as the model's channel c.
struct Pixels {
  const uint8_t* data;
  size_t stride;
  int32_t format, width, model_channels;
};

const float* pixel_row(const void* ctx, int32_t c, int64_t y, float* buf) {
  const Pixels& px = *static_cast<const Pixels*>(ctx);
  const uint8_t* p = px.data + size_t(y) * px.stride;
  const int32_t n = px.format, w = px.width;
  if (px.model_channels == 3 || n == VITRT_PIXELS_GRAY) {
    const uint8_t* v = p + (n == VITRT_PIXELS_GRAY ? 0 : c);
    for (int32_t x = 0; x < w; ++x) buf[x] = v[size_t(x) * n] / 255.0f;
  } else {
    // PIL's fixed-point L = 299/1000 R + 587/1000 G + 114/1000 B, rounded
    // to 8 bits as models trained on PIL 'L' images saw it.
    for (int32_t x = 0; x < w; ++x, p += n) {
      const uint32_t l = (p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16;
      buf[x] = l / 255.0f;
    }
  }
  return buf;
}

// Source rows of float planes, read in place.
struct Planes {
  const float* data;
  int64_t height, width;
};

const float* plane_row(const void* ctx, int32_t c, int64_t y, float*) {
  const Planes& pl = *static_cast<const Planes*>(ctx);
  return pl.data + (c * pl.height + y) * pl.width;
}

}  // namespace

void preprocess_params(const State& st, PreprocessParams* p) {
  *p = {VITRT_RESIZE_SHORTER_SIDE_CROP, VITRT_INTERP_BICUBIC, 0.875f, {0, 0, 0, 0}, {1, 1, 1, 1}};
  const auto* pre = st.model->preprocess();
  if (!pre) return;
  for (uint32_t i = 0; i < 4 && pre->mean() && i < pre->mean()->size(); ++i) p->mean[i] = pre->mean()->Get(i);
  for (uint32_t i = 0; i < 4 && pre->std() && i < pre->std()->size(); ++i) p->std[i] = pre->std()->Get(i);
  p->resize_mode = static_cast<int32_t>(pre->resize());
  p->interpolation = static_cast<int32_t>(pre->interpolation());
  p->crop_pct = pre->crop_pct();
}

size_t preprocess_scratch_size(const State& st, int32_t height, int32_t width, int32_t format) {
  if (!valid_side(height) || !valid_side(width) || !valid_format(format) ||
      (st.d.channels != 1 && st.d.channels != 3))
    return 0;
  PreprocessParams p;
  preprocess_params(st, &p);
  ResizeAxis ay, ax;
  plan_axes(st.d, p, height, width, &ay, &ax);
  return resample_scratch_bytes(ay, ax, Filter(p.interpolation));
}

vitrt_status preprocess(State& st, const uint8_t* pixels, int32_t height, int32_t width, int32_t format,
                        size_t row_stride, void* scratch, size_t scratch_size, float* out, size_t out_count) {
  const Dims& d = st.d;
  if (!valid_side(height) || !valid_side(width)) {
    fail(st) << "image is " << height << "x" << width << " pixels; sides must be 1.."
             << int32_t{VITRT_MAX_PIXELS_SIDE};
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  if (!valid_format(format)) {
    fail(st) << "pixel format " << format << ": expected VITRT_PIXELS_GRAY (1), RGB (3) or RGBA (4)";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  if (!pixels || !scratch || !out) {
    fail(st) << "pixels, scratch and out must not be NULL";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  if (d.channels != 1 && d.channels != 3) {
    fail(st) << "preprocessing makes 1- or 3-channel inputs; this model takes " << d.channels << " channels";
    return VITRT_ERR_UNSUPPORTED;
  }
  const size_t row_bytes = size_t(width) * size_t(format);  // below 2^19
  const size_t stride = row_stride ? row_stride : row_bytes;
  if (stride < row_bytes) {
    fail(st) << "row_stride " << static_cast<uint64_t>(stride) << " is below width * format ("
             << static_cast<uint64_t>(row_bytes) << ")";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  if (size_t(height - 1) > (SIZE_MAX - row_bytes) / stride) {
    fail(st) << "image of " << height << " rows " << static_cast<uint64_t>(stride)
             << " bytes apart does not fit the address space";
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  const uint64_t plane = uint64_t(d.image_h) * uint64_t(d.image_w), want = uint64_t(d.channels) * plane;
  if (out_count != want) {
    fail(st) << "out must be " << want << " floats (" << d.channels << "x" << d.image_h << "x" << d.image_w
             << " NCHW), got " << static_cast<uint64_t>(out_count);
    return VITRT_ERR_INVALID_ARGUMENT;
  }
  PreprocessParams p;
  preprocess_params(st, &p);
  ResizeAxis ay, ax;
  plan_axes(d, p, height, width, &ay, &ax);
  const size_t need = resample_scratch_bytes(ay, ax, Filter(p.interpolation));
  if (need == 0) {
    fail(st) << "the scratch this image needs does not fit this platform's address space";
    return VITRT_ERR_UNSUPPORTED;
  }
  if (scratch_size < need) {
    fail(st) << "scratch has " << static_cast<uint64_t>(scratch_size) << " bytes, this image needs "
             << static_cast<uint64_t>(need) << " (vitrt_preprocess_scratch_size)";
    return VITRT_ERR_ARENA_TOO_SMALL;
  }
  const Pixels px{pixels, stride, format, width, d.channels};
  resample(ay, ax, Filter(p.interpolation), d.channels, pixel_row, &px, scratch, out);
  for (int32_t c = 0; c < d.channels; ++c) {
    float* x = out + c * plane;
    for (uint64_t i = 0; i < plane; ++i) x[i] = (x[i] - p.mean[c]) / p.std[c];
  }
  return VITRT_OK;
}

}  // namespace vitrt

extern "C" {

size_t vitrt_resize_scratch_size(int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                                 int32_t interpolation) {
  using namespace vitrt;
  if (!valid_side(in_h) || !valid_side(in_w) || !valid_side(out_h) || !valid_side(out_w) ||
      (interpolation != VITRT_INTERP_BILINEAR && interpolation != VITRT_INTERP_BICUBIC))
    return 0;
  return resample_scratch_bytes({in_h, out_h, 0, out_h}, {in_w, out_w, 0, out_w}, Filter(interpolation));
}

vitrt_status vitrt_resize(const float* in, int32_t planes, int32_t in_h, int32_t in_w, float* out,
                          int32_t out_h, int32_t out_w, int32_t interpolation, void* scratch,
                          size_t scratch_size) {
  using namespace vitrt;
  const size_t need = vitrt_resize_scratch_size(in_h, in_w, out_h, out_w, interpolation);
  // Both images must fit the address space: sides are below 2^17, so the
  // products are exact in 64 bits.
  const uint64_t max_floats = SIZE_MAX / sizeof(float);
  if (!in || !out || !scratch || need == 0 || planes < 1 ||
      uint64_t(planes) * uint64_t(in_h) * uint64_t(in_w) > max_floats ||
      uint64_t(planes) * uint64_t(out_h) * uint64_t(out_w) > max_floats)
    return VITRT_ERR_INVALID_ARGUMENT;
  if (scratch_size < need) return VITRT_ERR_ARENA_TOO_SMALL;
  const Planes src{in, in_h, in_w};
  resample({in_h, out_h, 0, out_h}, {in_w, out_w, 0, out_w}, Filter(interpolation), planes, plane_row, &src,
           scratch, out);
  return VITRT_OK;
}

}  // extern "C"
