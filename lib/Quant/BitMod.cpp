//===- BitMod.cpp - BitMoD mixture-of-datatypes weight quantization -------===//

#include "lib/Quant/BitMod.h"

#include <algorithm>
#include <cmath>

using namespace llmc::quant;

const std::array<std::array<float, 16>, kBitModDatatypes> &
llmc::quant::bitModGrids() {
  static const auto grids = [] {
    const float base[] = {0, 1, -1, 2, -2, 3, -3, 4, -4, 6, -6, 8, -8, 12, -12};
    const float special[kBitModDatatypes] = {10, -10, 16, -16};
    std::array<std::array<float, 16>, kBitModDatatypes> g;
    for (int d = 0; d < kBitModDatatypes; ++d) {
      std::copy(std::begin(base), std::end(base), g[d].begin());
      g[d][15] = special[d];
      std::sort(g[d].begin(), g[d].end());
    }
    return g;
  }();
  return grids;
}

float BitModQuantized::dequantized(int64_t n, int64_t k) const {
  int64_t g = n * groups() + k / groupSize;
  return scales[g] * bitModGrids()[datatypes[g]][code(n, k)];
}

double llmc::quant::bitModGroupError(const float *group, int64_t size,
                                     int datatype, float &scale,
                                     uint8_t *codes) {
  const std::array<float, 16> &grid = bitModGrids()[datatype];
  float top = std::max(std::fabs(grid.front()), std::fabs(grid.back()));
  float largest = 0.0f;
  for (int64_t i = 0; i < size; ++i)
    largest = std::max(largest, std::fabs(group[i]));
  // An all-zero group: any scale represents it; 1 keeps 1/s finite.
  scale = largest > 0.0f ? largest / top : 1.0f;
  double error = 0.0;
  for (int64_t i = 0; i < size; ++i) {
    float x = group[i] / scale;
    // The first grid value whose upper midpoint is at or past x.
    int c = 0;
    while (c + 1 < 16 && x > 0.5f * (grid[c] + grid[c + 1]))
      ++c;
    // The dequantized value as BitModQuantized::dequantized computes it.
    double d = static_cast<double>(scale * grid[c]) - group[i];
    error += d * d;
    if (codes)
      codes[i] = static_cast<uint8_t>(c);
  }
  return error / static_cast<double>(size);
}

BitModQuantized llmc::quant::quantizeBitMod(const float *w, int64_t rows,
                                            int64_t cols, int64_t groupSize) {
  BitModQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.bits = 4;
  q.groupSize = groupSize;
  int64_t groups = q.groups();
  q.codes.assign(rows * cols / 2, 0);
  q.scales.assign(rows * groups, 0.0f);
  q.datatypes.assign(rows * groups, 0);
  std::vector<uint8_t> codes(groupSize);
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const float *group = w + n * cols + g * groupSize;
      int best = 0;
      double bestError = 0.0;
      for (int d = 0; d < kBitModDatatypes; ++d) {
        float scale;
        double error = bitModGroupError(group, groupSize, d, scale);
        if (d == 0 || error < bestError) {
          best = d;
          bestError = error;
        }
      }
      float &scale = q.scales[n * groups + g];
      bitModGroupError(group, groupSize, best, scale, codes.data());
      q.datatypes[n * groups + g] = static_cast<uint8_t>(best);
      for (int64_t i = 0; i < groupSize; ++i) {
        int64_t k = g * groupSize + i;
        q.codes[n * (cols / 2) + k / 2] |=
            static_cast<uint8_t>(codes[i] << (k % 2 ? 4 : 0));
      }
    }
  return q;
}
