#include "families/sincos.h"

#include <cmath>
#include <stdexcept>

namespace vitrt::conv {

std::vector<float> sincos_2d_pos_embed(int grid_h, int grid_w, int dim) {
  if (grid_h <= 0 || grid_w <= 0 || dim <= 0 || dim % 4)
    throw std::runtime_error("2-D sin-cos position embedding needs a positive grid and a dim divisible by 4, got grid " +
                             std::to_string(grid_h) + "x" + std::to_string(grid_w) + ", dim " + std::to_string(dim));
  const int quarter = dim / 4;
  const size_t patches = size_t(grid_h) * size_t(grid_w);
  std::vector<float> pos((1 + patches) * size_t(dim), 0.f);  // row 0: class token
  for (size_t m = 0; m < patches; ++m) {
    const double a = double(m / size_t(grid_h)), b = double(m % size_t(grid_h));
    float* row = &pos[(1 + m) * size_t(dim)];
    for (int k = 0; k < quarter; ++k) {
      const double omega = std::pow(10000.0, -double(k) / quarter);
      row[k] = float(std::sin(a * omega));
      row[quarter + k] = float(std::cos(a * omega));
      row[2 * quarter + k] = float(std::sin(b * omega));
      row[3 * quarter + k] = float(std::cos(b * omega));
    }
  }
  return pos;
}

}  // namespace vitrt::conv
