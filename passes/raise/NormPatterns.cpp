//===- NormPatterns.cpp - raising RMSNorm and LayerNorm
//---------------------===//
//
// RMSNorm as exported: x * (1 / sqrt(mean(x^2) + eps)) [* weight].
// LayerNorm decomposed (opsets < 17): d = x - mean(x);
// d / sqrt(mean(d^2) + eps) [* weight] [+ bias].
// The core is raised first; weight and bias multiplications/additions are
// then folded into the op, so the match does not depend on visiting order.
//
//===----------------------------------------------------------------------===//

#include "passes/raise/Matchers.h"
#include "passes/raise/RaisePatterns.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::raise;

namespace {

/// p == x^2 (powf by 2 or x * x); returns x.
Value matchSquare(Value p) {
  if (auto pow = p.getDefiningOp<math::PowFOp>())
    return isSplat(pow.getRhs(), 2.0) ? pow.getLhs() : Value();
  if (auto mul = p.getDefiningOp<arith::MulFOp>())
    return mul.getLhs() == mul.getRhs() ? mul.getLhs() : Value();
  return {};
}

/// t == mean(square(x)) + eps; returns x and sets eps.
Value matchMeanSquarePlusEps(Value t, double &eps) {
  Value meanValue, epsValue;
  auto isMean = [](Value v) {
    return static_cast<bool>(matchMeanOverLastDim(v));
  };
  if (!matchCommutative<arith::AddFOp>(stripUnitReshapes(t), isMean, meanValue,
                                       epsValue))
    return {};
  std::optional<double> e = getSplat(epsValue);
  if (!e)
    return {};
  eps = *e;
  return matchSquare(matchMeanOverLastDim(meanValue));
}

/// True if `v` broadcasts a per-feature [dim] vector; sets it.
bool matchFeatureVector(Value v, int64_t dim, Type element, Value &vector) {
  Value s = stripToAligned(v);
  auto type = dyn_cast<RankedTensorType>(s.getType());
  if (!type || type.getRank() != 1 || type.getDimSize(0) != dim ||
      type.getElementType() != element)
    return false;
  vector = s;
  return true;
}

/// x * inv_rms(x) -> llm.rms_norm x.
struct RaiseRMSNormCore : OpRewritePattern<arith::MulFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::MulFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    for (int i = 0; i < 2; ++i) {
      Value x = op->getOperand(i), scale = op->getOperand(1 - i);
      double eps = 0;
      Value t = matchInverseSqrt(stripBroadcast(scale));
      if (!t || matchMeanSquarePlusEps(t, eps) != x)
        continue;
      auto type = cast<RankedTensorType>(x.getType());
      if (type != op.getType() || type.getRank() < 1)
        continue;
      rewriter.replaceOpWithNewOp<RMSNormOp>(op, type, x, Value(),
                                             rewriter.getF32FloatAttr(eps));
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not x * rsqrt(mean(x^2) + eps)");
  }
};

/// d / sqrt(mean(d^2) + eps) with d = x - mean(x) -> llm.layer_norm x.
struct RaiseLayerNormCore : OpRewritePattern<arith::DivFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::DivFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    Value d = op.getLhs();
    auto sqrt = stripBroadcast(op.getRhs()).getDefiningOp<math::SqrtOp>();
    double eps = 0;
    if (!sqrt || matchMeanSquarePlusEps(sqrt.getOperand(), eps) != d)
      return rewriter.notifyMatchFailure(op, "not d / sqrt(var(d) + eps)");
    auto sub = d.getDefiningOp<arith::SubFOp>();
    if (!sub ||
        matchMeanOverLastDim(stripBroadcast(sub.getRhs())) != sub.getLhs())
      return rewriter.notifyMatchFailure(op, "d is not x - mean(x)");
    rewriter.replaceOpWithNewOp<LayerNormOp>(op, op.getType(), sub.getLhs(),
                                             Value(), Value(),
                                             rewriter.getF32FloatAttr(eps));
    return success();
  }
};

/// norm(x) * broadcast(w) -> norm(x, weight = w).
struct FoldNormWeight : OpRewritePattern<arith::MulFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::MulFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    for (int i = 0; i < 2; ++i) {
      Value normValue = op->getOperand(i), other = op->getOperand(1 - i);
      Operation *norm = normValue.getDefiningOp();
      if (!norm || !norm->hasOneUse())
        continue;
      auto type = cast<RankedTensorType>(normValue.getType());
      Value weight;
      if (type != op.getType() ||
          !matchFeatureVector(other, type.getShape().back(),
                              type.getElementType(), weight))
        continue;
      if (auto rms = dyn_cast<RMSNormOp>(norm); rms && !rms.getWeight()) {
        rewriter.replaceOpWithNewOp<RMSNormOp>(op, type, rms.getInput(), weight,
                                               rms.getEpsilonAttr());
        rewriter.eraseOp(rms);
        return success();
      }
      if (auto ln = dyn_cast<LayerNormOp>(norm);
          ln && !ln.getWeight() && !ln.getBias()) {
        rewriter.replaceOpWithNewOp<LayerNormOp>(
            op, type, ln.getInput(), weight, Value(), ln.getEpsilonAttr());
        rewriter.eraseOp(ln);
        return success();
      }
    }
    return rewriter.notifyMatchFailure(op,
                                       "not a weightless norm times a vector");
  }
};

/// layer_norm(x) + broadcast(b) -> layer_norm(x, bias = b).
struct FoldLayerNormBias : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    for (int i = 0; i < 2; ++i) {
      auto ln = op->getOperand(i).getDefiningOp<LayerNormOp>();
      if (!ln || ln.getBias() || !ln->hasOneUse() ||
          ln.getType() != op.getType())
        continue;
      Value bias;
      if (!matchFeatureVector(op->getOperand(1 - i),
                              ln.getType().getShape().back(),
                              ln.getType().getElementType(), bias))
        continue;
      rewriter.replaceOpWithNewOp<LayerNormOp>(op, ln.getType(), ln.getInput(),
                                               ln.getWeight(), bias,
                                               ln.getEpsilonAttr());
      rewriter.eraseOp(ln);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not a layer_norm plus a vector");
  }
};

} // namespace

void mlir::llm::raise::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRMSNormCore, RaiseLayerNormCore, FoldNormWeight,
               FoldLayerNormBias>(patterns.getContext());
}
