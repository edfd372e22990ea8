//===- CostModel.h - systolic-array NPU cost model --------------*- C++ -*-===//

#ifndef LLMC_TARGETS_NPU_COSTMODEL_H
#define LLMC_TARGETS_NPU_COSTMODEL_H

#include "targets/common/TargetDescription.h"

namespace mlir::llm::npu {

struct NpuParameters {
  int64_t arrayRows = 1, arrayCols = 1; // processing elements
  double clock = 0;                     // Hz
  double vectorFlops = 0;               // FLOP/s of the vector unit
  double bufferBytes = 0;               // on-chip buffer
  double dramBandwidth = 0;             // bytes/s
  double memoryEfficiency = 1;
  double launchOverhead = 0; // seconds per op
};

/// A weight-stationary systolic array: a [m,k]x[k,n] product loads
/// ceil(k/R)·ceil(n/C) weight tiles and streams the m rows through each,
/// m + R + C cycles per tile (fill and drain included), so small m (decode)
/// wastes the array. The streamed rows are read once when they fit in half
/// the on-chip buffer, once per column block of the weights otherwise.
/// Norms, activations and softmax run on the vector unit.
/// Time is that compute against DRAM traffic (roofline), plus launch.
class NpuModel : public DeviceModel {
public:
  explicit NpuModel(NpuParameters p) : p(p) {}
  llvm::StringRef kind() const override { return "npu"; }
  CostEstimate estimate(const OpCost &cost) const override;
  double memoryBandwidth() const override { return p.dramBandwidth; }
  double peakOpsPerSecond() const override {
    return 2.0 * p.arrayRows * p.arrayCols * p.clock;
  }
  std::optional<llmc::device::DeviceProgram>
  programTemplate(const OpCost &) const override;
  /// Cycles of `batch` products [m,k]x[k,n] on the array.
  double matmulCycles(double batch, double m, double k, double n) const;
  static std::unique_ptr<DeviceModel> fromDescription(DescriptionReader &r);

private:
  NpuParameters p;
};

void registerNpuDeviceKind();

} // namespace mlir::llm::npu

#endif // LLMC_TARGETS_NPU_COSTMODEL_H
