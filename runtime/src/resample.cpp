#include "resample.h"

#include <stdint.h>

namespace vitrt {
namespace {

constexpr int64_t kMaxIn = int64_t{1} << 20, kMaxOut = int64_t{1} << 40;

// Filters of PyTorch's antialiased upsample kernels (same as PIL's).
double triangle(double x) {
  x = x < 0 ? -x : x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double keys_cubic(double x) {  // a = -0.5
  constexpr double a = -0.5;
  x = x < 0 ? -x : x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

// Shape of one axis' filter, as torch's _compute_indices_weights_aa / PIL's
// precompute_coeffs: the filter widens by the downscale factor so every
// input pixel contributes.
struct Support {
  double scale, filter_scale, support;
  int64_t taps;  // most inputs one output reads
};

Support support_of(const ResizeAxis& a, Filter filter) {
  Support s;
  s.scale = double(a.in) / double(a.out);
  s.filter_scale = s.scale > 1.0 ? s.scale : 1.0;
  s.support = (filter == Filter::Bicubic ? 2.0 : 1.0) * s.filter_scale;
  const int64_t whole = int64_t(s.support);  // ceil without libm (support > 0)
  s.taps = (whole + (double(whole) < s.support)) * 2 + 1;
  return s;
}

// Window pixel j of `a` reads count[j] inputs from first[j] with
// weights[j * taps ...]; count 0 outside the resized image.
struct Table {
  int64_t taps;
  int32_t* first;
  int32_t* count;
  float* weights;
};

void build(const ResizeAxis& a, Filter filter, Table& t) {
  const Support s = support_of(a, filter);
  double (*f)(double) = filter == Filter::Bicubic ? keys_cubic : triangle;
  for (int64_t j = 0; j < a.window; ++j) {
    t.first[j] = t.count[j] = 0;
    const int64_t i = j + a.offset;
    if (i < 0 || i >= a.out) continue;
    const double center = (double(i) + 0.5) * s.scale;
    int64_t xmin = int64_t(center - s.support + 0.5), xmax = int64_t(center + s.support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > a.in) xmax = a.in;
    if (xmax - xmin > s.taps) xmax = xmin + s.taps;  // rounding; torch clamps the same way
    double total = 0.0;
    for (int64_t x = xmin; x < xmax; ++x) total += f((double(x) - center + 0.5) / s.filter_scale);
    float* w = t.weights + j * t.taps;
    for (int64_t x = xmin; x < xmax; ++x) {
      const double v = f((double(x) - center + 0.5) / s.filter_scale);
      w[x - xmin] = float(total != 0.0 ? v / total : v);
    }
    t.first[j] = int32_t(xmin);
    t.count[j] = int32_t(xmax - xmin);
  }
}

bool valid(const ResizeAxis& a) {
  return a.in >= 1 && a.in <= kMaxIn && a.out >= 1 && a.out <= kMaxOut && a.window >= 1 && a.window <= kMaxIn &&
         a.offset >= -kMaxOut && a.offset <= kMaxOut;
}

// Scratch layout, in elements after the 8-byte aligned start: a double
// accumulator row, then 4-byte tables, the row ring and one source row.
struct Layout {
  uint64_t acc, x_table, y_table, ring, row, total_bytes;
};

Layout layout(const ResizeAxis& y, const ResizeAxis& x, int64_t taps_y, int64_t taps_x) {
  Layout l;
  const uint64_t xw = uint64_t(x.window), yw = uint64_t(y.window);
  l.acc = xw;                                  // doubles
  l.x_table = xw * (2 + uint64_t(taps_x));     // first, count, weights (4-byte units)
  l.y_table = yw * (2 + uint64_t(taps_y));
  l.ring = uint64_t(taps_y) * xw;              // horizontally resampled rows
  l.row = uint64_t(x.in);                      // one converted source row
  l.total_bytes = 7 + 8 * l.acc + 4 * (l.x_table + l.y_table + l.ring + l.row);
  return l;
}

Table carve(int32_t*& p, int64_t window, int64_t taps) {
  Table t{taps, p, p + window, reinterpret_cast<float*>(p + 2 * window)};
  p += window * (2 + taps);
  return t;
}

}  // namespace

size_t resample_scratch_bytes(const ResizeAxis& y, const ResizeAxis& x, Filter filter) {
  if (!valid(y) || !valid(x)) return 0;
  // Every factor is below 2^23 here, so the sums cannot wrap in 64 bits.
  const uint64_t bytes = layout(y, x, support_of(y, filter).taps, support_of(x, filter).taps).total_bytes;
  return bytes <= SIZE_MAX ? size_t(bytes) : 0;
}

void resample(const ResizeAxis& y, const ResizeAxis& x, Filter filter, int32_t channels, RowFn row,
              const void* ctx, void* scratch, float* out) {
  const int64_t taps_y = support_of(y, filter).taps, xw = x.window;
  const Layout l = layout(y, x, taps_y, support_of(x, filter).taps);
  double* acc = reinterpret_cast<double*>((reinterpret_cast<uintptr_t>(scratch) + 7) & ~uintptr_t{7});
  int32_t* p = reinterpret_cast<int32_t*>(acc + l.acc);
  Table tx = carve(p, xw, support_of(x, filter).taps);
  Table ty = carve(p, y.window, taps_y);
  float* ring = reinterpret_cast<float*>(p);
  float* rowbuf = ring + l.ring;
  build(x, filter, tx);
  build(y, filter, ty);

  for (int32_t c = 0; c < channels; ++c) {
    // Source rows below `next` are in the ring or no longer needed: first
    // indices grow with the output row, so each row is resampled once.
    int64_t next = 0;
    for (int64_t j = 0; j < y.window; ++j) {
      float* dst = out + (int64_t(c) * y.window + j) * xw;
      const int64_t n = ty.count[j], first = ty.first[j];
      if (n == 0) {
        for (int64_t i = 0; i < xw; ++i) dst[i] = 0.f;
        continue;
      }
      if (next < first) next = first;
      for (; next < first + n; ++next) {  // horizontal pass into the ring
        const float* src = row(ctx, c, next, rowbuf);
        float* h = ring + (next % taps_y) * xw;
        for (int64_t i = 0; i < xw; ++i) {
          const float* w = tx.weights + i * tx.taps;
          const float* s = src + tx.first[i];
          double sum = 0.0;
          for (int32_t k = 0; k < tx.count[i]; ++k) sum += double(w[k]) * s[k];
          h[i] = float(sum);
        }
      }
      // Vertical pass, a row at a time; per pixel the same sum in the same
      // order as one tap loop.
      for (int64_t i = 0; i < xw; ++i) acc[i] = 0.0;
      const float* w = ty.weights + j * taps_y;
      int64_t slot = first % taps_y;
      for (int64_t k = 0; k < n; ++k) {
        const float* h = ring + slot * xw;
        const double wk = w[k];
        for (int64_t i = 0; i < xw; ++i) acc[i] += wk * h[i];
        if (++slot == taps_y) slot = 0;
      }
      for (int64_t i = 0; i < xw; ++i) dst[i] = float(acc[i]);
    }
  }
}

}  // namespace vitrt
