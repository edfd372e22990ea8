//===- NodeContext.h - what an ONNX op handler sees -------------*- C++ -*-===//
//
// One small handler per ONNX op (like torch-mlir's OpBinder): it reads its
// inputs (host constants or SSA values) and attributes through a
// NodeContext and sets its outputs. Handlers compute on the host when every
// input they need is a constant, and build IR otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_IMPORT_NODECONTEXT_H
#define LLMC_LIB_IMPORT_NODECONTEXT_H

#include "lib/Import/HostTensor.h"
#include "lib/Import/OnnxImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Support/LogicalResult.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <optional>
#include <string>

namespace llmc::onnx_import {

/// A small integer tensor (rank 0 or 1) whose elements are known one by one
/// as constants or `index` SSA values: the shape plumbing of an export with
/// dynamic dims (Shape, Gather, Concat, ... of sizes). Kept symbolic so that
/// reshapes, slices and broadcasts get their sizes without tensors of sizes.
struct SymbolicInts {
  DType dtype = DType::I64;
  bool scalar = false;
  llvm::SmallVector<mlir::OpFoldResult> elements;
  bool allConstant() const;
  llvm::SmallVector<int64_t> staticShape() const {
    return scalar ? llvm::SmallVector<int64_t>{}
                  : llvm::SmallVector<int64_t>{
                        static_cast<int64_t>(elements.size())};
  }
};

/// One ONNX value: an SSA value, a host constant, symbolic sizes, or an SSA
/// value together with one of the others (constants and symbolic sizes get
/// their SSA value the first time an IR op needs it).
struct ImportedValue {
  mlir::Value value;
  std::optional<HostTensor> constant;
  std::optional<SymbolicInts> symbolic;
};

class GraphImporter;

class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node, int opset,
              mlir::OpBuilder &builder, mlir::Location loc);

  const onnx::NodeProto &node() const { return nodeProto; }
  int opset() const { return opsetVersion; }
  mlir::OpBuilder &builder() { return b; }
  mlir::Location loc() const { return location; }
  mlir::MLIRContext *context() { return b.getContext(); }
  const OnnxImportOptions &options() const;

  // Inputs. An input that is absent or named "" is not present.
  int numInputs() const { return nodeProto.input_size(); }
  bool hasInput(int i) const;
  /// The host constant of input `i`, or null when it is computed at run time.
  const HostTensor *constant(int i);
  /// The SSA value of input `i` (materializing a constant if needed).
  mlir::Value value(int i);
  mlir::RankedTensorType type(int i);
  /// True when every present input is a host constant.
  bool allConstant();
  /// Input `i` as symbolic integers when it is a small integer constant or
  /// symbolic sizes (rank <= 1).
  std::optional<SymbolicInts> ints(int i);
  /// The size of dimension `d` of a run-time tensor, as an index value
  /// (shared between all uses of the same tensor and dimension).
  mlir::OpFoldResult dimSize(mlir::Value v, int64_t d);

  // Attributes.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t defaultValue) const;
  float floatAttr(llvm::StringRef name, float defaultValue) const;
  std::string stringAttr(llvm::StringRef name,
                         llvm::StringRef defaultValue) const;
  std::optional<llvm::SmallVector<int64_t>>
  intsAttr(llvm::StringRef name) const;
  /// A tensor-valued attribute (e.g. Constant's `value`) as a host tensor.
  mlir::FailureOr<HostTensor> tensorAttr(const onnx::AttributeProto &attr);

  // Outputs.
  int numOutputs() const { return nodeProto.output_size(); }
  void setOutput(int i, mlir::Value value);
  void setOutput(int i, HostTensor constant);
  /// Symbolic sizes; all-constant ones are stored as a host constant.
  void setOutput(int i, SymbolicInts ints);

  /// Emits "<OpType> node '<name>': <message>" at the node and fails.
  mlir::LogicalResult emitError(const llvm::Twine &message);
  /// Fails unless input `i` is present.
  mlir::LogicalResult requireInput(int i, llvm::StringRef what);
  /// Fails unless inputs 0..names.size()-1 are all present.
  mlir::LogicalResult requireInputs(llvm::ArrayRef<llvm::StringRef> names);
  /// Fails unless input `i` has a floating-point element type.
  mlir::LogicalResult requireFloat(int i, llvm::StringRef what);
  /// Fails when optional input `i` (`what`) is given: a form llmc does not
  /// import.
  mlir::LogicalResult refuseInput(int i, llvm::StringRef what);
  /// Fails when output `i` (`what`) is wanted (named).
  mlir::LogicalResult refuseOutput(int i, llvm::StringRef what);
  /// Host constant of input `i` or an error saying that `what` must be one.
  mlir::FailureOr<const HostTensor *> requireConstant(int i,
                                                      llvm::StringRef what);
  /// An in-range axis for rank `rank`, normalising negative values.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);
  /// Whether host evaluation of a result with `numel` elements is allowed.
  bool mayEvaluate(int64_t numel) const;

  /// Creates the IR constant for a host tensor; `name` keys its blob
  /// (default: the node's first output).
  mlir::Value materialize(const HostTensor &tensor, llvm::StringRef name = {});

private:
  ImportedValue *input(int i);

  GraphImporter &importer;
  const onnx::NodeProto &nodeProto;
  int opsetVersion;
  mlir::OpBuilder &b;
  mlir::Location location;
};

/// ONNX Runtime's contrib operator domain.
inline constexpr llvm::StringLiteral kMicrosoftDomain = "com.microsoft";

using OpImportFn = std::function<mlir::LogicalResult(NodeContext &)>;

/// Handlers by (domain, op type), each with the opset version its semantics
/// start at; a model uses the newest handler not newer than its opset.
class OpRegistry {
public:
  void add(llvm::StringRef domain, llvm::StringRef opType, int sinceVersion,
           OpImportFn fn);
  void add(llvm::StringRef opType, int sinceVersion, OpImportFn fn) {
    add("", opType, sinceVersion, std::move(fn));
  }

  struct Lookup {
    const OpImportFn *fn = nullptr;
    /// When no handler applies: the oldest version llmc handles (0 if the
    /// op is unknown altogether).
    int oldestSupported = 0;
  };
  Lookup lookup(llvm::StringRef domain, llvm::StringRef opType,
                int opset) const;

  /// "domain OpType since v1,v2" for every registered op, sorted.
  std::vector<std::string> names() const;

  static const OpRegistry &get();

private:
  struct Entry {
    int since;
    OpImportFn fn;
  };
  llvm::StringMap<std::vector<Entry>> entries; // key: domain + "::" + op
};

void registerElementwiseOps(OpRegistry &registry);
void registerShapeOps(OpRegistry &registry);
void registerNNOps(OpRegistry &registry);
void registerReductionOps(OpRegistry &registry);
void registerIndexingOps(OpRegistry &registry);
void registerQuantizationOps(OpRegistry &registry);
void registerContribNormOps(OpRegistry &registry);
void registerContribAttentionOps(OpRegistry &registry);
void registerMatMulNBits(OpRegistry &registry);

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_NODECONTEXT_H
