//===- Quantization.cpp - ONNX (De)QuantizeLinear, MatMulInteger, QLinearMatMul
//
// Linear quantization as the ONNX spec defines it: q = saturate(round(x /
// scale) + zero_point), x = (q - zero_point) * scale, per tensor or per axis.
// Integer matmuls accumulate exactly in i32 (linalg.matmul on tensors), as
// ONNX Runtime does, before any requantization.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/HostEval.h"
#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

/// Saturation bounds of a quantized element type.
std::pair<double, double> quantRange(DType dtype) {
  switch (dtype) {
  case DType::U8:
    return {0, 255};
  case DType::I8:
    return {-128, 127};
  case DType::I16:
    return {-32768, 32767};
  case DType::I32:
    return {-2147483648.0, 2147483647.0};
  default:
    return {-INFINITY, INFINITY};
  }
}

/// A scalar or 1-D per-axis parameter shaped to broadcast against `type`.
FailureOr<Value> paramFor(NodeContext &ctx, int input, RankedTensorType type,
                          int64_t axis, Type element) {
  OpBuilder &b = ctx.builder();
  auto sizes = mixedSizes(b, ctx.loc(), ctx.value(0));
  if (const HostTensor *c = ctx.constant(input);
      c && c->numel() > 0 && c->isSplat())
    return splat(b, ctx.loc(), type.clone(element), c->getDouble(0), sizes);
  Value p = convertElements(b, ctx.loc(), ctx.value(input), element);
  auto pt = cast<RankedTensorType>(p.getType());
  SmallVector<int64_t> shape(type.getRank(), 1);
  if (pt.getRank() == 1 && pt.getDimSize(0) != 1) {
    if (pt.getDimSize(0) != type.getDimSize(axis))
      return ctx.emitError("per-axis parameter of size " +
                           Twine(pt.getDimSize(0)) + " does not match axis " +
                           Twine(axis) + " of size " +
                           Twine(type.getDimSize(axis)));
    shape[axis] = pt.getDimSize(0);
  } else if (pt.getNumElements() != 1) {
    return ctx.emitError("scale and zero point must be scalars or 1-D");
  }
  p = reshapeTo(b, ctx.loc(), p, shape);
  return broadcastTo(b, ctx.loc(), p, type.getShape(), sizes);
}

/// Host (de)quantization: index of the per-axis parameter for element i.
int64_t paramIndex(const HostTensor &p, ArrayRef<int64_t> shape, int64_t axis,
                   int64_t i) {
  if (p.numel() == 1)
    return 0;
  int64_t stride = stridesOf(shape)[axis];
  return (i / stride) % shape[axis];
}

/// The axis of per-axis scale and zero point (input 1 and 2).
FailureOr<int64_t> quantizationAxis(NodeContext &ctx) {
  // The axis only matters for per-axis parameters (default 1 may exceed a
  // rank-1 input that uses a scalar scale).
  int64_t axis = ctx.type(1).getNumElements() > 1 ? ctx.intAttr("axis", 1) : 0;
  return ctx.normalizeAxis(axis, std::max<int64_t>(ctx.type(0).getRank(), 1));
}

LogicalResult importDequantizeLinear(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "x")) ||
      failed(ctx.requireInput(1, "x_scale")))
    return failure();
  auto axis = quantizationAxis(ctx);
  if (failed(axis))
    return failure();
  const HostTensor *x = ctx.constant(0), *scale = ctx.constant(1);
  const HostTensor *zp = ctx.hasInput(2) ? ctx.constant(2) : nullptr;
  if (x && scale && (zp || !ctx.hasInput(2)) && ctx.mayEvaluate(x->numel())) {
    HostTensor out = HostTensor::zeros(scale->dtype(), x->shape());
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      int64_t a = paramIndex(*scale, x->shape(), *axis, i);
      double z = zp ? static_cast<double>(zp->getInt(a)) : 0.0;
      out.setDouble(i, (static_cast<double>(x->getInt(i)) - z) *
                           scale->getDouble(a));
    }
    ctx.setOutput(0, std::move(out));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Type element = ctx.type(1).getElementType();
  Value xf = convertElements(b, ctx.loc(), ctx.value(0), element);
  auto ft = cast<RankedTensorType>(xf.getType());
  if (ctx.hasInput(2)) {
    auto z = paramFor(ctx, 2, ft, *axis, element);
    if (failed(z))
      return failure();
    xf = arith::SubFOp::create(b, ctx.loc(), xf, *z);
  }
  auto s = paramFor(ctx, 1, ft, *axis, element);
  if (failed(s))
    return failure();
  ctx.setOutput(0, arith::MulFOp::create(b, ctx.loc(), xf, *s));
  return success();
}

LogicalResult importQuantizeLinear(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "x")) ||
      failed(ctx.requireInput(1, "y_scale")))
    return failure();
  RankedTensorType xt = ctx.type(0);
  auto axis = quantizationAxis(ctx);
  if (failed(axis))
    return failure();
  DType outType = DType::U8;
  if (ctx.hasInput(2))
    if (auto d = dtypeFromMlir(ctx.type(2).getElementType()))
      outType = *d;
  auto [lo, hi] = quantRange(outType);
  const HostTensor *x = ctx.constant(0), *scale = ctx.constant(1);
  const HostTensor *zp = ctx.hasInput(2) ? ctx.constant(2) : nullptr;
  if (x && scale && (zp || !ctx.hasInput(2)) && ctx.mayEvaluate(x->numel())) {
    HostTensor out = HostTensor::zeros(outType, x->shape());
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      int64_t a = paramIndex(*scale, x->shape(), *axis, i);
      double q = std::nearbyint(x->getDouble(i) / scale->getDouble(a)) +
                 (zp ? static_cast<double>(zp->getInt(a)) : 0.0);
      out.setInt(i, static_cast<int64_t>(std::clamp(q, lo, hi)));
    }
    ctx.setOutput(0, std::move(out));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value xv = ctx.value(0);
  auto s = paramFor(ctx, 1, xt, *axis, xt.getElementType());
  if (failed(s))
    return failure();
  Value q =
      math::RoundEvenOp::create(b, loc, arith::DivFOp::create(b, loc, xv, *s));
  if (ctx.hasInput(2)) {
    auto z = paramFor(ctx, 2, xt, *axis, xt.getElementType());
    if (failed(z))
      return failure();
    q = arith::AddFOp::create(b, loc, q, *z);
  }
  auto sizes = mixedSizes(b, loc, xv);
  q = arith::MaximumFOp::create(b, loc, q, splat(b, loc, xt, lo, sizes));
  q = arith::MinimumFOp::create(b, loc, q, splat(b, loc, xt, hi, sizes));
  ctx.setOutput(0,
                convertElements(b, loc, q, toMlirType(outType, ctx.context())));
  return success();
}

/// i32 (a - a_zp) @ (b - b_zp); a is [..., M, K], b is [K, N] or [batch, K, N].
FailureOr<Value> integerMatmul(NodeContext &ctx, int a, int bIdx, int aZp,
                               int bZp) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType at = ctx.type(a), bt = ctx.type(bIdx);
  if (at.getRank() < 2 || bt.getRank() < 2 || bt.getRank() > 3 ||
      (bt.getRank() == 3 && at.getRank() != 3))
    return ctx.emitError(
        "supports A [..., M, K] with B [K, N], or batched 3-D A and B");
  if (!at.hasStaticShape() || !bt.hasStaticShape())
    return ctx.emitError("needs static shapes (use --input-shape)");
  Type i32 = b.getI32Type();
  auto shifted = [&](int input, int zpInput,
                     int64_t zpAxis) -> FailureOr<Value> {
    Value v = convertElements(b, loc, ctx.value(input), i32);
    if (!ctx.hasInput(zpInput))
      return v;
    auto vt = cast<RankedTensorType>(v.getType());
    if (const HostTensor *c = ctx.constant(zpInput);
        c && c->numel() > 0 && c->isSplat()) {
      if (c->getInt(0) == 0)
        return v;
      return Value(arith::SubIOp::create(
          b, loc, v, splat(b, loc, vt, static_cast<double>(c->getInt(0)))));
    }
    Value z = convertElements(b, loc, ctx.value(zpInput), i32);
    auto zt = cast<RankedTensorType>(z.getType());
    SmallVector<int64_t> shape(vt.getRank(), 1);
    if (zt.getNumElements() != 1) {
      if (zt.getRank() != 1 || zt.getDimSize(0) != vt.getDimSize(zpAxis))
        return ctx.emitError(
            "zero point must be a scalar or match the quantized axis");
      shape[zpAxis] = zt.getDimSize(0);
    }
    z = broadcastTo(b, loc, reshapeTo(b, loc, z, shape), vt.getShape(),
                    mixedSizes(b, loc, v));
    return Value(arith::SubIOp::create(b, loc, v, z));
  };
  // A's zero point is per row (M), B's per column (N).
  auto av = shifted(a, aZp, at.getRank() - 2);
  auto bv = shifted(bIdx, bZp, bt.getRank() - 1);
  if (failed(av) || failed(bv))
    return failure();
  int64_t k = at.getShape().back(), n = bt.getShape().back();
  if (bt.getDimSize(bt.getRank() - 2) != k)
    return ctx.emitError("inner dimensions differ: " + Twine(k) + " and " +
                         Twine(bt.getDimSize(bt.getRank() - 2)));
  if (bt.getRank() == 3) {
    auto outType =
        RankedTensorType::get({at.getDimSize(0), at.getDimSize(1), n}, i32);
    Value init = splat(b, loc, outType, 0.0);
    return linalg::BatchMatmulOp::create(b, loc, ValueRange{*av, *bv},
                                         ValueRange{init})
        .getResult(0);
  }
  int64_t rows = at.getNumElements() / k;
  Value a2 = reshapeTo(b, loc, *av, {rows, k});
  auto outType = RankedTensorType::get({rows, n}, i32);
  Value init = splat(b, loc, outType, 0.0);
  Value c =
      linalg::MatmulOp::create(b, loc, ValueRange{a2, *bv}, ValueRange{init})
          .getResult(0);
  SmallVector<int64_t> shape(at.getShape().drop_back());
  shape.push_back(n);
  return reshapeTo(b, loc, c, shape);
}

LogicalResult importMatMulInteger(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "A")) || failed(ctx.requireInput(1, "B")))
    return failure();
  auto c = integerMatmul(ctx, 0, 1, 2, 3);
  if (failed(c))
    return failure();
  ctx.setOutput(0, *c);
  return success();
}

LogicalResult importQLinearMatMul(NodeContext &ctx) {
  for (int i = 0; i < 8; ++i)
    if (failed(ctx.requireInput(i, "QLinearMatMul operand")))
      return failure();
  auto as = ctx.requireConstant(1, "a_scale");
  auto bs = ctx.requireConstant(4, "b_scale");
  auto ys = ctx.requireConstant(6, "y_scale");
  if (failed(as) || failed(bs) || failed(ys))
    return failure();
  if ((*as)->numel() != 1 || (*ys)->numel() != 1)
    return ctx.emitError("a_scale and y_scale must be scalars");
  auto acc = integerMatmul(ctx, 0, 3, 2, 5);
  if (failed(acc))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  auto accType = cast<RankedTensorType>(acc->getType());
  Type f32 = b.getF32Type();
  Value v = convertElements(b, loc, *acc, f32);
  auto ft = cast<RankedTensorType>(v.getType());
  // Multiplier a_scale * b_scale / y_scale, per output column if b_scale is.
  const HostTensor &bScale = **bs;
  HostTensor mult = HostTensor::zeros(DType::F32, {bScale.numel()});
  for (int64_t i = 0; i < bScale.numel(); ++i)
    mult.setDouble(i, (*as)->getDouble(0) * bScale.getDouble(i) /
                          (*ys)->getDouble(0));
  Value m = ctx.materialize(mult);
  SmallVector<int64_t> shape(ft.getRank(), 1);
  if (mult.numel() != 1) {
    if (mult.numel() != accType.getShape().back())
      return ctx.emitError("b_scale must be a scalar or per output column");
    shape.back() = mult.numel();
  }
  m = broadcastTo(b, loc, reshapeTo(b, loc, m, shape), ft.getShape(),
                  mixedSizes(b, loc, v));
  v = math::RoundEvenOp::create(b, loc, arith::MulFOp::create(b, loc, v, m));
  DType outType =
      dtypeFromMlir(ctx.type(7).getElementType()).value_or(DType::U8);
  auto zpf = convertElements(b, loc, ctx.value(7), f32);
  zpf = broadcastTo(
      b, loc, reshapeTo(b, loc, zpf, SmallVector<int64_t>(ft.getRank(), 1)),
      ft.getShape(), mixedSizes(b, loc, v));
  v = arith::AddFOp::create(b, loc, v, zpf);
  auto [lo, hi] = quantRange(outType);
  v = arith::MaximumFOp::create(b, loc, v, splat(b, loc, ft, lo));
  v = arith::MinimumFOp::create(b, loc, v, splat(b, loc, ft, hi));
  ctx.setOutput(0,
                convertElements(b, loc, v, toMlirType(outType, ctx.context())));
  return success();
}

} // namespace

void llmc::onnx_import::registerQuantizationOps(OpRegistry &r) {
  r.add("DequantizeLinear", 13, importDequantizeLinear);
  r.add("QuantizeLinear", 13, importQuantizeLinear);
  r.add("MatMulInteger", 10, importMatMulInteger);
  r.add("QLinearMatMul", 10, importQLinearMatMul);
}
