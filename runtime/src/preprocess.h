// vitrt_preprocess: 8-bit pixels -> the model's input tensor, with the
// preprocessing the model records (schema Preprocess).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "state.h"

namespace vitrt {

// The model's preprocessing, with the defaults vitrt_get_info reports for a
// model without a preprocess table (timm's: bicubic, crop 0.875, mean 0, std 1).
struct PreprocessParams {
  int32_t resize_mode, interpolation;
  float crop_pct;
  float mean[4], std[4];
};
void preprocess_params(const State& st, PreprocessParams* p);

// The C API's bodies for an opened model (api.cpp checks the handle).
size_t preprocess_scratch_size(const State& st, int32_t height, int32_t width, int32_t format);
vitrt_status preprocess(State& st, const uint8_t* pixels, int32_t height, int32_t width, int32_t format,
                        size_t row_stride, void* scratch, size_t scratch_size, float* out, size_t out_count);

}  // namespace vitrt
