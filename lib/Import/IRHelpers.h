//===- IRHelpers.h - IR building blocks shared by op handlers ---*- C++ -*-===//

#ifndef LLMC_LIB_IMPORT_IRHELPERS_H
#define LLMC_LIB_IMPORT_IRHELPERS_H

#include "lib/Import/NodeContext.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace llmc::onnx_import {

/// NumPy (ONNX multidirectional) broadcast of two shapes; dynamic dims stay
/// dynamic unless the other side fixes them. Fails when incompatible.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShape(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// Sizes of `v` as OpFoldResults (constants for static dims, traced sizes
/// where llm::traceDimSize finds them, tensor.dim otherwise).
llvm::SmallVector<mlir::OpFoldResult>
mixedSizes(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// tensor.empty of `type` with the dynamic sizes taken from `sizes`.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// A tensor of `type` filled with `value` (a splat constant when static).
mlir::Value splat(mlir::OpBuilder &b, mlir::Location loc,
                  mlir::RankedTensorType type, double value,
                  llvm::ArrayRef<mlir::OpFoldResult> sizes = {});

/// Broadcasts `v` to `shape` (its rank may be lower: leading dims are
/// added). `sizes` gives the result sizes, needed for dynamic dims.
mlir::Value broadcastTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                        llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<mlir::OpFoldResult> sizes);

/// The inputs `indices` of a node broadcast to `shape`, their common shape
/// (from broadcastShape). Splat host constants become splat constants of it.
llvm::SmallVector<mlir::Value> broadcastInputs(NodeContext &ctx,
                                               llvm::ArrayRef<int> indices,
                                               llvm::ArrayRef<int64_t> shape);

/// Static reshape through collapse_shape/expand_shape.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> shape);

/// linalg.transpose with ONNX's perm.
mlir::Value transpose(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                      llvm::ArrayRef<int64_t> perm);

/// ONNX's elementwise binary arithmetic.
enum class Binary { Add, Sub, Mul, Div, Pow, Max, Min };

/// `op` on float or signless-integer operands, scalars or tensors alike;
/// `isUnsigned` picks the unsigned division, minimum and maximum.
mlir::Value buildArith(mlir::OpBuilder &b, mlir::Location loc, Binary op,
                       mlir::Value x, mlir::Value y, bool isUnsigned);

/// The same bits with a signless integer element type (ui8 -> i8).
mlir::Value toSignless(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// Elementwise conversion to `elementType` (arith casts on tensors); unsigned
/// integer types convert as unsigned.
mlir::Value convertElements(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value v, mlir::Type elementType);

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_IRHELPERS_H
