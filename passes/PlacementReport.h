//===- PlacementReport.h - what llm-place decided, and why ------*- C++ -*-===//

#ifndef LLMC_PASSES_PLACEMENTREPORT_H
#define LLMC_PASSES_PLACEMENTREPORT_H

#include "passes/Placement.h"

#include "llvm/Support/JSON.h"

#include <limits>

namespace mlir::llm {

/// One placed function: the problem, the chosen devices and their schedule.
struct PlacedFunction {
  std::string function;
  PlacementProblem problem;
  std::vector<unsigned> assignment;
  Schedule schedule;
  /// The step time with every op on the host alone, for comparison.
  double hostOnlySeconds = 0;
  /// With interleaving: the best step time without it (else NaN).
  double uninterleavedSeconds = std::numeric_limits<double>::quiet_NaN();
};

struct PlacementSettings {
  std::string target, phase;
  int64_t batch = 1, context = 0;
  bool interleave = false;
};

/// Every op's estimates on every device with their terms, the choice and
/// its reason, the timeline and the device busy times.
llvm::json::Value placementReportJSON(const PlacementSettings &settings,
                                      const Machine &machine,
                                      llvm::ArrayRef<PlacedFunction> functions);

/// A self-contained HTML page of the same: a summary, an SVG timeline of
/// the devices over one step and a table of the ops.
std::string placementReportHTML(const PlacementSettings &settings,
                                const Machine &machine,
                                llvm::ArrayRef<PlacedFunction> functions);

} // namespace mlir::llm

#endif // LLMC_PASSES_PLACEMENTREPORT_H
