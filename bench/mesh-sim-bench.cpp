//===- mesh-sim-bench.cpp - the mesh simulator at larger grids ------------===//
//
// MeshGEMM and MeshGEMV on the runtime's simulated P×P mesh (WSE-2-like
// timing: α = 1 ns per hop, β = 20 ns per message, 4.4 GFLOP/s per core)
// for P = 16, 32, 64: the largest difference from a dense reference, the
// simulated time (interleaved and plain rings), and the PLMR cost model's
// estimate for the same plan. Not a test; the unit tests cover P ≤ 16.
//
//   llmc-mesh-bench [SIZE]   (default 1024: GEMM SIZE³, GEMV SIZE²)
//
//===----------------------------------------------------------------------===//

#include "runtime/mesh/MeshSimulator.h"
#include "targets/mesh/CostModel.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace llmc::mesh;

int main(int argc, char **argv) {
  int size = argc > 1 ? std::atoi(argv[1]) : 1024;
  if (size < 1) {
    std::fprintf(stderr, "usage: llmc-mesh-bench [SIZE]\n");
    return 2;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(size_t(size) * size), b(size_t(size) * size), x(size),
      c(size_t(size) * size), y(size), ref(size_t(size) * size),
      yref(size, 0.0f);
  for (float &v : a)
    v = dist(rng);
  for (float &v : b)
    v = dist(rng);
  for (float &v : x)
    v = dist(rng);
  // Dense references (double accumulation).
  for (int i = 0; i < size; ++i)
    for (int j = 0; j < size; ++j) {
      double s = 0;
      for (int q = 0; q < size; ++q)
        s += double(a[size_t(i) * size + q]) * b[size_t(q) * size + j];
      ref[size_t(i) * size + j] = float(s);
    }
  for (int j = 0; j < size; ++j) {
    double s = 0;
    for (int q = 0; q < size; ++q)
      s += double(x[q]) * b[size_t(q) * size + j];
    yref[j] = float(s);
  }

  MeshTiming timing;
  timing.hopLatency = 1e-9;
  timing.messageOverhead = 20e-9;
  timing.coreFlops = 4.4e9;
  std::printf("%-8s %4s %12s %12s %12s %9s %12s %10s\n", "op", "P",
              "simulated us", "plain us", "model us", "sim/model",
              "max |error|", "host s");
  for (int p : {16, 32, 64}) {
    mlir::llm::mesh::MeshParameters params;
    params.grid = p;
    params.coreMemoryBytes = 1e12;
    params.coreFlops = timing.coreFlops;
    params.coreMemoryBandwidth = 1e18;
    params.hopLatency = timing.hopLatency;
    params.messageOverhead = timing.messageOverhead;
    params.routingColors = 24;
    mlir::llm::mesh::MeshModel model(params);
    mlir::llm::OpCost gemm;
    gemm.kind = mlir::llm::WorkKind::Matmul;
    gemm.m = gemm.k = gemm.n = size;
    gemm.flops = 2.0 * size * size * size;
    gemm.weightBytes = 4.0 * size * size;
    mlir::llm::OpCost gemv = gemm;
    gemv.m = 1;
    gemv.flops = 2.0 * size * size;

    auto start = std::chrono::steady_clock::now();
    MeshRun run = meshGemm(p, Ring::Interleaved, timing, a.data(), b.data(),
                           c.data(), size, size, size);
    double host =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    double error = 0;
    for (size_t i = 0; i < c.size(); ++i)
      error = std::max(error, double(std::fabs(c[i] - ref[i])));
    MeshRun plain = meshGemm(p, Ring::Plain, timing, a.data(), b.data(),
                             c.data(), size, size, size);
    double estimate = model.plan(gemm, p).estimate.seconds;
    std::printf("%-8s %4d %12.2f %12.2f %12.2f %9.3f %12.2e %10.2f\n",
                "MeshGEMM", p, run.seconds * 1e6, plain.seconds * 1e6,
                estimate * 1e6, run.seconds / estimate, error, host);

    start = std::chrono::steady_clock::now();
    MeshRun vec = meshGemv(p, timing, b.data(), x.data(), y.data(), size, size);
    host =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    error = 0;
    for (int j = 0; j < size; ++j)
      error = std::max(error, double(std::fabs(y[j] - yref[j])));
    double vecEstimate = model.plan(gemv, p).estimate.seconds;
    std::printf("%-8s %4d %12.2f %12s %12.2f %9.3f %12.2e %10.2f\n", "MeshGEMV",
                p, vec.seconds * 1e6, "-", vecEstimate * 1e6,
                vec.seconds / vecEstimate, error, host);
  }
  return 0;
}
