//===- CostModel.h - bank-level PIM cost model ------------------*- C++ -*-===//

#ifndef LLMC_TARGETS_PIM_COSTMODEL_H
#define LLMC_TARGETS_PIM_COSTMODEL_H

#include "targets/common/TargetDescription.h"

namespace mlir::llm::pim {

struct PimParameters {
  int64_t channels = 1, banksPerChannel = 1;
  double bankBandwidth = 0; // bytes/s each bank's MAC units read
  int64_t macsPerBank = 1;
  double clock = 0;           // Hz of the bank MAC units
  int64_t vectorsPerPass = 1; // input vectors applied per pass over a matrix
  double dramBandwidth = 0;   // bytes/s of the external interface
  double commandOverhead = 0; // seconds per op
};

/// GEMV next to the DRAM banks (Newton/AiM/HBM-PIM style): every bank reads
/// its slice of the matrix at the bank bandwidth, all banks in parallel,
/// and applies up to `vectors_per_pass` input vectors per pass. An op with
/// m input rows per matrix makes ceil(m / vectors_per_pass) passes, so
/// attention (m = g_q, each request's own KV) suits PIM and a projection
/// over a batch (m = B, one shared weight) does not. Inputs and outputs
/// cross the external interface. Only GEMV-shaped work (matmul, attention)
/// and KV-cache writes into PIM memory run here.
class PimModel : public DeviceModel {
public:
  explicit PimModel(PimParameters p) : p(p) {}
  llvm::StringRef kind() const override { return "pim"; }
  CostEstimate estimate(const OpCost &cost) const override;
  double memoryBandwidth() const override {
    return p.bankBandwidth * p.channels * p.banksPerChannel;
  }
  double peakOpsPerSecond() const override {
    return 2.0 * p.macsPerBank * p.clock * p.channels * p.banksPerChannel;
  }
  std::optional<llmc::device::DeviceProgram>
  programTemplate(const OpCost &) const override;
  static std::unique_ptr<DeviceModel> fromDescription(DescriptionReader &r);

private:
  PimParameters p;
};

void registerPimDeviceKind();

} // namespace mlir::llm::pim

#endif // LLMC_TARGETS_PIM_COSTMODEL_H
