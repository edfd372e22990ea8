//===- ActivationPatterns.cpp - raising SiLU and GELU
//----------------------===//

#include "passes/raise/Matchers.h"
#include "passes/raise/RaisePatterns.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::raise;

namespace {

/// v == sigmoid(x) = 1 / (1 + exp(-x)); returns x.
Value matchSigmoid(Value v) {
  auto div = v.getDefiningOp<arith::DivFOp>();
  if (!div || !isSplat(div.getLhs(), 1.0))
    return {};
  Value one, e;
  if (!matchCommutative<arith::AddFOp>(
          div.getRhs(), [](Value a) { return isSplat(a, 1.0); }, one, e))
    return {};
  auto exp = e.getDefiningOp<math::ExpOp>();
  auto neg = exp ? exp.getOperand().getDefiningOp<arith::NegFOp>() : nullptr;
  return neg ? neg.getOperand() : Value();
}

/// x * sigmoid(x) -> llm.silu x.
struct RaiseSiLU : OpRewritePattern<arith::MulFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::MulFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    for (int i = 0; i < 2; ++i) {
      Value x = op->getOperand(i);
      if (matchSigmoid(op->getOperand(1 - i)) == x &&
          x.getType() == op.getType()) {
        rewriter.replaceOpWithNewOp<SiluOp>(op, x);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(op, "not x * sigmoid(x)");
  }
};

/// The factors of a product tree (through single-use multiplications).
void collectFactors(Value v, SmallVectorImpl<Value> &factors, int depth = 0) {
  auto mul = v.getDefiningOp<arith::MulFOp>();
  if (mul && depth < 3 && (depth == 0 || mul->hasOneUse())) {
    collectFactors(mul.getLhs(), factors, depth + 1);
    collectFactors(mul.getRhs(), factors, depth + 1);
    return;
  }
  factors.push_back(v);
}

/// v == x * c or x / (1/c) for a splat c; returns x.
Value matchScaled(Value v, double c) {
  if (auto div = v.getDefiningOp<arith::DivFOp>())
    return isSplat(div.getRhs(), 1.0 / c, 1e-5) ? div.getLhs() : Value();
  Value k, x;
  if (matchCommutative<arith::MulFOp>(
          v, [&](Value a) { return isSplat(a, c, 1e-5); }, k, x))
    return x;
  return {};
}

/// `1 + f(y)` with f = erf or tanh; returns y.
template <typename FnOp> Value matchOnePlus(Value v) {
  Value one, e;
  if (!matchCommutative<arith::AddFOp>(
          v, [](Value a) { return isSplat(a, 1.0); }, one, e))
    return {};
  auto fn = e.getDefiningOp<FnOp>();
  return fn ? fn.getOperand() : Value();
}

/// y == x + 0.044715 * x^3; returns x.
Value matchCubicTerm(Value y) {
  auto add = y.getDefiningOp<arith::AddFOp>();
  if (!add)
    return {};
  for (int i = 0; i < 2; ++i) {
    Value x = add->getOperand(i);
    Value cube = matchScaled(add->getOperand(1 - i), 0.044715);
    auto pow = cube ? cube.getDefiningOp<math::PowFOp>() : nullptr;
    if (pow && pow.getLhs() == x && isSplat(pow.getRhs(), 3.0))
      return x;
  }
  return {};
}

/// 0.5 * x * (1 + erf(x / sqrt(2)))            -> llm.gelu x
/// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) -> llm.gelu x tanh
struct RaiseGELU : OpRewritePattern<arith::MulFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::MulFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    SmallVector<Value> factors;
    collectFactors(op.getResult(), factors);
    if (factors.size() != 3)
      return rewriter.notifyMatchFailure(op, "not a product of three factors");
    for (Value half : factors) {
      if (!isSplat(half, 0.5))
        continue;
      for (Value gate : factors) {
        for (Value x : factors) {
          if (x == half || x == gate || gate == half ||
              x.getType() != op.getType())
            continue;
          if (Value y = matchOnePlus<math::ErfOp>(gate);
              y && matchScaled(y, M_SQRT1_2) == x) {
            rewriter.replaceOpWithNewOp<GeluOp>(op, x, GeluApproximation::none);
            return success();
          }
          if (Value y = matchOnePlus<math::TanhOp>(gate)) {
            Value inner = matchScaled(y, std::sqrt(2.0 / M_PI));
            if (inner && matchCubicTerm(inner) == x) {
              rewriter.replaceOpWithNewOp<GeluOp>(op, x,
                                                  GeluApproximation::tanh);
              return success();
            }
          }
        }
      }
    }
    return rewriter.notifyMatchFailure(op, "not a GELU");
  }
};

} // namespace

void mlir::llm::raise::populateActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseSiLU, RaiseGELU>(patterns.getContext());
}
