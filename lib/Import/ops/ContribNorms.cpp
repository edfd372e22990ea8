//===- ContribNorms.cpp - ONNX Runtime's fused norms and FastGelu ---------===//
//
// The normalisations onnxruntime-genai and optimum write instead of the
// decomposed forms: SimplifiedLayerNormalization (RMSNorm, registered by
// ONNX Runtime in the default domain), and in com.microsoft
// SkipSimplifiedLayerNormalization / SkipLayerNormalization (a residual add
// fused with the norm; output 3 is the sum) and FastGelu (tanh GELU of
// x + bias). They become the same llm ops as the decomposed forms.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

LogicalResult checkLastAxis(NodeContext &ctx) {
  int64_t rank = ctx.type(0).getRank();
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  if (*axis != rank - 1)
    return ctx.emitError("normalising over axis " + Twine(*axis) +
                         " is not supported (only the last axis)");
  return success();
}

/// `value(i)` broadcast to the shape of input 0.
Value broadcastLike(NodeContext &ctx, int i, Value like) {
  auto type = cast<RankedTensorType>(like.getType());
  return broadcastTo(ctx.builder(), ctx.loc(), ctx.value(i), type.getShape(),
                     mixedSizes(ctx.builder(), ctx.loc(), like));
}

/// The weight of a norm as a vector [dim].
Value asVector(NodeContext &ctx, int i) {
  RankedTensorType t = ctx.type(i);
  if (t.getRank() == 1)
    return ctx.value(i);
  return reshapeTo(ctx.builder(), ctx.loc(), ctx.value(i),
                   {t.getNumElements()});
}

// The mean and inverse standard deviation outputs of the fused norms are
// training outputs llmc does not produce.

LogicalResult importSimplifiedLayerNorm(NodeContext &ctx) {
  if (failed(ctx.requireInputs({"X", "scale"})) ||
      failed(ctx.requireFloat(0, "input")) || failed(checkLastAxis(ctx)) ||
      failed(ctx.refuseOutput(1, "inv_std_var")))
    return failure();
  auto norm =
      llm::RMSNormOp::create(ctx.builder(), ctx.loc(), ctx.value(0),
                             asVector(ctx, 1), ctx.floatAttr("epsilon", 1e-5f));
  if (failed(verify(norm)))
    return failure();
  ctx.setOutput(0, norm.getResult());
  return success();
}

/// input + skip (+ bias): the residual sum both Skip* norms start from.
Value skipSum(NodeContext &ctx, int biasInput) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  Value sum = arith::AddFOp::create(b, loc, x, broadcastLike(ctx, 1, x));
  if (ctx.hasInput(biasInput))
    sum = arith::AddFOp::create(b, loc, sum, broadcastLike(ctx, biasInput, x));
  return sum;
}

LogicalResult checkSkip(NodeContext &ctx) {
  if (failed(ctx.requireInputs({"input", "skip", "gamma"})) ||
      failed(ctx.requireFloat(0, "input")) ||
      failed(ctx.refuseOutput(1, "mean")) ||
      failed(ctx.refuseOutput(2, "inv_std_var")))
    return failure();
  RankedTensorType x = ctx.type(0), skip = ctx.type(1);
  if (failed(broadcastShape(x.getShape(), skip.getShape())))
    return ctx.emitError("skip does not broadcast to the input");
  return success();
}

/// The outputs of a Skip* norm: the normalised value and, when wanted,
/// the residual sum (output 3).
LogicalResult setSkipOutputs(NodeContext &ctx, Operation *norm, Value sum) {
  if (failed(verify(norm)))
    return failure();
  ctx.setOutput(0, norm->getResult(0));
  if (ctx.numOutputs() > 3 && !ctx.node().output(3).empty())
    ctx.setOutput(3, sum);
  return success();
}

LogicalResult importSkipSimplifiedLayerNorm(NodeContext &ctx) {
  if (failed(checkSkip(ctx)))
    return failure();
  Value sum = skipSum(ctx, /*biasInput=*/3);
  auto norm =
      llm::RMSNormOp::create(ctx.builder(), ctx.loc(), sum, asVector(ctx, 2),
                             ctx.floatAttr("epsilon", 1e-12f));
  return setSkipOutputs(ctx, norm, sum);
}

LogicalResult importSkipLayerNorm(NodeContext &ctx) {
  if (failed(checkSkip(ctx)))
    return failure();
  Value sum = skipSum(ctx, /*biasInput=*/4);
  auto norm =
      llm::LayerNormOp::create(ctx.builder(), ctx.loc(), sum, asVector(ctx, 2),
                               ctx.hasInput(3) ? asVector(ctx, 3) : Value(),
                               ctx.floatAttr("epsilon", 1e-12f));
  return setSkipOutputs(ctx, norm, sum);
}

LogicalResult importFastGelu(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "X")) || failed(ctx.requireFloat(0, "input")))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  if (ctx.hasInput(1))
    x = arith::AddFOp::create(b, loc, x, broadcastLike(ctx, 1, x));
  Value y =
      llm::GeluOp::create(b, loc, x.getType(), x,
                          llm::GeluApproximationAttr::get(
                              ctx.context(), llm::GeluApproximation::tanh));
  ctx.setOutput(0, y);
  return success();
}

} // namespace

void llmc::onnx_import::registerContribNormOps(OpRegistry &r) {
  r.add("SimplifiedLayerNormalization", 1, importSimplifiedLayerNorm);
  r.add(kMicrosoftDomain, "SkipSimplifiedLayerNormalization", 1,
        importSkipSimplifiedLayerNorm);
  r.add(kMicrosoftDomain, "SkipLayerNormalization", 1, importSkipLayerNorm);
  r.add(kMicrosoftDomain, "FastGelu", 1, importFastGelu);
}
