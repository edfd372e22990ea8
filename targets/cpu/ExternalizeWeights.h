//===- ExternalizeWeights.h - constants into a weights buffer --*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_EXTERNALIZEWEIGHTS_H
#define LLMC_TARGETS_CPU_EXTERNALIZEWEIGHTS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mlir::llm::cpu {

/// One constant moved into the weights buffer.
struct WeightTensor {
  std::string name;  // from the constant's location, or w<index>
  std::string dtype; // dtypeName of the element type
  SmallVector<int64_t> shape;
  int64_t offset = 0;  // in bytes, a multiple of kWeightAlignment
  ArrayRef<char> data; // owned by the attribute (the MLIRContext)
};

struct WeightsLayout {
  std::vector<WeightTensor> tensors;
  int64_t totalBytes = 0;
};

/// The artifact's name of an element type (manifest dtypes): f32, f16, bf16,
/// f64, iN / uN, index; any other type as MLIR prints it.
std::string dtypeName(Type type);

/// Weights start on cache-line (and AVX-512 vector) boundaries.
constexpr int64_t kWeightAlignment = 64;

/// Replaces every tensor constant of at least `minBytes` bytes (not splat,
/// byte-sized elements) in the public functions of `module` by a view into
/// a new last argument `memref<?xi8> {llm.role = "weights"}` read with
/// `bufferization.to_tensor restrict`; identical constants share one
/// entry. Offsets follow the order the constants are met, so the layout is
/// deterministic.
FailureOr<WeightsLayout> externalizeWeights(ModuleOp module, int64_t minBytes);

/// The `llm.role` of the weights argument.
constexpr const char *kWeightsRole = "weights";

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_EXTERNALIZEWEIGHTS_H
