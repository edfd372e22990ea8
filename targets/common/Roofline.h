//===- Roofline.h - roofline time shared by the device models ---*- C++ -*-===//

#ifndef LLMC_TARGETS_COMMON_ROOFLINE_H
#define LLMC_TARGETS_COMMON_ROOFLINE_H

#include "targets/common/DeviceModel.h"

namespace mlir::llm {

/// GenZ's roofline: t = max(ops / (peak·η_c), bytes / (bw·η_m)) + overhead.
/// The efficiencies scale the peaks down to what kernels reach.
CostEstimate rooflineEstimate(double ops, double bytes, double peakOps,
                              double computeEfficiency, double bandwidth,
                              double memoryEfficiency, double overheadSeconds);

/// Sums the terms the way the models do: compute and memory overlap (max),
/// communication and overhead add.
void finishEstimate(CostEstimate &estimate);

} // namespace mlir::llm

#endif // LLMC_TARGETS_COMMON_ROOFLINE_H
