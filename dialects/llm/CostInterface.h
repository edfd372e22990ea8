//===- CostInterface.h - work counts of operations -------------*- C++ -*-===//

#ifndef LLMC_DIALECTS_LLM_COSTINTERFACE_H
#define LLMC_DIALECTS_LLM_COSTINTERFACE_H

#include "dialects/llm/OpCost.h"

#include "mlir/IR/OpDefinition.h"

#include <optional>

namespace mlir::llm {

/// Size of dimension `d` of a value, dynamic sizes bound by the caller.
using DimSizeFn = llvm::function_ref<int64_t(Value, int64_t)>;

/// Number of elements of a ranked tensor value under `dimSize`.
double numElements(Value v, DimSizeFn dimSize);
/// Bytes of a ranked tensor value under `dimSize`.
double numBytes(Value v, DimSizeFn dimSize);
/// Whether `v` is known at compile time: a constant, or computed only from
/// constants (a transposed weight). Such values are weights, not activations.
bool isCompileTimeValue(Value v);

/// The work of `op`: its CostOpInterface for llm ops, built-in counts for the
/// upstream ops that compute on tensors (elementwise arith, linalg, slices
/// written into a cache, concats). std::nullopt for ops that move no data:
/// views (reshapes, extract_slice), tensor.empty, scalar arithmetic,
/// constants and ops whose operands are all compile-time values.
std::optional<OpCost> estimateOpCost(Operation *op, DimSizeFn dimSize);

} // namespace mlir::llm

#include "dialects/llm/CostInterface.h.inc"

#endif // LLMC_DIALECTS_LLM_COSTINTERFACE_H
