//===- Indexing.cpp - ONNX gathers, scatters, TopK and friends
//-------------===//
//
// Gather becomes llm.embedding (constant table, axis 0) or a linalg.generic
// that extracts; the other ops here are evaluated when their inputs are
// constants. On run-time tensors they are part of larger structures (MoE
// routing) that llm-raise will absorb; until then the importer reports them.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/HostEval.h"
#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"
#include "lib/Import/SymbolicInts.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

SmallVector<int64_t> unflatten(int64_t i, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> coord(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    coord[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
  return coord;
}

int64_t flatten(ArrayRef<int64_t> coord, ArrayRef<int64_t> shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    i = i * shape[d] + coord[d];
  return i;
}

/// An integer index read inside a linalg body as `index`, with negative
/// values counted from the end of a dimension of size `size` (ONNX).
Value wrapIndex(OpBuilder &b, Location loc, Value index, Value size) {
  Value i = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, zero);
  return arith::SelectOp::create(b, loc, negative,
                                 arith::AddIOp::create(b, loc, i, size), i);
}

LogicalResult requireIndexInRange(NodeContext &ctx, int64_t &idx, int64_t dim) {
  if (idx < 0)
    idx += dim;
  if (idx < 0 || idx >= dim)
    return ctx.emitError("index " + Twine(idx) +
                         " is out of range for a dimension of size " +
                         Twine(dim));
  return success();
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

LogicalResult importGather(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")) ||
      failed(ctx.requireInput(1, "indices")))
    return failure();
  RankedTensorType dataType = ctx.type(0), idxType = ctx.type(1);
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), dataType.getRank());
  if (failed(axis))
    return failure();
  if (!isa<IntegerType>(idxType.getElementType()))
    return ctx.emitError("indices must be integers");
  const HostTensor *data = ctx.constant(0), *idx = ctx.constant(1);
  // Picking sizes out of a Shape result keeps them symbolic.
  if (!data && idx && idx->rank() <= 1 && *axis == 0 &&
      dataType.getRank() == 1) {
    if (std::optional<SymbolicInts> ints = ctx.ints(0)) {
      SymbolicInts out;
      out.dtype = ints->dtype;
      out.scalar = idx->rank() == 0;
      for (int64_t i = 0, n = idx->numel(); i < n; ++i) {
        int64_t k = idx->getInt(i);
        if (failed(requireIndexInRange(ctx, k, ints->elements.size())))
          return failure();
        out.elements.push_back(ints->elements[k]);
      }
      ctx.setOutput(0, std::move(out));
      return success();
    }
  }
  if (data && idx) {
    int64_t dim = data->shape()[*axis];
    for (int64_t i = 0, n = idx->numel(); i < n; ++i) {
      int64_t v = idx->getInt(i);
      if (failed(requireIndexInRange(ctx, v, dim)))
        return failure();
    }
    ctx.setOutput(0, gatherHost(*data, *axis, *idx));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  // A token embedding: constant [vocab, dim] table looked up along axis 0.
  if (data && *axis == 0 && data->rank() == 2 && isFloat(data->dtype())) {
    ctx.setOutput(0,
                  llm::EmbeddingOp::create(b, loc, ctx.value(0), ctx.value(1))
                      .getResult());
    return success();
  }
  // General gather: out[o.., i.., n..] = data[o.., idx[i..], n..].
  Value dataValue = ctx.value(0), idxValue = ctx.value(1);
  ArrayRef<int64_t> ds = dataType.getShape(), is = idxType.getShape();
  SmallVector<int64_t> outShape(ds.take_front(*axis));
  outShape.append(is.begin(), is.end());
  outShape.append(ds.begin() + *axis + 1, ds.end());
  SmallVector<OpFoldResult> dSizes = mixedSizes(b, loc, dataValue),
                            iSizes = mixedSizes(b, loc, idxValue);
  SmallVector<OpFoldResult> outSizes(dSizes.begin(), dSizes.begin() + *axis);
  outSizes.append(iSizes.begin(), iSizes.end());
  outSizes.append(dSizes.begin() + *axis + 1, dSizes.end());
  auto outType = RankedTensorType::get(outShape, dataType.getElementType());
  Value init = emptyTensor(b, loc, outType, outSizes);
  int64_t outRank = outShape.size(), idxRank = is.size();
  SmallVector<AffineExpr> idxExprs;
  for (int64_t k = 0; k < idxRank; ++k)
    idxExprs.push_back(b.getAffineDimExpr(*axis + k));
  SmallVector<AffineMap> maps = {
      AffineMap::get(outRank, 0, idxExprs, b.getContext()),
      b.getMultiDimIdentityMap(outRank)};
  SmallVector<utils::IteratorType> iters(outRank,
                                         utils::IteratorType::parallel);
  Value axisSize = getValueOrCreateConstantIndexOp(b, loc, dSizes[*axis]);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{idxValue}, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value i = wrapIndex(nb, nl, args[0], axisSize);
        SmallVector<Value> coords;
        for (int64_t d = 0; d < *axis; ++d)
          coords.push_back(linalg::IndexOp::create(nb, nl, d));
        coords.push_back(i);
        for (int64_t d = *axis + idxRank; d < outRank; ++d)
          coords.push_back(linalg::IndexOp::create(nb, nl, d));
        Value v = tensor::ExtractOp::create(nb, nl, dataValue, coords);
        linalg::YieldOp::create(nb, nl, v);
      });
  ctx.setOutput(0, generic.getResult(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Host-evaluated ops
//===----------------------------------------------------------------------===//

/// GatherElements on run-time tensors: out[p] = data[p with p[axis] =
/// indices[p]], a linalg.generic over the indices' shape that extracts.
LogicalResult gatherElementsIR(NodeContext &ctx, int64_t axis) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.value(0), indices = ctx.value(1);
  RankedTensorType dataType = ctx.type(0), idxType = ctx.type(1);
  int64_t rank = dataType.getRank();
  if (idxType.getRank() != rank)
    return ctx.emitError("indices must have the data's rank");
  auto outType = idxType.clone(dataType.getElementType());
  Value init = emptyTensor(b, loc, outType, mixedSizes(b, loc, indices));
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value axisSize =
      getValueOrCreateConstantIndexOp(b, loc, ctx.dimSize(data, axis));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{indices}, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < rank; ++d)
          coords.push_back(d == axis ? wrapIndex(nb, nl, args[0], axisSize)
                                     : linalg::IndexOp::create(nb, nl, d));
        linalg::YieldOp::create(
            nb, nl,
            tensor::ExtractOp::create(nb, nl, data, coords).getResult());
      });
  ctx.setOutput(0, generic.getResult(0));
  return success();
}

LogicalResult importGatherElements(NodeContext &ctx) {
  const HostTensor *data = ctx.constant(0), *idx = ctx.constant(1);
  if (!data || !idx) {
    if (failed(ctx.requireInput(0, "data")) ||
        failed(ctx.requireInput(1, "indices")))
      return failure();
    auto axis =
        ctx.normalizeAxis(ctx.intAttr("axis", 0), ctx.type(0).getRank());
    if (failed(axis))
      return failure();
    return gatherElementsIR(ctx, *axis);
  }
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), data->rank());
  if (failed(axis))
    return failure();
  HostTensor out = HostTensor::zeros(data->dtype(), idx->shape());
  for (int64_t i = 0, n = idx->numel(); i < n; ++i) {
    SmallVector<int64_t> c = unflatten(i, idx->shape());
    int64_t v = idx->getInt(i);
    if (failed(requireIndexInRange(ctx, v, data->shape()[*axis])))
      return failure();
    c[*axis] = v;
    copyElement(*data, flatten(c, data->shape()), out, i);
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

/// The arithmetic of a scatter reduction; none for "none" (plain writes).
std::optional<Binary> scatterReduction(StringRef reduction) {
  return StringSwitch<std::optional<Binary>>(reduction)
      .Case("add", Binary::Add)
      .Case("mul", Binary::Mul)
      .Case("max", Binary::Max)
      .Case("min", Binary::Min)
      .Default(std::nullopt);
}

/// Fails unless `reduction` is one ONNX defines.
LogicalResult checkScatterReduction(NodeContext &ctx, StringRef reduction) {
  if (reduction == "none" || scatterReduction(reduction))
    return success();
  return ctx.emitError("unknown reduction '" + reduction + "'");
}

/// Yields what a position holds after the updates that `hit` it: the
/// update, or the current value reduced with it; else the current value.
void yieldScatter(OpBuilder &b, Location loc, StringRef reduction, Value hit,
                  Value current, Value update) {
  std::optional<Binary> op = scatterReduction(reduction);
  Value updated =
      op ? buildArith(b, loc, *op, current, update, /*isUnsigned=*/false)
         : update;
  linalg::YieldOp::create(
      b, loc,
      arith::SelectOp::create(b, loc, hit, updated, current).getResult());
}

double combine(StringRef reduction, double a, double b) {
  if (reduction == "add")
    return a + b;
  if (reduction == "mul")
    return a * b;
  if (reduction == "max")
    return std::max(a, b);
  if (reduction == "min")
    return std::min(a, b);
  return b;
}

/// ScatterElements on run-time tensors: a linalg.generic over the data's
/// dims (parallel) and the indices' extent along `axis` (reduction) that
/// writes (or reduces into place) every update whose index hits the
/// position. Needs the indices to span the data in every other dim.
LogicalResult scatterElementsIR(NodeContext &ctx, int64_t axis,
                                StringRef reduction) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType dataType = ctx.type(0), idxType = ctx.type(1),
                   updType = ctx.type(2);
  int64_t rank = dataType.getRank();
  if (idxType.getShape() != updType.getShape() || idxType.getRank() != rank)
    return ctx.emitError(
        "indices and updates must have the data's rank and one shape");
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && idxType.getDimSize(d) != dataType.getDimSize(d))
      return ctx.emitError(
          "on run-time tensors the indices must span the data in "
          "every dim but the axis");
  // Loop dims: the data's, then r over the indices' axis.
  MLIRContext *mctx = ctx.context();
  SmallVector<AffineExpr> idxExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    idxExprs.push_back(d == axis ? getAffineDimExpr(rank, mctx)
                                 : getAffineDimExpr(d, mctx));
    outExprs.push_back(getAffineDimExpr(d, mctx));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, idxExprs, mctx),
                                 AffineMap::get(rank + 1, 0, idxExprs, mctx),
                                 AffineMap::get(rank + 1, 0, outExprs, mctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value dim =
      getValueOrCreateConstantIndexOp(b, loc, ctx.dimSize(ctx.value(0), axis));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{dataType}, ValueRange{ctx.value(1), ctx.value(2)},
      ValueRange{ctx.value(0)}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value i = wrapIndex(nb, nl, args[0], dim);
        Value here = linalg::IndexOp::create(nb, nl, axis);
        Value hit =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i, here);
        yieldScatter(nb, nl, reduction, hit, args[2], args[1]);
      });
  ctx.setOutput(0, generic.getResult(0));
  return success();
}

LogicalResult importScatterElements(NodeContext &ctx) {
  std::string reduction = ctx.stringAttr("reduction", "none");
  if (failed(checkScatterReduction(ctx, reduction)))
    return failure();
  const HostTensor *data = ctx.constant(0), *idx = ctx.constant(1),
                   *upd = ctx.constant(2);
  if (!data || !idx || !upd) {
    if (failed(ctx.requireInputs({"data", "indices", "updates"})))
      return failure();
    auto axis =
        ctx.normalizeAxis(ctx.intAttr("axis", 0), ctx.type(0).getRank());
    if (failed(axis))
      return failure();
    return scatterElementsIR(ctx, *axis, reduction);
  }
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), data->rank());
  if (failed(axis))
    return failure();
  HostTensor out = HostTensor::zeros(data->dtype(), data->shape());
  for (int64_t i = 0, n = data->numel(); i < n; ++i)
    copyElement(*data, i, out, i);
  for (int64_t i = 0, n = idx->numel(); i < n; ++i) {
    SmallVector<int64_t> c = unflatten(i, idx->shape());
    int64_t v = idx->getInt(i);
    if (failed(requireIndexInRange(ctx, v, data->shape()[*axis])))
      return failure();
    c[*axis] = v;
    int64_t o = flatten(c, data->shape());
    out.setDouble(o, combine(reduction, out.getDouble(o), upd->getDouble(i)));
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

/// ScatterND on run-time tensors: a linalg.generic over the data's dims
/// (parallel) and the update positions (reduction); an update lands where
/// all k of its indices match the position's leading k coordinates.
LogicalResult scatterNDIR(NodeContext &ctx, StringRef reduction) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value data = ctx.value(0), indices = ctx.value(1), updates = ctx.value(2);
  auto dataType = cast<RankedTensorType>(data.getType());
  auto idxType = cast<RankedTensorType>(indices.getType());
  int64_t r = dataType.getRank(), q = idxType.getRank() - 1;
  int64_t k = idxType.getShape().back();
  if (ShapedType::isDynamic(k) || k > r)
    return ctx.emitError(
        "the last indices dim must be static and <= the data rank");
  MLIRContext *mctx = ctx.context();
  int64_t loops = r + q;
  SmallVector<AffineExpr> updExprs;
  for (int64_t u = 0; u < q; ++u)
    updExprs.push_back(getAffineDimExpr(r + u, mctx));
  for (int64_t d = k; d < r; ++d)
    updExprs.push_back(getAffineDimExpr(d, mctx));
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d < r; ++d)
    outExprs.push_back(getAffineDimExpr(d, mctx));
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, updExprs, mctx),
                                 AffineMap::get(loops, 0, outExprs, mctx)};
  SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
  iters.append(q, utils::IteratorType::reduction);
  SmallVector<Value> dims;
  for (int64_t d = 0; d < k; ++d)
    dims.push_back(
        getValueOrCreateConstantIndexOp(b, loc, ctx.dimSize(data, d)));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{dataType}, ValueRange{updates}, ValueRange{data}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value hit = arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true));
        for (int64_t j = 0; j < k; ++j) {
          SmallVector<Value> coords;
          for (int64_t u = 0; u < q; ++u)
            coords.push_back(linalg::IndexOp::create(nb, nl, r + u));
          coords.push_back(arith::ConstantIndexOp::create(nb, nl, j));
          Value i = wrapIndex(
              nb, nl, tensor::ExtractOp::create(nb, nl, indices, coords),
              dims[j]);
          Value here = linalg::IndexOp::create(nb, nl, j);
          hit = arith::AndIOp::create(
              nb, nl, hit,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i, here));
        }
        yieldScatter(nb, nl, reduction, hit, a[1], a[0]);
      });
  ctx.setOutput(0, generic.getResult(0));
  return success();
}

LogicalResult importScatterND(NodeContext &ctx) {
  std::string reduction = ctx.stringAttr("reduction", "none");
  if (failed(checkScatterReduction(ctx, reduction)))
    return failure();
  const HostTensor *data = ctx.constant(0), *idx = ctx.constant(1),
                   *upd = ctx.constant(2);
  if (!data || !idx || !upd) {
    if (failed(ctx.requireInputs({"data", "indices", "updates"})))
      return failure();
    return scatterNDIR(ctx, reduction);
  }
  int64_t k = idx->shape().back();
  if (k > data->rank())
    return ctx.emitError("indices address more dims than data has");
  int64_t slice = 1;
  for (int64_t d = k; d < data->rank(); ++d)
    slice *= data->shape()[d];
  HostTensor out = HostTensor::zeros(data->dtype(), data->shape());
  for (int64_t i = 0, n = data->numel(); i < n; ++i)
    copyElement(*data, i, out, i);
  int64_t updates = idx->numel() / std::max<int64_t>(k, 1);
  for (int64_t u = 0; u < updates; ++u) {
    SmallVector<int64_t> c(data->rank(), 0);
    for (int64_t d = 0; d < k; ++d) {
      int64_t v = idx->getInt(u * k + d);
      if (failed(requireIndexInRange(ctx, v, data->shape()[d])))
        return failure();
      c[d] = v;
    }
    int64_t base = flatten(c, data->shape());
    for (int64_t j = 0; j < slice; ++j)
      out.setDouble(base + j, combine(reduction, out.getDouble(base + j),
                                      upd->getDouble(u * slice + j)));
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

LogicalResult importTopK(NodeContext &ctx) {
  const HostTensor *x = ctx.constant(0);
  auto kc = ctx.requireConstant(1, "K");
  if (failed(kc))
    return failure();
  if (!x) {
    // Run time: llm.topk along the last axis (the MoE routing step).
    RankedTensorType type = ctx.type(0);
    auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), type.getRank());
    if (failed(axis))
      return failure();
    if (*axis != type.getRank() - 1 || !ctx.intAttr("largest", 1) ||
        !isa<FloatType>(type.getElementType()))
      return ctx.emitError(
          "on run-time inputs only the largest values of a float tensor "
          "along the last axis are supported");
    auto topk = llm::TopKOp::create(ctx.builder(), ctx.loc(), ctx.value(0),
                                    (*kc)->getInt(0));
    if (failed(verify(topk)))
      return failure();
    ctx.setOutput(0, topk.getValues());
    ctx.setOutput(1, topk.getIndices());
    return success();
  }
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), x->rank());
  if (failed(axis))
    return failure();
  int64_t k = (*kc)->getInt(0), dim = x->shape()[*axis];
  if (k < 0 || k > dim)
    return ctx.emitError("K = " + Twine(k) +
                         " is out of range for a dimension of " + Twine(dim));
  bool largest = ctx.intAttr("largest", 1) != 0;
  SmallVector<int64_t> outShape(x->shape());
  outShape[*axis] = k;
  HostTensor values = HostTensor::zeros(x->dtype(), outShape);
  HostTensor indices = HostTensor::zeros(DType::I64, outShape);
  SmallVector<int64_t> strides = stridesOf(x->shape());
  int64_t outer = x->numel() / std::max<int64_t>(dim, 1);
  SmallVector<int64_t> order(dim);
  for (int64_t s = 0; s < outer; ++s) {
    // Base offset of this line: decompose s over the non-axis dims.
    SmallVector<int64_t> lineShape(x->shape());
    lineShape[*axis] = 1;
    SmallVector<int64_t> c = unflatten(s, lineShape);
    int64_t base = flatten(c, x->shape());
    std::iota(order.begin(), order.end(), 0);
    // Ties go to the lower index, as in ONNX Runtime and torch.
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      double va = x->getDouble(base + a * strides[*axis]);
      double vb = x->getDouble(base + b * strides[*axis]);
      if (va != vb)
        return largest ? va > vb : va < vb;
      return a < b;
    });
    SmallVector<int64_t> oc = c;
    for (int64_t j = 0; j < k; ++j) {
      oc[*axis] = j;
      int64_t o = flatten(oc, outShape);
      copyElement(*x, base + order[j] * strides[*axis], values, o);
      indices.setInt(o, order[j]);
    }
  }
  ctx.setOutput(0, std::move(values));
  ctx.setOutput(1, std::move(indices));
  return success();
}

/// NonZero on a run-time tensor: count the non-zeros, then fill the
/// [rank, count] coordinates in one scf.for over the elements.
LogicalResult nonZeroIR(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  RankedTensorType type = ctx.type(0);
  Value x = ctx.value(0);
  int64_t rank = type.getRank();
  // Sizes and row-major strides as index values (dims may be dynamic).
  SmallVector<Value> dims, strides(rank);
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(getValueOrCreateConstantIndexOp(b, loc, ctx.dimSize(x, d)));
  Type element = type.getElementType();
  auto isNonZero = [&](OpBuilder &nb, Location nl, Value v) -> Value {
    if (isa<FloatType>(element))
      return arith::CmpFOp::create(
          nb, nl, arith::CmpFPredicate::UNE, v,
          arith::ConstantOp::create(nb, nl, nb.getFloatAttr(element, 0)));
    return arith::CmpIOp::create(
        nb, nl, arith::CmpIPredicate::ne, v,
        arith::ConstantOp::create(nb, nl, nb.getIntegerAttr(element, 0)));
  };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value end = one;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = end;
    end = arith::MulIOp::create(b, loc, end, dims[d]);
  }
  // A 1-D view: collapse every dim into one.
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  auto flatType = RankedTensorType::get(
      {type.hasStaticShape() ? type.getNumElements() : ShapedType::kDynamic},
      type.getElementType());
  Value flat =
      rank == 1
          ? x
          : Value(tensor::CollapseShapeOp::create(
                b, loc, flatType, x, SmallVector<ReassociationIndices>{all}));
  // Pass 1: the count.
  auto count = scf::ForOp::create(
      b, loc, zero, end, one, ValueRange{zero},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange acc) {
        Value v = tensor::ExtractOp::create(nb, nl, flat, ValueRange{i});
        Value inc =
            arith::SelectOp::create(nb, nl, isNonZero(nb, nl, v), one, zero);
        scf::YieldOp::create(
            nb, nl,
            ValueRange{arith::AddIOp::create(nb, nl, acc[0], inc).getResult()});
      });
  Value n = count.getResult(0);
  auto outType =
      RankedTensorType::get({rank, ShapedType::kDynamic}, b.getI64Type());
  Value init = tensor::EmptyOp::create(b, loc, outType, ValueRange{n});
  // Pass 2: the coordinates of each non-zero, in row-major order.
  auto fill = scf::ForOp::create(
      b, loc, zero, end, one, ValueRange{init, zero},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange acc) {
        Value v = tensor::ExtractOp::create(nb, nl, flat, ValueRange{i});
        auto branch = scf::IfOp::create(
            nb, nl, isNonZero(nb, nl, v),
            [&](OpBuilder &tb, Location tl) {
              Value out = acc[0];
              for (int64_t d = 0; d < rank; ++d) {
                Value c = arith::DivUIOp::create(tb, tl, i, strides[d]);
                c = arith::RemUIOp::create(tb, tl, c, dims[d]);
                Value c64 =
                    arith::IndexCastOp::create(tb, tl, tb.getI64Type(), c);
                Value row = arith::ConstantIndexOp::create(tb, tl, d);
                out = tensor::InsertOp::create(tb, tl, c64, out,
                                               ValueRange{row, acc[1]});
              }
              Value next = arith::AddIOp::create(tb, tl, acc[1], one);
              scf::YieldOp::create(tb, tl, ValueRange{out, next});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, acc);
            });
        scf::YieldOp::create(nb, nl, branch.getResults());
      });
  ctx.setOutput(0, fill.getResult(0));
  return success();
}

LogicalResult importNonZero(NodeContext &ctx) {
  const HostTensor *x = ctx.constant(0);
  if (!x) {
    if (failed(ctx.requireInput(0, "X")))
      return failure();
    return nonZeroIR(ctx);
  }
  SmallVector<int64_t> hits;
  for (int64_t i = 0, n = x->numel(); i < n; ++i)
    if (isFloat(x->dtype()) ? x->getDouble(i) != 0.0 : x->getInt(i) != 0)
      hits.push_back(i);
  int64_t nnz = hits.size();
  HostTensor out = HostTensor::zeros(DType::I64, {x->rank(), nnz});
  for (int64_t j = 0; j < nnz; ++j) {
    SmallVector<int64_t> c = unflatten(hits[j], x->shape());
    for (int64_t d = 0; d < x->rank(); ++d)
      out.setInt(d * nnz + j, c[d]);
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

LogicalResult importOneHot(NodeContext &ctx) {
  const HostTensor *idx = ctx.constant(0);
  auto depth = ctx.requireConstant(1, "depth");
  auto values = ctx.requireConstant(2, "values");
  if (failed(depth) || failed(values))
    return failure();
  int64_t d = (*depth)->getInt(0);
  if (!idx) {
    // out[.., c at axis, ..] = (indices[..] == c) ? on : off.
    OpBuilder &b = ctx.builder();
    Location loc = ctx.loc();
    RankedTensorType it = ctx.type(0);
    int64_t rank = it.getRank() + 1;
    auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), rank);
    if (failed(axis))
      return failure();
    Value v = ctx.value(0);
    SmallVector<int64_t> shape(it.getShape());
    SmallVector<OpFoldResult> sizes = mixedSizes(b, loc, v);
    shape.insert(shape.begin() + *axis, d);
    sizes.insert(sizes.begin() + *axis, b.getIndexAttr(d));
    Type element = toMlirType((*values)->dtype(), ctx.context());
    auto outType = RankedTensorType::get(shape, element);
    SmallVector<AffineExpr> inExprs;
    for (int64_t k = 0; k < rank; ++k)
      if (k != *axis)
        inExprs.push_back(b.getAffineDimExpr(k));
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, inExprs, b.getContext()),
        b.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    bool fp = isFloat((*values)->dtype());
    auto scalar = [&](OpBuilder &nb, Location nl, int64_t i) -> Value {
      return fp ? Value(arith::ConstantOp::create(
                      nb, nl,
                      nb.getFloatAttr(element, (*values)->getDouble(i))))
                : Value(arith::ConstantOp::create(
                      nb, nl,
                      nb.getIntegerAttr(element, (*values)->getInt(i))));
    };
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{outType}, ValueRange{v},
        ValueRange{emptyTensor(b, loc, outType, sizes)}, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value i = wrapIndex(nb, nl, args[0],
                              arith::ConstantIndexOp::create(nb, nl, d));
          Value c = linalg::IndexOp::create(nb, nl, *axis);
          Value hit =
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i, c);
          linalg::YieldOp::create(nb, nl,
                                  arith::SelectOp::create(nb, nl, hit,
                                                          scalar(nb, nl, 1),
                                                          scalar(nb, nl, 0))
                                      .getResult());
        });
    ctx.setOutput(0, generic.getResult(0));
    return success();
  }
  int64_t rank = idx->rank() + 1;
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", -1), rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> outShape(idx->shape());
  outShape.insert(outShape.begin() + *axis, d);
  HostTensor out = HostTensor::zeros((*values)->dtype(), outShape);
  for (int64_t o = 0, n = out.numel(); o < n; ++o) {
    SmallVector<int64_t> c = unflatten(o, outShape);
    int64_t cls = c[*axis];
    c.erase(c.begin() + *axis);
    int64_t v = idx->getInt(flatten(c, idx->shape()));
    if (v < 0)
      v += d;
    copyElement(**values, v == cls ? 1 : 0, out, o);
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

LogicalResult importTrilu(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  if (ctx.type(0).getRank() < 2)
    return ctx.emitError("input must have rank >= 2");
  bool upper = ctx.intAttr("upper", 1) != 0;
  const HostTensor *x = ctx.constant(0);
  const HostTensor *kc = ctx.hasInput(1) ? ctx.constant(1) : nullptr;
  if (x && (kc || !ctx.hasInput(1))) {
    int64_t k = kc ? kc->getInt(0) : 0;
    int64_t rows = x->shape()[x->rank() - 2], cols = x->shape().back();
    HostTensor out = HostTensor::zeros(x->dtype(), x->shape());
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      int64_t c = i % cols, r = (i / cols) % rows;
      bool keep = upper ? c - r >= k : c - r <= k;
      if (keep)
        copyElement(*x, i, out, i);
    }
    ctx.setOutput(0, std::move(out));
    return success();
  }
  // Run time: keep x[.., r, c] where c - r >= k (upper) or <= k (lower).
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  OpFoldResult k = b.getIndexAttr(0);
  if (ctx.hasInput(1)) {
    auto ints = requireInts(ctx, 1, "k");
    if (failed(ints))
      return failure();
    k = ints->elements[0];
  }
  Value x0 = ctx.value(0);
  auto type = cast<RankedTensorType>(x0.getType());
  int64_t rank = type.getRank();
  Value kv = getValueOrCreateConstantIndexOp(b, loc, k);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  Value init = emptyTensor(b, loc, type, mixedSizes(b, loc, x0));
  Type element = type.getElementType();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{x0}, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = linalg::IndexOp::create(nb, nl, rank - 2);
        Value c = linalg::IndexOp::create(nb, nl, rank - 1);
        Value diff = arith::SubIOp::create(nb, nl, c, r);
        Value keep = arith::CmpIOp::create(nb, nl,
                                           upper ? arith::CmpIPredicate::sge
                                                 : arith::CmpIPredicate::sle,
                                           diff, kv);
        Value zero = isa<FloatType>(element)
                         ? Value(arith::ConstantOp::create(
                               nb, nl, nb.getFloatAttr(element, 0)))
                         : Value(arith::ConstantOp::create(
                               nb, nl, nb.getIntegerAttr(element, 0)));
        linalg::YieldOp::create(
            nb, nl,
            arith::SelectOp::create(nb, nl, keep, args[0], zero).getResult());
      });
  ctx.setOutput(0, generic.getResult(0));
  return success();
}

/// CumSum on a run-time tensor: a linalg.generic over the input's dims
/// (parallel) and a second index j along `axis` (reduction) that adds x at j
/// into position i when j comes before i (or is i, unless exclusive; reverse
/// flips the order). Quadratic in the axis length, which for the position
/// sums of attention masks is the sequence length.
LogicalResult cumSumIR(NodeContext &ctx, int64_t axis, bool exclusive,
                       bool reverse) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Type element = ctx.type(0).getElementType();
  // Integer sums run on signless types; unsigned results are re-tagged.
  Value x = toSignless(b, loc, ctx.value(0));
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  MLIRContext *mctx = ctx.context();
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    inExprs.push_back(getAffineDimExpr(d == axis ? rank : d, mctx));
    outExprs.push_back(getAffineDimExpr(d, mctx));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inExprs, mctx),
                                 AffineMap::get(rank + 1, 0, outExprs, mctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  arith::CmpIPredicate counts =
      reverse
          ? (exclusive ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::sge)
          : (exclusive ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle);
  Value zeros = splat(b, loc, type, 0.0, mixedSizes(b, loc, x));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{x}, ValueRange{zeros}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value j = linalg::IndexOp::create(nb, nl, rank);
        Value i = linalg::IndexOp::create(nb, nl, axis);
        Value in = arith::CmpIOp::create(nb, nl, counts, j, i);
        Value sum = buildArith(nb, nl, Binary::Add, args[1], args[0],
                               /*isUnsigned=*/false);
        linalg::YieldOp::create(
            nb, nl,
            arith::SelectOp::create(nb, nl, in, sum, args[1]).getResult());
      });
  Value result = generic.getResult(0);
  if (element != type.getElementType())
    result = tensor::BitcastOp::create(b, loc, ctx.type(0), result);
  ctx.setOutput(0, result);
  return success();
}

LogicalResult importCumSum(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "x")))
    return failure();
  auto axisC = ctx.requireConstant(1, "axis");
  if (failed(axisC))
    return failure();
  auto axis = ctx.normalizeAxis((*axisC)->getInt(0), ctx.type(0).getRank());
  if (failed(axis))
    return failure();
  bool exclusive = ctx.intAttr("exclusive", 0),
       reverse = ctx.intAttr("reverse", 0);
  const HostTensor *x = ctx.constant(0);
  if (!x)
    return cumSumIR(ctx, *axis, exclusive, reverse);
  HostTensor out = HostTensor::zeros(x->dtype(), x->shape());
  int64_t dim = x->shape()[*axis];
  int64_t stride = stridesOf(x->shape())[*axis];
  for (int64_t i = 0, n = x->numel(); i < n; ++i) {
    if ((i / stride) % dim != 0)
      continue; // start lines at index 0 of the axis
    double acc = 0;
    for (int64_t j = 0; j < dim; ++j) {
      int64_t p = reverse ? dim - 1 - j : j;
      int64_t at = i + p * stride;
      double v = x->getDouble(at);
      if (exclusive) {
        out.setDouble(at, acc);
        acc += v;
      } else {
        acc += v;
        out.setDouble(at, acc);
      }
    }
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

/// ArgMax on a run-time tensor: one reduction carrying (max, index);
/// ties keep the first index, or the last with select_last_index.
LogicalResult argMaxIR(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), rank);
  if (failed(axis))
    return failure();
  bool keepDims = ctx.intAttr("keepdims", 1) != 0;
  bool last = ctx.intAttr("select_last_index", 0) != 0;
  Type element = type.getElementType();
  bool fp = isa<FloatType>(element);
  if (!fp && !element.isSignlessInteger())
    return ctx.emitError("run-time ArgMax needs a float or signed input");
  SmallVector<int64_t> rowShape;
  SmallVector<OpFoldResult> rowSizes, sizes = mixedSizes(b, loc, x);
  SmallVector<AffineExpr> rowExprs;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis) {
      rowShape.push_back(type.getDimSize(d));
      rowSizes.push_back(sizes[d]);
      rowExprs.push_back(b.getAffineDimExpr(d));
    }
  auto valueType = RankedTensorType::get(rowShape, element);
  auto indexType = RankedTensorType::get(rowShape, b.getI64Type());
  double lowest = fp ? -std::numeric_limits<double>::infinity()
                     : static_cast<double>(std::numeric_limits<int64_t>::min());
  Value best = splat(b, loc, valueType, lowest, rowSizes);
  Value index = splat(b, loc, indexType, -1.0, rowSizes);
  AffineMap rowMap = AffineMap::get(rank, 0, rowExprs, b.getContext());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters[*axis] = utils::IteratorType::reduction;
  auto reduce = linalg::GenericOp::create(
      b, loc, TypeRange{valueType, indexType}, ValueRange{x},
      ValueRange{best, index},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank), rowMap, rowMap},
      iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value j = arith::IndexCastOp::create(
            nb, nl, nb.getI64Type(), linalg::IndexOp::create(nb, nl, *axis));
        Value better =
            fp ? Value(arith::CmpFOp::create(nb, nl,
                                             last ? arith::CmpFPredicate::OGE
                                                  : arith::CmpFPredicate::OGT,
                                             a[0], a[1]))
               : Value(arith::CmpIOp::create(nb, nl,
                                             last ? arith::CmpIPredicate::sge
                                                  : arith::CmpIPredicate::sgt,
                                             a[0], a[1]));
        Value none = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::slt, a[2],
            arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(0)));
        Value take = arith::OrIOp::create(nb, nl, better, none);
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::SelectOp::create(nb, nl, take, a[0], a[1]),
                       arith::SelectOp::create(nb, nl, take, j, a[2])});
      });
  Value result = reduce.getResult(1);
  if (keepDims) {
    SmallVector<int64_t> shape(type.getShape());
    shape[*axis] = 1;
    SmallVector<OpFoldResult> outSizes(sizes);
    outSizes[*axis] = b.getIndexAttr(1);
    // Row dim r lands on output dim r (< axis) or r + 1; the unit dim at
    // `axis` joins its neighbour's group.
    SmallVector<ReassociationIndices> reassoc;
    for (int64_t r = 0; r + 1 < rank; ++r)
      reassoc.push_back({r < *axis ? r : r + 1});
    if (!reassoc.empty()) {
      ReassociationIndices &group = reassoc[*axis == 0 ? 0 : *axis - 1];
      group.push_back(*axis);
      llvm::sort(group);
    }
    if (rank == 1)
      reassoc.clear();
    result = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(shape, b.getI64Type()), result, reassoc,
        outSizes);
  }
  ctx.setOutput(0, result);
  return success();
}

LogicalResult importArgMax(NodeContext &ctx) {
  const HostTensor *x = ctx.constant(0);
  if (!x) {
    if (failed(ctx.requireInput(0, "data")))
      return failure();
    return argMaxIR(ctx);
  }
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), x->rank());
  if (failed(axis))
    return failure();
  bool keepDims = ctx.intAttr("keepdims", 1) != 0;
  bool last = ctx.intAttr("select_last_index", 0) != 0;
  SmallVector<int64_t> lineShape(x->shape());
  lineShape[*axis] = 1;
  HostTensor out = HostTensor::zeros(DType::I64, lineShape);
  int64_t dim = x->shape()[*axis], stride = stridesOf(x->shape())[*axis];
  for (int64_t s = 0, n = out.numel(); s < n; ++s) {
    int64_t base = flatten(unflatten(s, lineShape), x->shape());
    int64_t best = 0;
    for (int64_t j = 1; j < dim; ++j) {
      double v = x->getDouble(base + j * stride),
             bv = x->getDouble(base + best * stride);
      if (v > bv || (last && v == bv))
        best = j;
    }
    out.setInt(s, best);
  }
  if (!keepDims) {
    SmallVector<int64_t> shape(lineShape);
    shape.erase(shape.begin() + *axis);
    out = out.reshaped(shape);
  }
  ctx.setOutput(0, std::move(out));
  return success();
}

} // namespace

void llmc::onnx_import::registerIndexingOps(OpRegistry &r) {
  r.add("Gather", 13, importGather);
  r.add("GatherElements", 13, importGatherElements);
  r.add("ScatterElements", 13, importScatterElements);
  r.add("ScatterElements", 16, importScatterElements);
  r.add("ScatterND", 13, importScatterND);
  r.add("ScatterND", 16, importScatterND);
  r.add("TopK", 11, importTopK);
  r.add("NonZero", 13, importNonZero);
  r.add("OneHot", 11, importOneHot);
  r.add("Trilu", 14, importTrilu);
  r.add("CumSum", 14, importCumSum);
  r.add("CumSum", 11, importCumSum);
  r.add("ArgMax", 13, importArgMax);
}
