//===- NN.cpp - ONNX MatMul, Gemm, Softmax, LayerNormalization ------------===//

#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

LogicalResult importMatMul(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "A")) || failed(ctx.requireInput(1, "B")) ||
      failed(ctx.requireFloat(0, "A")) || failed(ctx.requireFloat(1, "B")))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value lhs = ctx.value(0), rhs = ctx.value(1);
  RankedTensorType lt = ctx.type(0), rt = ctx.type(1);
  if (lt.getRank() == 0 || rt.getRank() == 0)
    return ctx.emitError("operands must have rank >= 1");
  // NumPy semantics for 1-D operands: promote, multiply, then drop the dim.
  bool lhsVector = lt.getRank() == 1, rhsVector = rt.getRank() == 1;
  if (lhsVector)
    lhs = reshapeTo(b, loc, lhs, {1, lt.getDimSize(0)});
  if (rhsVector)
    rhs = reshapeTo(b, loc, rhs, {rt.getDimSize(0), 1});
  auto product = llm::MatmulOp::create(b, loc, lhs, rhs);
  if (failed(verify(product)))
    return failure();
  Value result = product;
  if (lhsVector || rhsVector) {
    ArrayRef<int64_t> shape = product.getType().getShape();
    SmallVector<int64_t> squeezed(shape.drop_back(2));
    if (!lhsVector)
      squeezed.push_back(shape[shape.size() - 2]);
    if (!rhsVector)
      squeezed.push_back(shape.back());
    result = reshapeTo(b, loc, result, squeezed);
  }
  ctx.setOutput(0, result);
  return success();
}

LogicalResult importGemm(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "A")) || failed(ctx.requireInput(1, "B")) ||
      failed(ctx.requireFloat(0, "A")) || failed(ctx.requireFloat(1, "B")))
    return failure();
  if (ctx.type(0).getRank() != 2 || ctx.type(1).getRank() != 2)
    return ctx.emitError("A and B must be matrices");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  float alpha = ctx.floatAttr("alpha", 1.0f),
        beta = ctx.floatAttr("beta", 1.0f);
  Value a = ctx.value(0), w = ctx.value(1);
  if (ctx.intAttr("transA", 0))
    a = transpose(b, loc, a, {1, 0});
  // llm.linear wants the weight as [N, K]: that is B itself with transB.
  if (!ctx.intAttr("transB", 0))
    w = transpose(b, loc, w, {1, 0});
  Value bias;
  RankedTensorType wt = cast<RankedTensorType>(w.getType());
  if (ctx.hasInput(2) && beta != 0.0f) {
    RankedTensorType ct = ctx.type(2);
    int64_t n = wt.getDimSize(0);
    bool vectorBias =
        ct.getRank() == 1 || (ct.getRank() == 2 && ct.getDimSize(0) == 1);
    if (vectorBias && ct.getShape().back() == n) {
      bias = reshapeTo(b, loc, ctx.value(2), {n});
      if (beta != 1.0f)
        bias = arith::MulFOp::create(
            b, loc, bias,
            splat(b, loc, cast<RankedTensorType>(bias.getType()), beta));
    }
  }
  auto linear =
      llm::LinearOp::create(b, loc, a, w, alpha == 1.0f ? bias : Value());
  if (failed(verify(linear)))
    return failure();
  Value result = linear;
  RankedTensorType type = linear.getType();
  if (alpha != 1.0f) {
    result = arith::MulFOp::create(b, loc, result, splat(b, loc, type, alpha));
    if (bias)
      result = arith::AddFOp::create(b, loc, result,
                                     broadcastTo(b, loc, bias, type.getShape(),
                                                 mixedSizes(b, loc, result)));
  }
  if (ctx.hasInput(2) && beta != 0.0f && !bias) {
    // A full [M, N] (or broadcast) C: beta * C added after the product.
    Value c = ctx.value(2);
    auto shape = broadcastShape(type.getShape(), ctx.type(2).getShape());
    if (failed(shape) || ArrayRef<int64_t>(*shape) != type.getShape())
      return ctx.emitError("C does not broadcast to the result");
    c = broadcastTo(b, loc, c, type.getShape(), mixedSizes(b, loc, result));
    if (beta != 1.0f)
      c = arith::MulFOp::create(b, loc, c, splat(b, loc, type, beta));
    result = arith::AddFOp::create(b, loc, result, c);
  }
  ctx.setOutput(0, result);
  return success();
}

LogicalResult importSoftmax(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")) ||
      failed(ctx.requireFloat(0, "input")))
    return failure();
  int64_t rank = ctx.type(0).getRank();
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  auto op =
      llm::SoftmaxOp::create(ctx.builder(), ctx.loc(), ctx.value(0), *axis);
  ctx.setOutput(0, op.getResult());
  return success();
}

/// LayerNormalization that also returns Mean and InvStdDev (the training
/// form): spelled out with reductions, keeping the reduced dims as 1.
LogicalResult importLayerNormWithStatistics(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType xt = ctx.type(0);
  if (!xt.hasStaticShape() || !xt.getElementType().isF32())
    return ctx.emitError(
        "the Mean and InvStdDev outputs need a static f32 input");
  int64_t rank = xt.getRank();
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  float epsilon = ctx.floatAttr("epsilon", 1e-5f);
  Value x = ctx.value(0);
  SmallVector<int64_t> dims, kept, statShape;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d >= *axis) {
      dims.push_back(d);
      count *= xt.getDimSize(d);
      statShape.push_back(1);
    } else {
      kept.push_back(xt.getDimSize(d));
      statShape.push_back(xt.getDimSize(d));
    }
  }
  auto keptType = RankedTensorType::get(kept, b.getF32Type());
  auto statType = RankedTensorType::get(statShape, b.getF32Type());
  auto sizes = mixedSizes(b, loc, x);
  // Mean over the normalised dims, as a [..., 1, 1] tensor.
  auto meanOf = [&](Value v) {
    Value init = splat(b, loc, keptType, 0.0);
    Value sum =
        linalg::ReduceOp::create(
            b, loc, ValueRange{v}, ValueRange{init}, dims,
            [](OpBuilder &nb, Location nl, ValueRange a) {
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
            })
            .getResult(0);
    Value mean =
        arith::DivFOp::create(b, loc, sum, splat(b, loc, keptType, count));
    return reshapeTo(b, loc, mean, statShape);
  };
  Value mean = meanOf(x);
  Value centered = arith::SubFOp::create(
      b, loc, x, broadcastTo(b, loc, mean, xt.getShape(), sizes));
  Value var = meanOf(arith::MulFOp::create(b, loc, centered, centered));
  Value inv = math::RsqrtOp::create(
      b, loc,
      arith::AddFOp::create(b, loc, var, splat(b, loc, statType, epsilon)));
  Value y = arith::MulFOp::create(
      b, loc, centered, broadcastTo(b, loc, inv, xt.getShape(), sizes));
  y = arith::MulFOp::create(
      b, loc, y, broadcastTo(b, loc, ctx.value(1), xt.getShape(), sizes));
  if (ctx.hasInput(2))
    y = arith::AddFOp::create(
        b, loc, y, broadcastTo(b, loc, ctx.value(2), xt.getShape(), sizes));
  ctx.setOutput(0, y);
  ctx.setOutput(1, mean);
  ctx.setOutput(2, inv);
  return success();
}

LogicalResult importLayerNorm(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "X")) ||
      failed(ctx.requireInput(1, "Scale")) || failed(ctx.requireFloat(0, "X")))
    return failure();
  for (int i = 1; i < ctx.numOutputs(); ++i)
    if (!ctx.node().output(i).empty())
      return importLayerNormWithStatistics(ctx);
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType xt = ctx.type(0);
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), xt.getRank());
  if (failed(axis))
    return failure();
  float epsilon = ctx.floatAttr("epsilon", 1e-5f);
  Value x = ctx.value(0), scale = ctx.value(1);
  Value bias = ctx.hasInput(2) ? ctx.value(2) : Value();
  // llm.layer_norm normalises the last dim: flatten the normalised dims.
  ArrayRef<int64_t> shape = xt.getShape();
  int64_t inner = 1;
  for (int64_t d : shape.drop_front(*axis))
    inner = ShapedType::isDynamic(d) || ShapedType::isDynamic(inner)
                ? ShapedType::kDynamic
                : inner * d;
  bool flatten = *axis != xt.getRank() - 1;
  if (flatten) {
    if (!xt.hasStaticShape())
      return ctx.emitError(
          "normalising several dynamic dims needs static shapes");
    SmallVector<int64_t> flat(shape.take_front(*axis));
    flat.push_back(inner);
    x = reshapeTo(b, loc, x, flat);
  }
  auto asVector = [&](Value v) -> Value {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getRank() == 1 ? v : reshapeTo(b, loc, v, {inner});
  };
  auto norm = llm::LayerNormOp::create(
      b, loc, x, asVector(scale), bias ? asVector(bias) : Value(), epsilon);
  if (failed(verify(norm)))
    return failure();
  Value result = norm;
  if (flatten)
    result = reshapeTo(b, loc, result, shape);
  ctx.setOutput(0, result);
  return success();
}

} // namespace

void llmc::onnx_import::registerNNOps(OpRegistry &r) {
  r.add("MatMul", 13, importMatMul);
  r.add("Gemm", 13, importGemm);
  r.add("Softmax", 13, importSoftmax);
  // Below opset 17 the op is ONNX Runtime's (registered in the default
  // domain from version 1, the same semantics), as optimum exports use it.
  r.add("LayerNormalization", 1, importLayerNorm);
  r.add("LayerNormalization", 17, importLayerNorm);
}
