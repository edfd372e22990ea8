//===- DeviceSimulatorTest.cpp - simulated NPU and PIM --------------------===//
//
// The runtime's NPU and PIM simulators against dense references, and their
// time against the cost models of the npu and pim targets.
//
//===----------------------------------------------------------------------===//

#include "runtime/npu/NpuSimulator.h"
#include "runtime/pim/PimSimulator.h"
#include "targets/npu/CostModel.h"
#include "targets/pim/CostModel.h"

#include "test/unit/DeviceTestSupport.h"

#include <gtest/gtest.h>

namespace {

using llmc_test::linear;
using llmc_test::randomMatrix;

void expectProduct(const std::vector<float> &x, const std::vector<float> &w,
                   const std::vector<float> &y, int m, int k, int n) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double ref = 0;
      for (int q = 0; q < k; ++q)
        ref += double(x[size_t(i) * k + q]) * w[size_t(q) * n + j];
      ASSERT_NEAR(y[size_t(i) * n + j], ref, 1e-4) << i << ", " << j;
    }
}

llmc::npu::NpuTiming npuTiming() {
  llmc::npu::NpuTiming t;
  t.rows = t.cols = 32;
  t.clock = 1e9;
  t.dramBandwidth = 64e9;
  t.bufferBytes = 1 << 20;
  return t;
}

mlir::llm::npu::NpuModel npuModel() {
  llmc::npu::NpuTiming t = npuTiming();
  mlir::llm::npu::NpuParameters p;
  p.arrayRows = t.rows;
  p.arrayCols = t.cols;
  p.clock = t.clock;
  p.vectorFlops = 1e12;
  p.bufferBytes = t.bufferBytes;
  p.dramBandwidth = t.dramBandwidth;
  return mlir::llm::npu::NpuModel(p);
}

TEST(NpuSimulator, MatmulMatchesDenseReference) {
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {7, 33, 65}, {64, 96, 40}}) {
    std::vector<float> x = randomMatrix(m, k, 1), w = randomMatrix(k, n, 2);
    std::vector<float> y(size_t(m) * n, -7.0f);
    llmc::npu::npuMatmul(npuTiming(), x.data(), w.data(), y.data(), m, k, n);
    expectProduct(x, w, y, m, k, n);
  }
}

TEST(NpuSimulator, TimeAgreesWithTheCostModel) {
  // Compute-bound (many rows), memory-bound (one row), and rows that
  // overflow the buffer.
  for (auto [m, k, n] :
       {std::tuple{512, 256, 256}, {1, 1024, 1024}, {8192, 64, 128}}) {
    std::vector<float> x = randomMatrix(m, k, 3), w = randomMatrix(k, n, 4);
    std::vector<float> y(size_t(m) * n);
    llmc::npu::NpuRun run = llmc::npu::npuMatmul(npuTiming(), x.data(),
                                                 w.data(), y.data(), m, k, n);
    mlir::llm::CostEstimate e = npuModel().estimate(linear(m, k, n));
    EXPECT_NEAR(run.arraySeconds, e.computeSeconds, 1e-12 + 1e-9 * run.seconds);
    EXPECT_NEAR(run.memorySeconds, e.memorySeconds, 1e-9 * run.seconds);
    // The model assumes perfect overlap of the array and the interface;
    // the simulator overlaps what its buffers allow, no more.
    EXPECT_GE(run.seconds, e.seconds * (1 - 1e-9)) << m << "x" << k << "x" << n;
    EXPECT_LE(run.seconds, e.computeSeconds + e.memorySeconds)
        << m << "x" << k << "x" << n;
    EXPECT_NEAR(run.seconds / e.seconds, 1.0, 0.15)
        << m << "x" << k << "x" << n;
  }
}

llmc::pim::PimTiming pimTiming(int vectorsPerPass) {
  llmc::pim::PimTiming t;
  t.channels = 4;
  t.banksPerChannel = 16;
  t.bankBandwidth = 2e9;
  t.macsPerBank = 16;
  t.clock = 0.25e9;
  t.vectorsPerPass = vectorsPerPass;
  t.dramBandwidth = 32e9;
  return t;
}

mlir::llm::pim::PimModel pimModel(int vectorsPerPass) {
  llmc::pim::PimTiming t = pimTiming(vectorsPerPass);
  mlir::llm::pim::PimParameters p;
  p.channels = t.channels;
  p.banksPerChannel = t.banksPerChannel;
  p.bankBandwidth = t.bankBandwidth;
  p.macsPerBank = t.macsPerBank;
  p.clock = t.clock;
  p.vectorsPerPass = t.vectorsPerPass;
  p.dramBandwidth = t.dramBandwidth;
  return mlir::llm::pim::PimModel(p);
}

TEST(PimSimulator, GemvMatchesDenseReference) {
  for (auto [m, k, n, v] : {std::tuple{1, 100, 70, 1}, {5, 64, 129, 2}}) {
    std::vector<float> x = randomMatrix(m, k, 5), w = randomMatrix(k, n, 6);
    std::vector<float> y(size_t(m) * n, -7.0f);
    llmc::pim::pimGemv(pimTiming(v), x.data(), w.data(), y.data(), m, k, n);
    expectProduct(x, w, y, m, k, n);
  }
}

TEST(PimSimulator, RowsOverBanksMatchesDenseReferenceAndUsesEveryBank) {
  for (auto [m, k, n, v] : {std::tuple{1, 100, 16, 1}, {6, 128, 16, 2}}) {
    std::vector<float> x = randomMatrix(m, k, 5), w = randomMatrix(k, n, 6);
    std::vector<float> y(size_t(m) * n, -7.0f);
    llmc::pim::PimRun rows = llmc::pim::pimGemvRowsOverBanks(
        pimTiming(v), x.data(), w.data(), y.data(), m, k, n);
    expectProduct(x, w, y, m, k, n);
    // 16 columns over 64 banks leave 48 idle; 128 rows over them do not.
    std::vector<float> z(size_t(m) * n);
    llmc::pim::PimRun columns =
        llmc::pim::pimGemv(pimTiming(v), x.data(), w.data(), z.data(), m, k, n);
    EXPECT_LT(rows.bankSeconds, columns.bankSeconds / 3) << m << "x" << k;
    EXPECT_EQ(rows.passes, columns.passes);
  }
}

TEST(PimSimulator, TimeAgreesWithTheCostModel) {
  // One vector; a batch of 8 in 8 passes; the same batch 4 per pass.
  for (auto [m, v] : {std::pair{1, 1}, {8, 1}, {8, 4}}) {
    int k = 512, n = 1024;
    std::vector<float> x = randomMatrix(m, k, 7), w = randomMatrix(k, n, 8);
    std::vector<float> y(size_t(m) * n);
    llmc::pim::PimRun run =
        llmc::pim::pimGemv(pimTiming(v), x.data(), w.data(), y.data(), m, k, n);
    mlir::llm::CostEstimate e = pimModel(v).estimate(linear(m, k, n));
    EXPECT_EQ(run.passes, (m + v - 1) / v);
    EXPECT_NEAR(run.seconds / e.seconds, 1.0, 0.10) << m << " rows, " << v;
  }
}

} // namespace
