//===- TargetDescription.h - machines described in JSON ---------*- C++ -*-===//
//
// A machine is a set of devices (each driven by a target kind: cpu, npu,
// pim, mesh, ...) and the links between them. The common part (devices,
// links, host) is read here; each kind reads its own fields through the
// factory it registers, so a new target adds a factory and touches nothing
// else. Errors name the field and the device ("devices[1] 'npu': field
// 'clock_ghz' must be a positive number").
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_COMMON_TARGETDESCRIPTION_H
#define LLMC_TARGETS_COMMON_TARGETDESCRIPTION_H

#include "targets/common/DeviceModel.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::llm {

/// Reads fields of one JSON object; the first problem is kept as an error
/// that names the object and the field.
class DescriptionReader {
public:
  DescriptionReader(const llvm::json::Object &object, std::string where)
      : object(object), where(std::move(where)) {}

  /// A required number > 0.
  double positive(llvm::StringRef key);
  /// An optional number > 0.
  double positive(llvm::StringRef key, double fallback);
  /// An optional number in (0, 1].
  double fraction(llvm::StringRef key, double fallback);
  /// An optional number ≥ 0.
  double nonNegative(llvm::StringRef key, double fallback);
  /// A required positive integer.
  int64_t count(llvm::StringRef key);
  /// An optional string.
  std::string string(llvm::StringRef key, llvm::StringRef fallback);
  /// An optional array of strings.
  std::vector<std::string> strings(llvm::StringRef key);
  /// Reports a problem with `key` (for checks a kind makes itself).
  void fail(llvm::StringRef key, const llvm::Twine &problem);

  const llvm::json::Object &json() const { return object; }
  bool ok() const { return error.empty(); }
  llvm::Error takeError();

private:
  std::optional<double> number(llvm::StringRef key, bool required);
  const llvm::json::Object &object;
  std::string where;
  std::string error;
};

/// Builds a kind's cost model from its device object; reads its fields
/// through the reader (which collects the errors).
using DeviceModelFactory =
    std::function<std::unique_ptr<DeviceModel>(DescriptionReader &)>;

/// Makes `kind` available to machine descriptions (lib/ registers the
/// targets it links).
void registerDeviceKind(llvm::StringRef kind, DeviceModelFactory factory);
std::vector<std::string> registeredDeviceKinds();

struct Device {
  /// The description's name for it ("npu0"); the report shows it.
  std::string name;
  /// Target kind and index among devices of that kind: #llm.device<kind, i>.
  std::string kind;
  int64_t index = 0;
  std::unique_ptr<DeviceModel> model;
  /// The memory pool it shares with other devices (index into
  /// Machine::pools), or -1 when its memory is its own.
  int pool = -1;
  /// Element types it computes in ("dtypes"); empty: any.
  std::vector<std::string> dtypes;

  /// Its model's estimate, or unsupported when it lacks the op's type.
  CostEstimate estimate(const OpCost &cost) const;
};

struct Link {
  unsigned from = 0, to = 0;
  double bandwidth = 0; // bytes/s
  double latency = 0;   // seconds
  /// Both devices address the same memory: a transfer is a synchronisation
  /// (latency only), not a copy.
  bool sharedMemory = false;
};

struct Machine {
  std::string name;
  std::string description;
  std::vector<Device> devices;
  std::vector<Link> links;
  /// The device that owns the step's inputs and outputs.
  unsigned host = 0;
  /// Names of the memories that several devices share ("memory_pool").
  std::vector<std::string> pools;

  std::optional<unsigned> find(llvm::StringRef kind, int64_t index) const;
  /// The link joining two devices (either direction), if any.
  std::optional<size_t> linkBetween(unsigned a, unsigned b) const;
};

/// Parses a machine description; `source` names it in errors.
llvm::Expected<Machine> parseMachine(llvm::StringRef json,
                                     llvm::StringRef source);
/// A built-in preset by name (`host-cpu`, `edge-npu-pim`, `wafer-mesh`), or
/// a description file by path.
llvm::Expected<Machine> loadMachine(llvm::StringRef nameOrPath);
std::vector<std::string> presetNames();
/// The JSON text of a built-in preset, or empty.
llvm::StringRef presetText(llvm::StringRef name);

} // namespace mlir::llm

#endif // LLMC_TARGETS_COMMON_TARGETDESCRIPTION_H
