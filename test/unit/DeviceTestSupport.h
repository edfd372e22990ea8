//===- DeviceTestSupport.h - shared inputs of the device tests --*- C++ -*-===//

#ifndef LLMC_TEST_UNIT_DEVICETESTSUPPORT_H
#define LLMC_TEST_UNIT_DEVICETESTSUPPORT_H

#include "dialects/llm/OpCost.h"

#include <random>
#include <vector>

namespace llmc_test {

/// The work of y[m, n] = x[m, k] · W[k, n] with W a weight.
inline mlir::llm::OpCost linear(int64_t m, int64_t k, int64_t n,
                                double elementBytes = 4) {
  mlir::llm::OpCost c;
  c.kind = mlir::llm::WorkKind::Matmul;
  c.m = m;
  c.k = k;
  c.n = n;
  c.flops = 2.0 * m * k * n;
  c.weightBytes = elementBytes * k * n;
  c.inputBytes = elementBytes * m * k;
  c.outputBytes = elementBytes * m * n;
  return c;
}

/// rows × cols values uniform in [-1, 1), reproducible from `seed`.
inline std::vector<float> randomMatrix(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> v(size_t(rows) * cols);
  for (float &x : v)
    x = dist(rng);
  return v;
}

} // namespace llmc_test

#endif // LLMC_TEST_UNIT_DEVICETESTSUPPORT_H
