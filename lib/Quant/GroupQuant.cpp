//===- GroupQuant.cpp - group-wise integer weight quantization ------------===//

#include "lib/Quant/GroupQuant.h"

#include <algorithm>
#include <cmath>

using namespace llmc::quant;

uint8_t GroupQuantized::code(int64_t n, int64_t k) const {
  return static_cast<uint8_t>(
      codeInRow(codes.data() + n * rowBytes(), k, bits));
}

void GroupQuantized::putCode(int64_t n, int64_t k, uint8_t code) {
  int64_t bit = k * bits;
  uint8_t *row = codes.data() + n * rowBytes();
  unsigned word = unsigned{code} << (bit % 8);
  row[bit / 8] |= static_cast<uint8_t>(word);
  if ((bit + bits - 1) / 8 != bit / 8)
    row[bit / 8 + 1] |= static_cast<uint8_t>(word >> 8);
}

uint8_t GroupQuantized::zeroPoint(int64_t n, int64_t group) const {
  if (zeroPoints.empty())
    return static_cast<uint8_t>(1u << (bits - 1));
  return zeroPoints[n * groups() + group];
}

float GroupQuantized::dequantized(int64_t n, int64_t k) const {
  int64_t g = k / groupSize;
  return scales[n * groups() + g] *
         (static_cast<float>(code(n, k)) - static_cast<float>(zeroPoint(n, g)));
}

std::string llmc::quant::checkScheme(const GroupScheme &scheme, int64_t rows,
                                     int64_t cols) {
  if (scheme.bits != 2 && scheme.bits != 3 && scheme.bits != 4 &&
      scheme.bits != 8)
    return "unsupported bit width " + std::to_string(scheme.bits) +
           " (supported: 2, 3, 4, 8)";
  if (rows < 1 || cols < 1)
    return "empty matrix";
  int64_t group = scheme.groupSize ? scheme.groupSize : cols;
  if (group < 1 || cols % group != 0)
    return "group size " + std::to_string(group) +
           " does not divide the input features " + std::to_string(cols);
  if (cols * scheme.bits % 8 != 0)
    return "input features " + std::to_string(cols) + " at " +
           std::to_string(scheme.bits) + " bits do not fill whole bytes";
  return "";
}

GroupQuantized llmc::quant::quantizeGroupwise(const float *w, int64_t rows,
                                              int64_t cols,
                                              const GroupScheme &scheme) {
  GroupQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.bits = scheme.bits;
  q.groupSize = scheme.groupSize ? scheme.groupSize : cols;
  int64_t groups = q.groups();
  int64_t rowBytes = cols * q.bits / 8;
  q.codes.assign(rows * rowBytes, 0);
  q.scales.assign(rows * groups, 0.0f);
  if (scheme.asymmetric)
    q.zeroPoints.assign(rows * groups, 0);
  const int maxCode = (1 << q.bits) - 1;
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      const float *group = w + n * cols + g * q.groupSize;
      float lo = 0.0f, hi = 0.0f; // the range always holds 0
      for (int64_t i = 0; i < q.groupSize; ++i) {
        lo = std::min(lo, group[i]);
        hi = std::max(hi, group[i]);
      }
      float scale;
      int zero;
      if (scheme.asymmetric) {
        scale = (hi - lo) / maxCode;
        zero = scale > 0.0f ? static_cast<int>(std::lround(-lo / scale)) : 0;
        zero = std::clamp(zero, 0, maxCode);
        q.zeroPoints[n * groups + g] = static_cast<uint8_t>(zero);
      } else {
        zero = 1 << (q.bits - 1);
        scale = std::max(-lo, hi) / (zero - 1);
      }
      // An all-zero group: any scale represents it; 1 keeps 1/s finite.
      if (!(scale > 0.0f))
        scale = 1.0f;
      q.scales[n * groups + g] = scale;
      for (int64_t i = 0; i < q.groupSize; ++i) {
        long code = std::lround(group[i] / scale) + zero;
        code = std::clamp<long>(code, 0, maxCode);
        q.putCode(n, g * q.groupSize + i, static_cast<uint8_t>(code));
      }
    }
  }
  return q;
}

GroupQuantized llmc::quant::quantizeTernary(const float *w, int64_t rows,
                                            int64_t cols) {
  GroupQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.bits = 2;
  q.groupSize = cols;
  double sum = 0.0;
  for (int64_t i = 0; i < rows * cols; ++i)
    sum += std::fabs(w[i]);
  float gamma = static_cast<float>(sum / static_cast<double>(rows * cols));
  // An all-zero tensor: any scale represents it; 1 keeps 1/γ finite.
  if (!(gamma > 0.0f))
    gamma = 1.0f;
  q.scales.assign(rows, gamma);
  int64_t rowBytes = cols / 4;
  q.codes.assign(rows * rowBytes, 0);
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t k = 0; k < cols; ++k) {
      long t = std::clamp<long>(std::lround(w[n * cols + k] / gamma), -1, 1);
      int64_t bit = k * 2;
      q.codes[n * rowBytes + bit / 8] |=
          static_cast<uint8_t>((t + 2) << (bit % 8));
    }
  return q;
}
