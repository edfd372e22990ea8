//===- GraphImporter.h - walks one ONNX graph into a function ---*- C++ -*-===//

#ifndef LLMC_LIB_IMPORT_GRAPHIMPORTER_H
#define LLMC_LIB_IMPORT_GRAPHIMPORTER_H

#include "lib/Import/NodeContext.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace llmc::onnx_import {

/// Opsets of the default domain llmc accepts.
constexpr int kMinOpset = 13;
constexpr int kMaxOpset = 17;

class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext *ctx, std::shared_ptr<onnx::ModelProto> model,
                llvm::StringRef baseDir, llvm::StringRef displayName,
                const OnnxImportOptions &options);

  mlir::OwningOpRef<mlir::ModuleOp> run();

  const OnnxImportOptions &options() const { return opts; }
  /// The value named `name`, or null when nothing defines it yet.
  ImportedValue *lookup(const std::string &name);
  void define(const std::string &name, ImportedValue value);
  mlir::Value materialize(mlir::OpBuilder &b, mlir::Location loc,
                          const HostTensor &tensor, llvm::StringRef name);
  mlir::Value valueOf(ImportedValue &value, mlir::OpBuilder &b,
                      mlir::Location loc, llvm::StringRef name);
  /// Shared `index` value for dimension `d` of run-time tensor `v`.
  mlir::OpFoldResult dimSize(mlir::OpBuilder &b, mlir::Value v, int64_t d);
  /// Reads a TensorProto (initializer or attribute) into a host tensor.
  mlir::FailureOr<HostTensor> loadTensor(onnx::TensorProto &tensor,
                                         mlir::Location loc);

private:
  mlir::LogicalResult checkOpsets(mlir::Location loc);
  mlir::FailureOr<mlir::RankedTensorType>
  inputType(const onnx::ValueInfoProto &info, mlir::Location loc);
  mlir::LogicalResult importNode(const onnx::NodeProto &node,
                                 mlir::OpBuilder &b);
  /// The bytes of `tensor` (whose element type, shape and byte size
  /// loadTensor has checked) from its external data file.
  mlir::FailureOr<HostTensor> loadExternal(onnx::TensorProto &tensor,
                                           mlir::Location loc, DType dtype,
                                           llvm::ArrayRef<int64_t> shape,
                                           int64_t bytes);
  mlir::Location nodeLoc(const onnx::NodeProto &node);

  mlir::MLIRContext *ctx;
  std::shared_ptr<onnx::ModelProto> model;
  std::string baseDir;
  std::string displayName;
  const OnnxImportOptions &opts;
  llvm::StringMap<int> opsets; // domain -> version
  llvm::StringMap<ImportedValue> values;
  llvm::StringSet<> initializerNames;
  llvm::DenseMap<std::pair<mlir::Value, int64_t>, mlir::Value> dimValues;
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> externalFiles;
};

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_GRAPHIMPORTER_H
