//===- SymbolicInts.h - arithmetic on symbolic sizes ------------*- C++ -*-===//

#ifndef LLMC_LIB_IMPORT_SYMBOLICINTS_H
#define LLMC_LIB_IMPORT_SYMBOLICINTS_H

#include "lib/Import/NodeContext.h"

namespace llmc::onnx_import {

enum class IntOp { Add, Sub, Mul, Div, Min, Max };

/// a `op` b on index values, folded when both are constants.
mlir::OpFoldResult foldIntOp(mlir::OpBuilder &b, mlir::Location loc, IntOp op,
                             mlir::OpFoldResult lhs, mlir::OpFoldResult rhs);

/// Elementwise `op` of two rank <= 1 symbolic tensors (scalars broadcast).
std::optional<SymbolicInts> combineInts(mlir::OpBuilder &b, mlir::Location loc,
                                        IntOp op, const SymbolicInts &lhs,
                                        const SymbolicInts &rhs);

/// The symbolic value of a rank <= 1 integer input to be used as sizes or
/// indices, with an error naming `what` when it is not available.
mlir::FailureOr<SymbolicInts> requireInts(NodeContext &ctx, int input,
                                          llvm::StringRef what);

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_SYMBOLICINTS_H
