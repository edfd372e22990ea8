//===- HostTensor.h - constant tensors the importer evaluates ---*- C++ -*-===//
//
// A tensor held on the host while importing: ONNX initializers, Constant
// nodes, and everything computed from them alone (shape plumbing, masks,
// rotary tables). The data is a view into memory kept alive by `owner`, so
// an initializer is never copied on its way into a dense_resource blob.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_IMPORT_HOSTTENSOR_H
#define LLMC_LIB_IMPORT_HOSTTENSOR_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <memory>
#include <optional>

namespace llmc::onnx_import {

/// Element types the importer handles, with ONNX's TensorProto codes.
enum class DType : int {
  F32 = 1,
  U8 = 2,
  I8 = 3,
  I16 = 5,
  I32 = 6,
  I64 = 7,
  Bool = 9,
  F16 = 10,
  F64 = 11,
  BF16 = 16,
};

/// The DType of an ONNX TensorProto data type code, if supported.
std::optional<DType> dtypeFromOnnx(int code);
const char *dtypeName(DType dtype);
size_t dtypeSize(DType dtype);
bool isFloat(DType dtype);
mlir::Type toMlirType(DType dtype, mlir::MLIRContext *ctx);
std::optional<DType> dtypeFromMlir(mlir::Type type);

class HostTensor {
public:
  HostTensor() = default;
  /// A view of `bytes` (kept alive by `owner`), row-major.
  HostTensor(DType dtype, llvm::ArrayRef<int64_t> shape,
             llvm::ArrayRef<char> bytes, std::shared_ptr<const void> owner);
  /// A zero-filled tensor that owns its storage.
  static HostTensor zeros(DType dtype, llvm::ArrayRef<int64_t> shape);

  DType dtype() const { return type; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }
  int64_t rank() const { return dims.size(); }
  int64_t numel() const;
  llvm::ArrayRef<char> bytes() const { return data; }
  const std::shared_ptr<const void> &owner() const { return keepAlive; }

  /// Element `i` (row-major) converted to double / int64. Bool reads 0/1.
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// Writes element `i`; only on tensors made by zeros().
  void setDouble(int64_t i, double v);
  void setInt(int64_t i, int64_t v);

  /// All elements as int64 (for shape-like inputs).
  llvm::SmallVector<int64_t> toInts() const;
  /// True if every element equals the first one.
  bool isSplat() const;

  /// The same data under another shape of the same element count.
  HostTensor reshaped(llvm::ArrayRef<int64_t> shape) const;

  /// The bytes to write into; only on tensors made by zeros().
  char *mutableData();

private:
  DType type = DType::F32;
  llvm::SmallVector<int64_t, 4> dims;
  llvm::ArrayRef<char> data;
  std::shared_ptr<const void> keepAlive;
  bool owned = false;
};

/// Row-major strides of a shape.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_HOSTTENSOR_H
