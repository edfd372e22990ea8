//===- MeshSimulatorTest.cpp - simulated MeshGEMM/MeshGEMV ----------------===//
//
// The runtime's mesh simulator against dense references (P up to 16), the
// growth of its critical path (O(P) on the interleaved ring, O(P²) on a
// plain one), and its time against the PLMR cost model of the mesh target.
//
//===----------------------------------------------------------------------===//

#include "runtime/mesh/MeshSimulator.h"
#include "targets/mesh/CostModel.h"

#include "test/unit/DeviceTestSupport.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace llmc::mesh;

namespace {

using llmc_test::linear;
using llmc_test::randomMatrix;

MeshTiming timing() {
  MeshTiming t;
  t.hopLatency = 1e-9;
  t.messageOverhead = 20e-9;
  t.coreFlops = 4.4e9;
  return t;
}

TEST(MeshSimulator, InterleavedRingNeighboursAreAtMostTwoHopsApart) {
  for (int p = 2; p <= 33; ++p) {
    std::vector<int> order = ringOrder(p, Ring::Interleaved);
    std::vector<int> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < p; ++i)
      ASSERT_EQ(sorted[i], i) << "not a permutation, p = " << p;
    for (int i = 0; i < p; ++i)
      EXPECT_LE(std::abs(order[i] - order[(i + 1) % p]), 2) << "p = " << p;
    std::vector<int> plain = ringOrder(p, Ring::Plain);
    EXPECT_EQ(std::abs(plain[p - 1] - plain[0]), p - 1);
  }
}

TEST(MeshSimulator, GemmMatchesDenseReference) {
  for (int p : {1, 2, 3, 4, 7, 8, 16}) {
    for (Ring ring : {Ring::Interleaved, Ring::Plain}) {
      int m = 37, k = 29, n = 41;
      std::vector<float> a = randomMatrix(m, k, 1), b = randomMatrix(k, n, 2);
      std::vector<float> c(size_t(m) * n, -7.0f);
      meshGemm(p, ring, timing(), a.data(), b.data(), c.data(), m, k, n);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double ref = 0;
          for (int q = 0; q < k; ++q)
            ref += double(a[size_t(i) * k + q]) * b[size_t(q) * n + j];
          ASSERT_NEAR(c[size_t(i) * n + j], ref, 1e-4)
              << "p = " << p << " at " << i << ", " << j;
        }
    }
  }
}

TEST(MeshSimulator, GemvMatchesDenseReference) {
  for (int p : {1, 2, 3, 5, 8, 16}) {
    int k = 150, n = 70;
    std::vector<float> w = randomMatrix(k, n, 3), x = randomMatrix(1, k, 4);
    std::vector<float> y(n, -7.0f);
    meshGemv(p, timing(), w.data(), x.data(), y.data(), k, n);
    for (int j = 0; j < n; ++j) {
      double ref = 0;
      for (int q = 0; q < k; ++q)
        ref += double(x[q]) * w[size_t(q) * n + j];
      ASSERT_NEAR(y[j], ref, 1e-4) << "p = " << p << " at " << j;
    }
  }
}

/// Simulated communication on the critical path of a 64³ GEMM.
double communication(int p, Ring ring) {
  int size = 64;
  std::vector<float> a(size * size, 1.0f), b(size * size, 1.0f), c(size * size);
  MeshTiming t = timing();
  t.messageOverhead = 0; // hops only
  MeshRun run =
      meshGemm(p, ring, t, a.data(), b.data(), c.data(), size, size, size);
  return run.seconds - run.computeSeconds;
}

TEST(MeshSimulator, CriticalPathGrowsLinearlyOnTheInterleavedRing) {
  // Doubling P about doubles the interleaved ring's hop time and about
  // quadruples the plain ring's.
  double interleaved = communication(16, Ring::Interleaved) /
                       communication(8, Ring::Interleaved);
  double plain = communication(16, Ring::Plain) / communication(8, Ring::Plain);
  EXPECT_NEAR(interleaved, 2.0, 0.2);
  EXPECT_GT(plain, 3.8);
  EXPECT_GT(communication(16, Ring::Plain),
            5 * communication(16, Ring::Interleaved));
}

TEST(MeshSimulator, CommunicationIsWhatThePLMRFormulasSay) {
  int size = 64;
  std::vector<float> a(size * size, 1.0f), b(size * size, 1.0f), c(size * size);
  MeshTiming t = timing();
  // (From p = 4 on: on two cores the ring's neighbours are 1 hop apart.)
  for (int p : {4, 8, 16}) {
    MeshRun interleaved = meshGemm(p, Ring::Interleaved, t, a.data(), b.data(),
                                   c.data(), size, size, size);
    EXPECT_NEAR(interleaved.seconds - interleaved.computeSeconds,
                mlir::llm::mesh::meshGemmCommunication(p, t.hopLatency,
                                                       t.messageOverhead),
                1e-12)
        << "p = " << p;
    MeshRun plain = meshGemm(p, Ring::Plain, t, a.data(), b.data(), c.data(),
                             size, size, size);
    EXPECT_NEAR(plain.seconds - plain.computeSeconds,
                mlir::llm::mesh::naiveRingGemmCommunication(p, t.hopLatency,
                                                            t.messageOverhead),
                1e-12)
        << "p = " << p;
    EXPECT_LE(interleaved.maxHops, 2);
  }
}

mlir::llm::mesh::MeshModel model(int p) {
  mlir::llm::mesh::MeshParameters params;
  params.grid = p;
  params.coreMemoryBytes = 1e12; // legality is tested elsewhere
  params.coreFlops = timing().coreFlops;
  params.coreMemoryBandwidth = 1e18; // SRAM traffic not on the critical path
  params.hopLatency = timing().hopLatency;
  params.messageOverhead = timing().messageOverhead;
  params.routingColors = 24;
  return mlir::llm::mesh::MeshModel(params);
}

TEST(MeshSimulator, TimeAgreesWithThePLMRModel) {
  for (int p : {4, 8, 16}) {
    int m = 128, k = 256, n = 192;
    std::vector<float> a = randomMatrix(m, k, 5), b = randomMatrix(k, n, 6);
    std::vector<float> c(size_t(m) * n), y(n);
    MeshRun gemm = meshGemm(p, Ring::Interleaved, timing(), a.data(), b.data(),
                            c.data(), m, k, n);
    double estimate = model(p).plan(linear(m, k, n), p).estimate.seconds;
    EXPECT_NEAR(gemm.seconds / estimate, 1.0, 0.10) << "MeshGEMM, p = " << p;

    MeshRun gemv = meshGemv(p, timing(), b.data(), a.data(), y.data(), k, n);
    double gemvEstimate = model(p).plan(linear(1, k, n), p).estimate.seconds;
    EXPECT_NEAR(gemv.seconds / gemvEstimate, 1.0, 0.10)
        << "MeshGEMV, p = " << p;
  }
}

} // namespace
