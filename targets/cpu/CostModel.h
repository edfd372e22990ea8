//===- CostModel.h - roofline cost model of the host CPU --------*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_COSTMODEL_H
#define LLMC_TARGETS_CPU_COSTMODEL_H

#include "targets/common/TargetDescription.h"

namespace mlir::llm::cpu {

struct CpuParameters {
  int64_t cores = 1;
  int64_t simdLanes = 1;       // f32 lanes of a vector register
  double peakFlopsPerCore = 0; // FLOP/s, FMA counted as two
  double dramBandwidth = 0;    // bytes/s, all cores
  double cacheBytes = 0;       // last-level cache
  double cacheBandwidth = 0;   // bytes/s
  double matmulEfficiency = 1, attentionEfficiency = 1, vectorEfficiency = 1,
         memoryEfficiency = 1;
  double opOverhead = 0; // seconds (fork/join of a parallel region)
};

/// Roofline over all cores with per-kind efficiencies (what llmc's kernels
/// reach, bench/cpu_bench.sh). Weights and KV stream from DRAM; activations
/// from the last-level cache when they fit in it (they were just written).
/// Causal attention does only its visible pairs (the fused kernel skips
/// the rest). A matmul's output columns fill whole vector registers: n is
/// rounded up to the SIMD width.
class CpuModel : public DeviceModel {
public:
  explicit CpuModel(CpuParameters p) : p(p) {}
  llvm::StringRef kind() const override { return "cpu"; }
  CostEstimate estimate(const OpCost &cost) const override;
  double memoryBandwidth() const override { return p.dramBandwidth; }
  double peakOpsPerSecond() const override {
    return p.cores * p.peakFlopsPerCore;
  }
  static std::unique_ptr<DeviceModel> fromDescription(DescriptionReader &r);

private:
  CpuParameters p;
};

void registerCpuDeviceKind();

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_COSTMODEL_H
