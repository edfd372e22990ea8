//===- Artifact.h - a mapped, validated .llmc artifact ----------*- C++ -*-===//

#ifndef LLMC_RUNTIME_ARTIFACT_H
#define LLMC_RUNTIME_ARTIFACT_H

#include "runtime/DeviceExecutor.h"
#include "runtime/Manifest.h"

#include <memory>
#include <string>

namespace llmc::runtime {

/// `void llmc_packed_<entry>(void **args)`: args[i] points at the i-th
/// argument (a memref descriptor, or a scalar's value).
using PackedEntry = void (*)(void **);

class Artifact {
public:
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  /// Maps `path` and checks everything before any code runs.
  static llmc_status open(const std::string &path,
                          std::unique_ptr<Artifact> &out);

  /// The same for bytes in memory, copied into a private mapping.
  static llmc_status openBuffer(const void *data, size_t size,
                                std::unique_ptr<Artifact> &out);

  const Manifest &manifest() const { return manifest_; }
  /// The weights section (64-byte aligned), manifest().weightsBytes long.
  const uint8_t *weights() const { return weights_; }
  /// The loaded entry point of `entry`.
  PackedEntry function(const EntryPoint &entry) const;
  /// The NPU and PIM programs the code calls (empty for a CPU artifact).
  DeviceExecutor &devices() const { return devices_; }

private:
  Artifact() = default;
  llmc_status load(const std::string &path);
  /// Checks the mapped bytes (map_, mapSize_) and loads the code.
  llmc_status validate(const std::string &name);
  llmc_status loadCode(const uint8_t *elf, uint64_t size);
  /// Copies large weights into anonymous memory backed by huge pages.
  void moveWeightsToHugePages();

  Manifest manifest_;
  void *map_ = nullptr;
  size_t mapSize_ = 0;
  const uint8_t *weights_ = nullptr;
  void *hugeWeights_ = nullptr; // owned copy of the weights, or null
  size_t hugeWeightsSize_ = 0;
  void *library_ = nullptr;
  int codeFd_ = -1; // the in-memory file the code was loaded from
  std::vector<std::pair<std::string, PackedEntry>> functions_;
  mutable DeviceExecutor devices_;
};

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_ARTIFACT_H
