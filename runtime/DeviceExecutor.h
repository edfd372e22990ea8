//===- DeviceExecutor.h - runs an artifact's device programs ----*- C++ -*-===//
//
// The artifact's NPU and PIM programs, loaded and validated, with the hook
// the CPU code calls to run one of them on its device's simulator, and the
// simulated time each device has spent. Simulated: no NPU or PIM runs here.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_DEVICEEXECUTOR_H
#define LLMC_RUNTIME_DEVICEEXECUTOR_H

#include "runtime/Manifest.h"
#include "runtime/device/DeviceProgram.h"

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace llmc::runtime {

/// Simulated work of one device (or one program) since the last reset.
struct DeviceTime {
  int64_t calls = 0;
  int64_t rows = 0;
  double seconds = 0;
  /// Calls of one row (decode steps with batch 1), with the cost model's
  /// estimate of them from the manifest.
  int64_t singleRowCalls = 0;
  double singleRowSeconds = 0, singleRowEstimateSeconds = 0;
};

class DeviceExecutor {
public:
  /// Reads the device programs section against the manifest's list.
  llmc_status load(const uint8_t *section, uint64_t size,
                   const Manifest &manifest);
  bool empty() const { return programs_.empty(); }

  /// The function the CPU code calls (artifact::DeviceHook).
  static void hook(void *context, int64_t program, int64_t rank0,
                   const void *buffer0, int64_t rank1, const void *buffer1,
                   int64_t rank2, const void *buffer2, int64_t rank3,
                   const void *buffer3, int64_t rank4, const void *buffer4,
                   int64_t rank5, const void *buffer5, int64_t rank6,
                   const void *buffer6, int64_t rank7, const void *buffer7);

  /// The first error a program met since the last call (a wrong shape at
  /// run time), then cleared; empty when none.
  std::string takeError();
  /// Per device, "npu0", "pim0", ... in the order of first program.
  std::vector<std::pair<std::string, DeviceTime>> times() const;
  void resetTimes();

  /// The sub-batch the calling thread runs (its first batch row): launches
  /// are traced per sub-batch.
  static void setSubBatch(int64_t firstRow);
  /// The simulated time of every launch since the last reset on one
  /// timeline: each sub-batch's launches run in order, a device runs one
  /// launch at a time, and different sub-batches overlap on different
  /// devices (NeuPIMs' sub-batch interleaving when there are two). Host
  /// work is not counted. `subBatches` gets how many there were.
  double timelineSeconds(int64_t *subBatches = nullptr) const;

private:
  /// Runs `program` on buffers (rank, descriptor) in the hook's order.
  void run(int64_t program, const int64_t *ranks,
           const void *const *descriptors);

  std::vector<device::DeviceProgram> programs_;
  std::vector<DeviceProgramSpec> specs_;
  mutable std::mutex mutex_;
  std::vector<DeviceTime> programTimes_;
  /// The devices that run programs ("npu0", ...) and each program's.
  std::vector<std::string> deviceNames_;
  std::vector<size_t> deviceOf_;
  /// Per sub-batch, its launches in order: (device, seconds). It grows
  /// with every launch until resetTimes.
  std::map<int64_t, std::vector<std::pair<size_t, double>>> traces_;
  std::string error_;
  /// Whether error_ is set: the step checks it without the lock.
  std::atomic<bool> failed_{false};
};

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_DEVICEEXECUTOR_H
