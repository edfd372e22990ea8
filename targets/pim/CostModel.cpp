//===- CostModel.cpp - bank-level PIM cost model --------------------------===//

#include "targets/pim/CostModel.h"
#include "targets/common/Roofline.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir::llm;
using namespace mlir::llm::pim;

CostEstimate PimModel::estimate(const OpCost &cost) const {
  CostEstimate e;
  double external = cost.inputBytes + cost.outputBytes;
  if (cost.kind == WorkKind::DataMovement && cost.kvWriteBytes > 0) {
    // Appending to the KV cache held in PIM memory: external traffic.
    e.memorySeconds = (external + cost.kvWriteBytes) / p.dramBandwidth;
    e.sharedMemorySeconds = e.memorySeconds;
    e.overheadSeconds = p.commandOverhead;
    finishEstimate(e);
    e.note = "KV-cache write over the external interface";
    return e;
  }
  if (cost.kind != WorkKind::Matmul && cost.kind != WorkKind::Attention)
    return CostEstimate::unsupported(
        std::string("PIM runs GEMV-shaped work and KV-cache writes only, "
                    "not ") +
        workKindName(cost.kind));
  // The matrix the banks hold: weights, or the request's K and V.
  double matrix = cost.weightBytes + cost.kvReadBytes;
  if (matrix == 0) {
    matrix = cost.inputBytes;
    external -= cost.inputBytes;
  }
  double passes = std::ceil(double(std::max<int64_t>(cost.m, 1)) /
                            double(p.vectorsPerPass));
  e.sharedMemorySeconds = (external + cost.kvWriteBytes) / p.dramBandwidth;
  e.memorySeconds = passes * matrix / memoryBandwidth() + e.sharedMemorySeconds;
  e.computeSeconds = cost.flops / peakOpsPerSecond();
  e.overheadSeconds = p.commandOverhead;
  finishEstimate(e);
  e.note = llvm::formatv("bank-parallel GEMV, {0} pass{1} over {2} banks",
                         int64_t(passes), passes == 1 ? "" : "es",
                         p.channels * p.banksPerChannel)
               .str();
  return e;
}

std::unique_ptr<DeviceModel> PimModel::fromDescription(DescriptionReader &r) {
  PimParameters p;
  p.channels = r.count("channels");
  p.banksPerChannel = r.count("banks_per_channel");
  p.bankBandwidth = r.positive("bank_bandwidth_gbps") * 1e9;
  p.macsPerBank = r.count("macs_per_bank");
  p.clock = r.positive("clock_ghz") * 1e9;
  p.vectorsPerPass =
      r.json().get("vectors_per_pass") ? r.count("vectors_per_pass") : 1;
  p.dramBandwidth = r.positive("dram_bandwidth_gbps") * 1e9;
  p.commandOverhead = r.nonNegative("command_overhead_us", 0) * 1e-6;
  return std::make_unique<PimModel>(p);
}

std::optional<llmc::device::DeviceProgram>
PimModel::programTemplate(const OpCost &) const {
  llmc::device::DeviceProgram program;
  program.kind = llmc::device::DeviceKind::Pim;
  program.timing = {double(p.channels),
                    double(p.banksPerChannel),
                    p.bankBandwidth,
                    double(p.macsPerBank),
                    p.clock,
                    double(p.vectorsPerPass),
                    p.dramBandwidth,
                    p.commandOverhead};
  return program;
}

void mlir::llm::pim::registerPimDeviceKind() {
  registerDeviceKind("pim", PimModel::fromDescription);
}
