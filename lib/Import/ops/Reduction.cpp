//===- Reduction.cpp - ONNX ReduceMean, ReduceSum, ReduceMax
//---------------===//

#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

enum class Reduce { Sum, Mean, Max };

LogicalResult importReduce(NodeContext &ctx, Reduce kind, bool axesAsInput) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  RankedTensorType type = ctx.type(0);
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes;
  if (axesAsInput && ctx.hasInput(1)) {
    auto c = ctx.requireConstant(1, "axes");
    if (failed(c))
      return failure();
    axes = (*c)->toInts();
  } else if (auto attr = ctx.intsAttr("axes")) {
    axes = *attr;
  }
  if (axes.empty()) {
    if (ctx.intAttr("noop_with_empty_axes", 0)) {
      if (const HostTensor *c = ctx.constant(0))
        ctx.setOutput(0, *c);
      else
        ctx.setOutput(0, ctx.value(0));
      return success();
    }
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    auto axis = ctx.normalizeAxis(a, rank);
    if (failed(axis))
      return failure();
    reduced[*axis] = true;
  }
  bool keepDims = ctx.intAttr("keepdims", 1) != 0;
  bool fp = isa<FloatType>(type.getElementType());
  SmallVector<int64_t> kept, keptDimsShape;
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced[i]) {
      count = ShapedType::isDynamic(type.getDimSize(i)) ||
                      ShapedType::isDynamic(count)
                  ? ShapedType::kDynamic
                  : count * type.getDimSize(i);
      keptDimsShape.push_back(1);
    } else {
      kept.push_back(type.getDimSize(i));
      keptDimsShape.push_back(type.getDimSize(i));
    }
  }
  ArrayRef<int64_t> outShape =
      keepDims ? ArrayRef<int64_t>(keptDimsShape) : ArrayRef<int64_t>(kept);

  if (const HostTensor *c = ctx.constant(0)) {
    HostTensor out = HostTensor::zeros(c->dtype(), outShape);
    int64_t n = out.numel();
    std::vector<double> acc(n, kind == Reduce::Max
                                   ? -std::numeric_limits<double>::infinity()
                                   : 0.0);
    SmallVector<int64_t> outStrides = stridesOf(keptDimsShape);
    SmallVector<int64_t> coord(rank, 0);
    for (int64_t i = 0, total = c->numel(); i < total; ++i) {
      int64_t o = 0;
      for (int64_t d = 0; d < rank; ++d)
        o += reduced[d] ? 0 : coord[d] * outStrides[d];
      double v = c->getDouble(i);
      acc[o] = kind == Reduce::Max ? std::max(acc[o], v) : acc[o] + v;
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++coord[d] < c->shape()[d])
          break;
        coord[d] = 0;
      }
    }
    for (int64_t o = 0; o < n; ++o)
      out.setDouble(o, kind == Reduce::Mean ? acc[o] / count : acc[o]);
    ctx.setOutput(0, std::move(out));
    return success();
  }

  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  SmallVector<OpFoldResult> inSizes = mixedSizes(b, loc, x);
  SmallVector<OpFoldResult> keptSizes;
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (reduced[i])
      dims.push_back(i);
    else
      keptSizes.push_back(inSizes[i]);
  }
  Type element = type.getElementType();
  auto reducedType = RankedTensorType::get(kept, element);
  double initValue =
      kind == Reduce::Max
          ? (fp ? -std::numeric_limits<double>::infinity()
                : static_cast<double>(std::numeric_limits<int64_t>::min()))
          : 0.0;
  Value init = splat(b, loc, reducedType, initValue, keptSizes);
  auto reduce = linalg::ReduceOp::create(
      b, loc, ValueRange{x}, ValueRange{init}, dims,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value r;
        if (kind == Reduce::Max)
          r = fp ? Value(arith::MaximumFOp::create(nb, nloc, args[0], args[1]))
                 : Value(arith::MaxSIOp::create(nb, nloc, args[0], args[1]));
        else
          r = fp ? Value(arith::AddFOp::create(nb, nloc, args[0], args[1]))
                 : Value(arith::AddIOp::create(nb, nloc, args[0], args[1]));
        linalg::YieldOp::create(nb, nloc, r);
      });
  Value result = reduce.getResult(0);
  if (kind == Reduce::Mean) {
    if (!fp)
      return ctx.emitError("integer ReduceMean is not supported");
    if (ShapedType::isDynamic(count)) {
      Value n = arith::ConstantIndexOp::create(b, loc, 1);
      for (int64_t d : dims)
        n = arith::MulIOp::create(
            b, loc, n, getValueOrCreateConstantIndexOp(b, loc, inSizes[d]));
      Value nf = arith::UIToFPOp::create(
          b, loc, element,
          arith::IndexCastUIOp::create(b, loc, b.getI64Type(), n));
      Value fill = linalg::FillOp::create(
                       b, loc, nf, emptyTensor(b, loc, reducedType, keptSizes))
                       .getResult(0);
      result = arith::DivFOp::create(b, loc, result, fill);
    } else {
      result = arith::DivFOp::create(
          b, loc, result,
          splat(b, loc, reducedType, static_cast<double>(count), keptSizes));
    }
  }
  if (keepDims && kept.size() != keptDimsShape.size()) {
    // Re-insert the reduced dims as unit dims.
    SmallVector<ReassociationIndices> reassoc;
    ReassociationIndices pending;
    for (int64_t i = 0; i < rank; ++i) {
      pending.push_back(i);
      if (!reduced[i]) {
        reassoc.push_back(pending);
        pending.clear();
      }
    }
    if (!pending.empty()) {
      if (reassoc.empty())
        reassoc.push_back({});
      reassoc.back().append(pending.begin(), pending.end());
    }
    if (kept.empty())
      reassoc.clear();
    SmallVector<OpFoldResult> outSizes;
    for (int64_t i = 0, j = 0; i < rank; ++i)
      outSizes.push_back(reduced[i] ? OpFoldResult(b.getIndexAttr(1))
                                    : keptSizes[j++]);
    result = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(keptDimsShape, element), result, reassoc,
        outSizes);
  }
  ctx.setOutput(0, result);
  return success();
}

} // namespace

void llmc::onnx_import::registerReductionOps(OpRegistry &r) {
  r.add("ReduceSum", 13,
        [](NodeContext &c) { return importReduce(c, Reduce::Sum, true); });
  r.add("ReduceMean", 13,
        [](NodeContext &c) { return importReduce(c, Reduce::Mean, false); });
  r.add("ReduceMax", 13,
        [](NodeContext &c) { return importReduce(c, Reduce::Max, false); });
}
