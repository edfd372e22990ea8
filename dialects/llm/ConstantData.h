//===- ConstantData.h - the bytes of tensor constants -----------*- C++ -*-===//
//
// Weights reach llmc as dense_resource blobs (or dense attributes for small
// ones); passes that move or re-lay them out work on their raw bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_CONSTANTDATA_H
#define LLMC_DIALECTS_LLM_CONSTANTDATA_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"

#include <optional>

namespace mlir::llm {

/// The row-major bytes of a non-splat dense or dense_resource constant, or
/// nothing (a splat, elided resource data).
std::optional<ArrayRef<char>> constantBytes(ElementsAttr attr);

/// A dense_resource constant of `type` holding `bytes` (row-major, whole
/// bytes per element) under the resource name `name`.
Value bytesConstant(OpBuilder &builder, Location loc, RankedTensorType type,
                    StringRef name, ArrayRef<char> bytes);

/// The resource name of a dense_resource constant, or `fallback`.
std::string constantName(arith::ConstantOp constant, StringRef fallback);

/// A new dense_resource constant of `shape` (named after the source's
/// resource with `suffix`) whose element at each index is the source's
/// element at `sourceIndex(index)` (a row-major linear index), or zero when
/// that is negative (padding). Null when the source's bytes are not
/// available or its elements are not whole bytes.
Value relayoutConstant(
    OpBuilder &builder, Location loc, arith::ConstantOp constant,
    ArrayRef<int64_t> shape,
    function_ref<int64_t(ArrayRef<int64_t> index)> sourceIndex,
    StringRef suffix);

/// A 2-D constant [A, B] transposed to [B, A] as a new dense_resource
/// constant (named after the source's resource with `suffix`), or null
/// when its bytes are not available or elements are not whole bytes.
Value transposeConstant(OpBuilder &builder, Location loc,
                        arith::ConstantOp constant, StringRef suffix);

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_CONSTANTDATA_H
