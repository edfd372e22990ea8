//===- llm-translate.cpp - llmc's translations
//-----------------------------===//
//
// mlir-translate with llmc's ONNX importer:
//   llm-translate --import-onnx model.onnx [--input-shape input_ids=1x8]
//   llm-translate --list-onnx-ops
// Weights become dense_resource blobs; they are elided from the printed IR
// unless --mlir-elide-resource-strings-if-larger is given explicitly.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/OnnxImporter.h"
#include "lib/Registration/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <string>
#include <vector>

using namespace mlir;

static llvm::cl::list<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("Specialise a graph input (NAME=DIMxDIM..., e.g. "
                   "input_ids=1x8) or a symbolic dimension (NAME=N)"),
    llvm::cl::CommaSeparated);

static void registerImportOnnx() {
  TranslateToMLIRRegistration reg(
      "import-onnx", "import an ONNX model into the llm dialect",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        llmc::OnnxImportOptions options;
        for (const std::string &spec : inputShapes) {
          std::string error = llmc::parseInputShapeSpec(spec, options);
          if (!error.empty()) {
            emitError(UnknownLoc::get(ctx)) << "--input-shape: " << error;
            return nullptr;
          }
        }
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        StringRef name = buffer->getBufferIdentifier();
        OwningOpRef<ModuleOp> module = llmc::importOnnxBuffer(
            ctx, buffer->getBuffer(), llvm::sys::path::parent_path(name), name,
            options);
        return OwningOpRef<Operation *>(module.release());
      },
      [](DialectRegistry &registry) {
        llmc::registerOnnxImportDialects(registry);
        llmc::registerDialects(registry);
      });
}

int main(int argc, char **argv) {
  // --list-onnx-ops: the importer's coverage, one op per line.
  for (int i = 1; i < argc; ++i)
    if (StringRef(argv[i]) == "--list-onnx-ops") {
      for (const std::string &op : llmc::supportedOnnxOps())
        llvm::outs() << op << "\n";
      return 0;
    }
  registerImportOnnx();
  // Weight blobs over 64 bytes print without their bytes (MLIR's resource
  // elision) unless the user sets the flag: imported IR is for reading.
  std::vector<char *> args(argv, argv + argc);
  bool explicitElision = false;
  for (int i = 1; i < argc; ++i)
    explicitElision |= StringRef(argv[i]).starts_with(
        "--mlir-elide-resource-strings-if-larger");
  std::string elide = "--mlir-elide-resource-strings-if-larger=64";
  if (!explicitElision)
    args.push_back(elide.data());
  return failed(mlirTranslateMain(static_cast<int>(args.size()), args.data(),
                                  "llmc translation driver"));
}
