// The AMX tile configuration every *_amx.cpp kernel loads: palette 1, tiles
// 0-7 all 16 rows x 64 bytes (int8: 16 x 64 k; bf16: 16 x 32 k; C: 16 x 16
// int32 / fp32). Loading a config zeroes every tile, so a kernel loads it
// once per call and releases the tile state at the end.
#pragma once

#include <stdint.h>

namespace vitrt::kernels {

struct alignas(64) AmxTileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
// A constant in memory: GCC 12 does not see ldtilecfg read its operand and
// drops stores to a local config.
constexpr AmxTileConfig kAmxTiles16x64 = {
    1, 0, {}, {64, 64, 64, 64, 64, 64, 64, 64}, {16, 16, 16, 16, 16, 16, 16, 16}};

}  // namespace vitrt::kernels
