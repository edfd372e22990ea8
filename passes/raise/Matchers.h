//===- Matchers.h - looking through exporter plumbing -----------*- C++ -*-===//
//
// Exported graphs wrap every interesting value in broadcasts, unit-dim
// reshapes and splat constants. These helpers see through them so that the
// raising patterns can be written against the mathematics.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_RAISE_MATCHERS_H
#define LLMC_PASSES_RAISE_MATCHERS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace mlir::llm::raise {

/// The value before reshapes that only add or remove unit dimensions.
Value stripUnitReshapes(Value v);

/// The value before broadcasts (linalg.broadcast) and unit-dim reshapes.
Value stripBroadcast(Value v);

/// The smallest value along `v`'s chain of broadcasts and unit-dim
/// reshapes that denotes the same data under NumPy's right-aligned
/// broadcasting: every dim is tracked to the dim of `v` it fills, and a
/// candidate counts only if its non-unit dims sit where right alignment
/// puts them (a [B, S, D] table must not align its batch with the heads).
Value stripToAligned(Value v);

/// Non-unit dimensions of a shaped value, in order.
SmallVector<int64_t> nonUnitShape(Value v);

/// The splat value of a constant (seen through broadcasts), if any.
std::optional<double> getSplat(Value v);

/// True if `v` is a splat constant close to `expected`.
bool isSplat(Value v, double expected, double tolerance = 1e-6);

/// The elements of a floating-point constant held inline or in a loaded
/// dense_resource blob, row-major. False when not available.
bool getConstantFloats(Value v, SmallVectorImpl<APFloat> &values);

/// True if `v` (through broadcasts) is produced by arith.constant.
bool isConstant(Value v);

/// Matches `OpTy(a, b)` in either operand order: on success `first`
/// satisfies `pred` and `second` is the other operand.
template <typename OpTy, typename Pred>
bool matchCommutative(Value v, Pred pred, Value &first, Value &second) {
  auto op = v.getDefiningOp<OpTy>();
  if (!op)
    return false;
  for (int i = 0; i < 2; ++i) {
    Value a = op->getOperand(i), b = op->getOperand(1 - i);
    if (pred(a)) {
      first = a;
      second = b;
      return true;
    }
  }
  return false;
}

/// Matches a mean over the last dimension (linalg.reduce of addf over the
/// last dim divided by its size, optionally re-expanded); returns its input.
Value matchMeanOverLastDim(Value v);

/// Matches `1 / sqrt(t)` or `rsqrt(t)`; returns t.
Value matchInverseSqrt(Value v);

} // namespace mlir::llm::raise

#endif // LLMC_PASSES_RAISE_MATCHERS_H
