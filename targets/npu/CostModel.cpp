//===- CostModel.cpp - systolic-array NPU cost model ----------------------===//

#include "targets/npu/CostModel.h"
#include "targets/common/Roofline.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir::llm;
using namespace mlir::llm::npu;

double NpuModel::matmulCycles(double batch, double m, double k,
                              double n) const {
  double tiles = std::ceil(k / p.arrayRows) * std::ceil(n / p.arrayCols);
  return batch * tiles * (m + p.arrayRows + p.arrayCols);
}

CostEstimate NpuModel::estimate(const OpCost &cost) const {
  CostEstimate e;
  double arrayCycles = 0;
  double vectorOps = cost.flops;
  if (cost.kind == WorkKind::Matmul && cost.m > 0) {
    arrayCycles = matmulCycles(cost.batch, cost.m, cost.k, cost.n);
    vectorOps =
        std::max(0.0, cost.flops - 2.0 * cost.batch * cost.m * cost.n * cost.k);
  } else if (cost.kind == WorkKind::Attention) {
    // Q·Kᵀ ([m,d]x[d,S]) and P·V ([m,S]x[S,d]) on the array, softmax on the
    // vector unit.
    arrayCycles = matmulCycles(cost.batch, cost.m, cost.k, cost.n) +
                  matmulCycles(cost.batch, cost.m, cost.n, cost.k);
    vectorOps = 5.0 * cost.batch * cost.m * cost.n;
  }
  e.computeSeconds = arrayCycles / p.clock + vectorOps / p.vectorFlops;
  // The rows streamed through the array are reused across the column
  // blocks of the weights when they fit in half the on-chip buffer (the
  // other half holds weight tiles); otherwise every column block reads
  // them again from DRAM.
  double bytes = cost.bytes();
  if (cost.kind == WorkKind::Matmul && cost.inputBytes > p.bufferBytes / 2)
    bytes += cost.inputBytes * (std::ceil(double(cost.n) / p.arrayCols) - 1);
  e.memorySeconds = bytes / (p.dramBandwidth * p.memoryEfficiency);
  e.sharedMemorySeconds = e.memorySeconds;
  e.overheadSeconds = p.launchOverhead;
  finishEstimate(e);
  if (arrayCycles > 0) {
    double useful = 2.0 * p.arrayRows * p.arrayCols * arrayCycles;
    double matmulOps = cost.flops - vectorOps;
    e.note =
        llvm::formatv("systolic {0}x{1}, {2:P0} of the array busy", p.arrayRows,
                      p.arrayCols, useful > 0 ? matmulOps / useful : 0.0)
            .str();
  } else {
    e.note = "vector unit";
  }
  return e;
}

std::unique_ptr<DeviceModel> NpuModel::fromDescription(DescriptionReader &r) {
  NpuParameters p;
  p.arrayRows = r.count("array_rows");
  p.arrayCols = r.count("array_cols");
  p.clock = r.positive("clock_ghz") * 1e9;
  p.vectorFlops = r.positive("vector_gflops") * 1e9;
  p.bufferBytes = r.positive("buffer_bytes");
  p.dramBandwidth = r.positive("dram_bandwidth_gbps") * 1e9;
  p.memoryEfficiency = r.fraction("memory_efficiency", 1);
  p.launchOverhead = r.nonNegative("launch_overhead_us", 0) * 1e-6;
  return std::make_unique<NpuModel>(p);
}

std::optional<llmc::device::DeviceProgram>
NpuModel::programTemplate(const OpCost &) const {
  llmc::device::DeviceProgram program;
  program.kind = llmc::device::DeviceKind::Npu;
  // The simulator sees the bandwidth the model uses (efficiency applied).
  program.timing = {double(p.arrayRows),
                    double(p.arrayCols),
                    p.clock,
                    p.dramBandwidth * p.memoryEfficiency,
                    p.bufferBytes,
                    p.vectorFlops,
                    p.launchOverhead,
                    0};
  return program;
}

void mlir::llm::npu::registerNpuDeviceKind() {
  registerDeviceKind("npu", NpuModel::fromDescription);
}
