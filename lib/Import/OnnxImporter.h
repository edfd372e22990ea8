//===- OnnxImporter.h - ONNX model -> llm/upstream MLIR ---------*- C++ -*-===//
//
// The entry point of llmc's ONNX frontend. Reads a ModelProto (with weights
// inline or in external data files), specialises input shapes when asked,
// evaluates everything computable from constants on the host (so that the
// shape plumbing of exported graphs disappears), and builds one func.func
// whose ops are llm ops and upstream tensor/linalg/arith/math ops.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_IMPORT_ONNXIMPORTER_H
#define LLMC_LIB_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace llmc {

struct OnnxImportOptions {
  /// Static shapes for graph inputs, by input name (e.g. input_ids -> {1, 8}).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Values for symbolic dimensions, by dim_param name (e.g. seq -> 8).
  llvm::StringMap<int64_t> dimValues;
  /// Name of the function to create.
  std::string functionName = "main";
  /// Weights (initializers) with more elements than this become
  /// dense_resource blobs.
  int64_t inlineElementLimit = 16;
  /// The same for constants computed during import (masks, index tables).
  int64_t computedInlineElementLimit = 4096;
  /// Results of host evaluation larger than this stay IR ops.
  int64_t hostEvaluationLimit = int64_t(1) << 24;
};

/// Parses "name=1x8" into `options.inputShapes`; "name=8" with a name that
/// is not an input is a dim_param value. Returns an error message on
/// malformed text.
std::string parseInputShapeSpec(llvm::StringRef spec,
                                OnnxImportOptions &options);

/// Imports the ONNX model at `path`. Errors are reported through the
/// context's diagnostic engine (located at the ONNX node) and yield null.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *ctx, llvm::StringRef path,
               const OnnxImportOptions &options);

/// The same for a model held in memory; external data files are looked up
/// relative to `baseDir`.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(mlir::MLIRContext *ctx, llvm::StringRef bytes,
                 llvm::StringRef baseDir, llvm::StringRef displayName,
                 const OnnxImportOptions &options);

/// The ONNX ops the importer handles, as "domain::OpType since N" lines
/// (domain empty for ai.onnx), sorted.
std::vector<std::string> supportedOnnxOps();

/// Adds the dialects the importer creates ops of.
void registerOnnxImportDialects(mlir::DialectRegistry &registry);

} // namespace llmc

#endif // LLMC_LIB_IMPORT_ONNXIMPORTER_H
