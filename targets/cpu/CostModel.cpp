//===- CostModel.cpp - roofline cost model of the host CPU ----------------===//

#include "targets/cpu/CostModel.h"
#include "targets/common/Roofline.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir::llm;
using namespace mlir::llm::cpu;

CostEstimate CpuModel::estimate(const OpCost &cost) const {
  double efficiency = p.vectorEfficiency;
  if (cost.kind == WorkKind::Matmul)
    efficiency = p.matmulEfficiency;
  else if (cost.kind == WorkKind::Attention)
    efficiency = p.attentionEfficiency;
  CostEstimate e;
  // llmc's fused attention skips the keys a causal mask hides.
  double flops = cost.kind == WorkKind::Attention
                     ? cost.flops * cost.visibleFraction
                     : cost.flops;
  if (cost.kind == WorkKind::Matmul && cost.n > 0)
    flops *= std::ceil(double(cost.n) / p.simdLanes) * p.simdLanes / cost.n;
  e.computeSeconds = flops / (p.cores * p.peakFlopsPerCore * efficiency);
  double streamed = cost.weightBytes + cost.kvReadBytes + cost.kvWriteBytes;
  double activations = cost.inputBytes + cost.outputBytes;
  bool cached = activations <= p.cacheBytes;
  double dram = p.dramBandwidth * p.memoryEfficiency;
  e.sharedMemorySeconds = (streamed + (cached ? 0 : activations)) / dram;
  e.memorySeconds =
      streamed / dram +
      activations / (cached ? p.cacheBandwidth * p.memoryEfficiency : dram);
  e.overheadSeconds = p.opOverhead;
  finishEstimate(e);
  e.note = llvm::formatv("{0} cores, activations from {1}", p.cores,
                         cached ? "cache" : "DRAM")
               .str();
  return e;
}

std::unique_ptr<DeviceModel> CpuModel::fromDescription(DescriptionReader &r) {
  CpuParameters p;
  p.cores = r.count("cores");
  p.simdLanes = r.count("simd_lanes");
  p.peakFlopsPerCore = r.positive("peak_gflops_per_core") * 1e9;
  p.dramBandwidth = r.positive("dram_bandwidth_gbps") * 1e9;
  p.cacheBytes = r.positive("cache_bytes");
  p.cacheBandwidth = r.positive("cache_bandwidth_gbps") * 1e9;
  p.matmulEfficiency = r.fraction("matmul_efficiency", 1);
  p.attentionEfficiency = r.fraction("attention_efficiency", 1);
  p.vectorEfficiency = r.fraction("vector_efficiency", 1);
  p.memoryEfficiency = r.fraction("memory_efficiency", 1);
  p.opOverhead = r.nonNegative("op_overhead_us", 0) * 1e-6;
  return std::make_unique<CpuModel>(p);
}

void mlir::llm::cpu::registerCpuDeviceKind() {
  registerDeviceKind("cpu", CpuModel::fromDescription);
}
