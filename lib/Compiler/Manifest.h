//===- Manifest.h - the artifact's JSON manifest ----------------*- C++ -*-===//

#ifndef LLMC_LIB_COMPILER_MANIFEST_H
#define LLMC_LIB_COMPILER_MANIFEST_H

#include "targets/cpu/CodeGen.h"
#include "targets/cpu/ExternalizeWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/JSON.h"

namespace llmc {

/// The argument list of an entry point in the runtime's calling
/// convention (after llm-cpu-entry-abi): role, name, layer, kind (buffer or
/// scalar), dtype and shape (-1 for a dynamic size) of each argument.
llvm::json::Array describeArguments(mlir::func::FuncOp fn);

/// The whole manifest. `generate` says whether `fn` is a KV-cache step
/// function (prefill and decode entry points, kv_cache and model
/// sections) or a plain function (one entry point named after it).
llvm::json::Object buildManifest(mlir::func::FuncOp fn, bool generate,
                                 llvm::StringRef source,
                                 const mlir::llm::cpu::CpuTargetInfo &target,
                                 const mlir::llm::cpu::WeightsLayout &weights,
                                 llvm::StringRef prefillFunction = "");

} // namespace llmc

#endif // LLMC_LIB_COMPILER_MANIFEST_H
