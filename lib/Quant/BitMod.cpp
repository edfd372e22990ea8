//===- BitMod.cpp - BitMoD mixture-of-datatypes weight quantization -------===//

#include "lib/Quant/BitMod.h"

#include <algorithm>
#include <cmath>

using namespace llmc::quant;

const std::vector<std::vector<float>> &llmc::quant::bitModGrids(int bits) {
  auto build = [](std::vector<float> base, const float(&special)[4]) {
    std::vector<std::vector<float>> grids;
    for (float value : special) {
      std::vector<float> grid = base;
      grid.push_back(value);
      std::sort(grid.begin(), grid.end());
      grids.push_back(grid);
    }
    return grids;
  };
  static const auto fp4 =
      build({0, 1, -1, 2, -2, 3, -3, 4, -4, 6, -6, 8, -8, 12, -12},
            {10, -10, 16, -16});
  static const auto fp3 = build({0, 1, -1, 2, -2, 4, -4}, {3, -3, 6, -6});
  return bits == 3 ? fp3 : fp4;
}

float BitModQuantized::dequantized(int64_t n, int64_t k) const {
  int64_t g = n * groups() + k / groupSize;
  return scales[g] * bitModGrids(bits)[datatypes[g]][code(n, k)];
}

double llmc::quant::bitModGroupError(const float *group, int64_t size, int bits,
                                     int datatype, float &scale,
                                     uint8_t *codes) {
  const std::vector<float> &grid = bitModGrids(bits)[datatype];
  int entries = static_cast<int>(grid.size());
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
    while (c + 1 < entries && x > 0.5f * (grid[c] + grid[c + 1]))
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
                                            int64_t cols, int64_t groupSize,
                                            int bits) {
  BitModQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.bits = bits;
  q.groupSize = groupSize;
  int64_t groups = q.groups();
  q.codes.assign(rows * q.rowBytes(), 0);
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
        double error = bitModGroupError(group, groupSize, bits, d, scale);
        if (d == 0 || error < bestError) {
          best = d;
          bestError = error;
        }
      }
      float &scale = q.scales[n * groups + g];
      bitModGroupError(group, groupSize, bits, best, scale, codes.data());
      q.datatypes[n * groups + g] = static_cast<uint8_t>(best);
      for (int64_t i = 0; i < groupSize; ++i)
        q.putCode(n, g * groupSize + i, codes[i]);
    }
  return q;
}
