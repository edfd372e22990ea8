//===- KVPrediction.h - set up KV prediction in a compilation ---*- C++ -*-===//
//
// llm-compile --kv-predict-aux: imports the auxiliary model beside the base
// model's step function, brings in the KV predictor, and writes the
// prefill entry point (llm-kv-predict).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_COMPILER_KVPREDICTION_H
#define LLMC_LIB_COMPILER_KVPREDICTION_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace llmc {

struct CompileOptions;

/// The name of the prefill entry point KV prediction writes.
inline constexpr llvm::StringLiteral kPredictedPrefill = "llmc_prefill";

/// The default layer map: base layer l reads auxiliary layer
/// l·auxLayers/baseLayers (every second layer for a half-depth model).
std::vector<int64_t> proportionalLayerMap(int64_t baseLayers,
                                          int64_t auxLayers);

/// Adds `@llmc_prefill` to `module` (which holds the base model's
/// `@llmc_step`) from the options' auxiliary model, layer map and
/// predictor. Diagnostics go to the context.
mlir::LogicalResult addKVPrediction(mlir::ModuleOp module,
                                    const CompileOptions &options);

} // namespace llmc

#endif // LLMC_LIB_COMPILER_KVPREDICTION_H
