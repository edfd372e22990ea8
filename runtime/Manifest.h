//===- Manifest.h - the artifact manifest, parsed and checked ---*- C++ -*-===//

#ifndef LLMC_RUNTIME_MANIFEST_H
#define LLMC_RUNTIME_MANIFEST_H

#include "llmc/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::runtime {

/// One argument of an entry point, in call order.
struct ArgumentSpec {
  std::string role; // input, position, kv_mask, key_cache, value_cache,
                    // weights, output
  std::string name; // the model tensor name, if any
  int64_t layer = -1;
  bool buffer = true; // a memref descriptor, else a scalar
  std::string dtype;
  std::vector<int64_t> shape; // -1: dynamic
};

struct EntryPoint {
  std::string name, symbol;
  std::vector<ArgumentSpec> args;
};

struct WeightSpec {
  std::string name, dtype;
  uint64_t offset = 0, bytes = 0;
};

/// A device program of the device programs section (in order).
struct DeviceProgramSpec {
  std::string device; // the target kind: npu, pim
  int64_t deviceIndex = 0;
  std::string ops, shape; // what it computes, for reports
  /// The device cost model's estimate for one row (compile time).
  double decodeEstimateSeconds = 0;
};

struct Manifest {
  std::vector<EntryPoint> entryPoints;
  std::vector<WeightSpec> weights;
  uint64_t weightsBytes = 0;
  // Generative models only.
  bool generative = false;
  int64_t layers = 0, kvHeads = 0, headDim = 0, vocab = -1;
  int64_t maxPositions = -1;
  /// Bits per KV cache element: 32 (f32), or 8/4 for signed codes with a
  /// scale per (batch, head, position) in key_scale/value_scale arguments.
  int64_t kvBits = 32;
  /// The LLVM feature string the CPU code was compiled for (may be empty).
  std::string cpuFeatures;
  /// Compiled for a machine with devices: its name and the programs.
  std::string machine;
  std::vector<DeviceProgramSpec> devicePrograms;

  const EntryPoint *find(const std::string &name) const;
};

/// Parses and checks the manifest's JSON: every field the runtime uses is
/// present with the right type, sizes are non-negative. Errors name the
/// field.
llmc_status parseManifest(const char *data, size_t size, Manifest &out);

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_MANIFEST_H
