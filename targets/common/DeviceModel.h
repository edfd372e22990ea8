//===- DeviceModel.h - the cost model interface every target implements -===//
//
// A device model answers one question: how long does this op (its OpCost)
// take on this device, and why. Placement compares the answers; the report
// shows the terms. Models are plain code over plain data (no IR), so they
// are unit-tested against hand-computed values.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_COMMON_DEVICEMODEL_H
#define LLMC_TARGETS_COMMON_DEVICEMODEL_H

#include "dialects/llm/OpCost.h"
#include "runtime/device/DeviceProgram.h"

#include "llvm/Support/JSON.h"

#include <limits>
#include <optional>
#include <string>

namespace mlir::llm {

/// A time estimate with the terms it was made of (seconds). `seconds` is
/// what placement uses; the terms explain it.
struct CostEstimate {
  double computeSeconds = 0;
  double memorySeconds = 0;
  double communicationSeconds = 0;
  /// Fixed per-op cost (kernel launch, command issue, synchronisation).
  double overheadSeconds = 0;
  /// The part of memorySeconds spent on memory that other devices may
  /// share (a SoC's DRAM): while it lasts, no other device of the same
  /// memory pool moves data. Bank-internal PIM reads and on-chip SRAM are
  /// not shared.
  double sharedMemorySeconds = 0;
  double seconds = 0;
  /// False when the device cannot run the op (unsupported kind, or a
  /// layout that breaks a hardware limit); `note` then says why.
  bool supported = true;
  /// How the device runs it ("MeshGEMM on 64x64 cores", "bank-parallel GEMV,
  /// 8 passes over the weights") or why it cannot.
  std::string note;

  /// The dominant term: "compute", "memory", "communication" or "overhead".
  const char *bound() const;

  static CostEstimate unsupported(std::string why) {
    CostEstimate e;
    e.supported = false;
    e.seconds = std::numeric_limits<double>::infinity();
    e.note = std::move(why);
    return e;
  }
};

class DeviceModel {
public:
  virtual ~DeviceModel() = default;
  /// The target kind ("cpu", "npu", ...), the `kind` of #llm.device.
  virtual llvm::StringRef kind() const = 0;
  virtual CostEstimate estimate(const OpCost &cost) const = 0;
  /// Main-memory bandwidth in bytes/s (for the report).
  virtual double memoryBandwidth() const = 0;
  /// Peak arithmetic rate in operations/s (for the report).
  virtual double peakOpsPerSecond() const = 0;
  /// Bytes of weights and KV cache the device can hold for the ops placed
  /// on it (a mesh keeps them in its cores' SRAM); infinity when they live
  /// in a memory the model does not bound.
  virtual double residentCapacity() const {
    return std::numeric_limits<double>::infinity();
  }
  /// For a device that runs device programs (runtime/device): an empty
  /// program for an op of work `cost`, carrying the format's device kind
  /// and the simulator's timing from this description (a mesh: the
  /// sub-grid its plan uses), which the emitter fills with constants and
  /// instructions. Nothing for devices without that format.
  virtual std::optional<llmc::device::DeviceProgram>
  programTemplate(const OpCost &cost) const {
    return std::nullopt;
  }
};

} // namespace mlir::llm

#endif // LLMC_TARGETS_COMMON_DEVICEMODEL_H
