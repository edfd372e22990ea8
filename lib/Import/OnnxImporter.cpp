//===- OnnxImporter.cpp - ONNX model -> llm/upstream MLIR -----------------===//

#include "lib/Import/OnnxImporter.h"
#include "lib/Import/GraphImporter.h"
#include "lib/Import/NodeContext.h"

#include "dialects/llm/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace llmc;
using namespace llmc::onnx_import;

void llmc::registerOnnxImportDialects(DialectRegistry &registry) {
  registry.insert<llm::LLMDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, tensor::TensorDialect,
                  linalg::LinalgDialect, scf::SCFDialect>();
}

std::vector<std::string> llmc::supportedOnnxOps() {
  return OpRegistry::get().names();
}

std::string llmc::parseInputShapeSpec(StringRef spec,
                                      OnnxImportOptions &options) {
  auto [name, dims] = spec.split('=');
  if (name.empty() || dims.empty())
    return ("expected NAME=DIMxDIM..., got '" + spec + "'").str();
  SmallVector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t d;
    if (part.getAsInteger(10, d) || d < 0)
      return ("invalid dimension '" + part + "' in '" + spec + "'").str();
    shape.push_back(d);
  }
  options.inputShapes[name] = shape;
  // A single number may also name a symbolic dimension (dim_param).
  if (shape.size() == 1)
    options.dimValues[name] = shape[0];
  return "";
}

OwningOpRef<ModuleOp> llmc::importOnnxFile(MLIRContext *ctx, StringRef path,
                                           const OnnxImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(ctx, path, 0, 0))
        << "cannot read ONNX model: " << buffer.getError().message();
    return nullptr;
  }
  return importOnnxBuffer(ctx, (*buffer)->getBuffer(),
                          llvm::sys::path::parent_path(path), path, options);
}

OwningOpRef<ModuleOp> llmc::importOnnxBuffer(MLIRContext *ctx, StringRef bytes,
                                             StringRef baseDir,
                                             StringRef displayName,
                                             const OnnxImportOptions &options) {
  DialectRegistry registry;
  registerOnnxImportDialects(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadAllAvailableDialects();

  auto model = std::make_shared<onnx::ModelProto>();
  Location fileLoc = FileLineColLoc::get(ctx, displayName, 0, 0);
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !model->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    emitError(fileLoc) << "not a valid ONNX model: the protobuf does not "
                          "parse (truncated or not an ONNX file)";
    return nullptr;
  }
  if (!model->has_graph() || model->ir_version() <= 0) {
    emitError(fileLoc) << "not a valid ONNX model: "
                       << (model->has_graph() ? "ir_version is missing"
                                              : "it has no graph");
    return nullptr;
  }
  GraphImporter importer(ctx, model, baseDir, displayName, options);
  return importer.run();
}
