//===- Placement.h - choosing a device per op for one step ------*- C++ -*-===//
//
// The search behind llm-place, on plain data so that it is unit-tested
// without IR: ops in program order with their estimated time on every
// device and the values they receive; a list scheduler that turns an
// assignment into a step time (devices concurrent, transfers over the
// machine's links); a deterministic local search over assignments.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_PLACEMENT_H
#define LLMC_PASSES_PLACEMENT_H

#include "targets/common/TargetDescription.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::llm {

/// A value an op receives: from another op (`producer` ≥ 0) or from the
/// step's inputs on the host (`producer` = -1).
struct PlacementInput {
  int producer = -1;
  double bytes = 0;     // at the full batch
  double halfBytes = 0; // at a sub-batch (interleaving)
};

struct PlacementNode {
  std::string name;                    // location name, for pins and the report
  std::string opName;                  // "llm.linear"
  OpCost cost;                         // at the full batch
  std::vector<CostEstimate> estimates; // per device, full batch
  std::vector<CostEstimate> halfEstimates; // per device, per sub-batch
  std::vector<PlacementInput> inputs;
  /// Bytes of its results the step returns to the host.
  double outputBytes = 0, halfOutputBytes = 0;
  /// Weights and KV cache it keeps on its device between steps.
  double residentBytes = 0;
  std::optional<unsigned> pinned;
};

struct PlacementProblem {
  const Machine *machine = nullptr;
  std::vector<PlacementNode> nodes;
  /// Schedule two sub-batches together (NeuPIMs sub-batch interleaving).
  bool interleave = false;
};

struct ScheduledOp {
  int node = 0, subBatch = 0;
  unsigned device = 0;
  double start = 0, end = 0;
};

struct ScheduledTransfer {
  int producer = -1, consumer = -1, subBatch = 0; // consumer -1: to host
  unsigned from = 0, to = 0;
  double bytes = 0, start = 0, end = 0;
};

struct Schedule {
  double makespan = 0;
  std::vector<ScheduledOp> ops;
  std::vector<ScheduledTransfer> transfers;
  /// Busy seconds per device.
  std::vector<double> busy;
};

/// List-schedules the ops in program order under `assignment`: an op
/// starts when its device is free, its inputs have arrived, its memory
/// pool is free, and (for a value crossing a link that is not shared
/// memory) the link is free. Returns the step time, or infinity when the
/// weights and KV placed on a device exceed what it can hold; fills `out`
/// (ops, transfers, busy time) when given.
double scheduleStep(const PlacementProblem &problem,
                    const std::vector<unsigned> &assignment,
                    Schedule *out = nullptr);

/// The best assignment found: local search (moves of single ops and of
/// runs of consecutive same-device ops) from an earliest-finish greedy
/// assignment and from each all-on-one-device assignment. Pins are kept.
/// Fails with a message naming the op that no device can run, or saying
/// that no assignment is feasible.
std::optional<std::vector<unsigned>>
solvePlacement(const PlacementProblem &problem, std::string &error);

} // namespace mlir::llm

#endif // LLMC_PASSES_PLACEMENT_H
