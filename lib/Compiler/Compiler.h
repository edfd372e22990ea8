//===- Compiler.h - model file -> deployable artifact -----------*- C++ -*-===//
//
// The compiler as a library: import (ONNX or MLIR), raise, build the entry
// points, lower for the target, generate code and write the artifact. The C
// API (include/llmc-c/Compiler.h) and llm-compile are thin layers over it.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_COMPILER_COMPILER_H
#define LLMC_LIB_COMPILER_COMPILER_H

#include "targets/cpu/CodeGen.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <string>
#include <vector>

namespace llmc {

enum class EntryMode {
  /// Generate when the model has attention, else Function.
  Auto,
  /// prefill/decode step functions over a KV cache.
  Generate,
  /// The model function as it is, one call per inference.
  Function,
};

struct CompileOptions {
  std::string target = "cpu";
  mlir::llm::cpu::CpuCodeGenOptions codegen;
  EntryMode mode = EntryMode::Auto;
  /// Import-time shape specialisation, as llm-translate's --input-shape.
  std::vector<std::string> inputShapes;
  /// Constants from this size up go to the weights section.
  int64_t minWeightBytes = 256;
  /// Called with a short description as each long step starts.
  std::function<void(llvm::StringRef)> progress;
  /// A pass pipeline run on the raised model before anything else.
  std::string passes;
  /// When set: the placement report of the model on `placementTarget` for
  /// a prefill and a decode step (FILE.json → FILE.prefill.json/.html and
  /// FILE.decode.json/.html), made beside the compilation.
  std::string placementReport;
  std::string placementTarget = "host-cpu";
  int64_t placementBatch = 1, placementContext = 128;
  /// A weight quantization scheme (lib/Quant/Scheme.h), empty for f32.
  std::string quantize;
  /// With `quantize`: the per-layer weight error as JSON to this file.
  std::string quantReport;
  /// KV prediction: the auxiliary model (ONNX or llm IR) whose KV cache
  /// predicts the base model's at prefill; the base layer -> auxiliary
  /// layer map ("0,0,1,1"; empty: proportional); the predictor ("identity"
  /// or empty, or an MLIR file of @kv_predictor_{key,value}_<l>).
  std::string kvPredictAux, kvPredictLayers, kvPredictPredictor;
  /// When set: the time-to-first-token FLOPs of KV prediction against the
  /// base prefill, for a prompt of kvPredictReportTokens, as JSON.
  std::string kvPredictReport;
  int64_t kvPredictReportTokens = 128;
};

/// Reads a model file (ONNX, or MLIR text or bytecode by its extension;
/// ONNX external data beside it) into `ctx`, as compileModel does, with
/// the options' input shapes. Null, with a diagnostic, on failure.
mlir::OwningOpRef<mlir::ModuleOp> loadModelFile(mlir::MLIRContext &ctx,
                                                llvm::StringRef path,
                                                const CompileOptions &options);

/// Runs a textual pass pipeline on `module`; errors go to the context's
/// diagnostics.
mlir::LogicalResult runPipeline(mlir::ModuleOp module,
                                llvm::StringRef pipeline);

/// Registers every pass the compiler runs (upstream's and llmc's) with the
/// global registry. Idempotent; the compile functions call it.
void registerCompilerPasses();

/// Adds every dialect (and extension) the compiler works with, for callers
/// that set up their own context for compileModule.
void registerCompilerDialects(mlir::DialectRegistry &registry);

/// Compiles the model in `input` (an ONNX ModelProto, or MLIR text or
/// bytecode when `inputName` ends in .mlir/.mlirbc) into the bytes of an
/// artifact. External ONNX data is looked up relative to `baseDir`. On
/// failure, returns false with every diagnostic in `diagnostics`; nothing
/// is printed.
bool compileModel(llvm::StringRef input, llvm::StringRef inputName,
                  llvm::StringRef baseDir, const CompileOptions &options,
                  std::string &artifact, std::string &diagnostics);

/// Compiles an imported module (a public @main in the llm dialect and
/// upstream ops) into the bytes of an artifact; `source` names the model in
/// the manifest. The caller owns the context and its diagnostics; the
/// failing step is added to `diagnostics`. Used by compileModel and by
/// tools that import themselves (the conformance runner).
bool compileModule(mlir::ModuleOp module, llvm::StringRef source,
                   const CompileOptions &options, std::string &artifact,
                   std::string &diagnostics);

/// Reads `path` and compiles it; the same contract.
bool compileModelFile(llvm::StringRef path, const CompileOptions &options,
                      std::string &artifact, std::string &diagnostics);

} // namespace llmc

#endif // LLMC_LIB_COMPILER_COMPILER_H
