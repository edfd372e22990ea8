//===- IRHelpers.cpp - IR building blocks shared by op handlers -----------===//

#include "lib/Import/IRHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include "dialects/llm/LLMOps.h"
#include "dialects/llm/ShapeTracing.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace llmc::onnx_import;

FailureOr<SmallVector<int64_t>>
llmc::onnx_import::broadcastShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (ShapedType::isDynamic(da))
      out[i] = db;
    else if (ShapedType::isDynamic(db) || da == db)
      out[i] = da;
    else
      return failure();
  }
  return out;
}

SmallVector<OpFoldResult> llmc::onnx_import::mixedSizes(OpBuilder &b,
                                                        Location loc, Value v) {
  SmallVector<OpFoldResult> sizes;
  auto type = cast<RankedTensorType>(v.getType());
  for (int64_t d = 0; d < type.getRank(); ++d) {
    Value root;
    int64_t rootDim;
    OpFoldResult s = llm::traceDimSize(v, d, &root, &rootDim);
    sizes.push_back(
        s ? s
          : OpFoldResult(
                tensor::DimOp::create(b, loc, root, rootDim).getResult()));
  }
  return sizes;
}

Value llmc::onnx_import::emptyTensor(OpBuilder &b, Location loc,
                                     RankedTensorType type,
                                     ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamic;
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(d))
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[i]));
  return tensor::EmptyOp::create(b, loc, type, dynamic);
}

Value llmc::onnx_import::splat(OpBuilder &b, Location loc,
                               RankedTensorType type, double value,
                               ArrayRef<OpFoldResult> sizes) {
  Type element = type.getElementType();
  TypedAttr scalar =
      isa<FloatType>(element)
          ? TypedAttr(b.getFloatAttr(element, value))
          : TypedAttr(b.getIntegerAttr(element, static_cast<int64_t>(value)));
  if (type.hasStaticShape())
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, scalar));
  Value init = emptyTensor(b, loc, type, sizes);
  Value s = arith::ConstantOp::create(b, loc, scalar);
  return linalg::FillOp::create(b, loc, s, init).getResult(0);
}

Value llmc::onnx_import::broadcastTo(OpBuilder &b, Location loc, Value v,
                                     ArrayRef<int64_t> shape,
                                     ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  int64_t rank = type.getRank();
  int64_t offset = static_cast<int64_t>(shape.size()) - rank;
  // Input dims that keep their size; the others are unit dims to expand.
  SmallVector<int64_t> keptDims;
  for (int64_t j = 0; j < rank; ++j)
    if (!(type.getDimSize(j) == 1 && shape[j + offset] != 1))
      keptDims.push_back(j);
  Value source = v;
  if (static_cast<int64_t>(keptDims.size()) != rank) {
    // Collapse the unit dims away: group k spans the dims after kept dim
    // k-1 up to kept dim k; leading and trailing unit dims join the first
    // and last groups.
    SmallVector<ReassociationIndices> reassoc;
    SmallVector<int64_t> keptShape;
    for (size_t k = 0; k < keptDims.size(); ++k) {
      int64_t first = k == 0 ? 0 : keptDims[k - 1] + 1;
      int64_t last = k + 1 == keptDims.size() ? rank - 1 : keptDims[k];
      ReassociationIndices group;
      for (int64_t j = first; j <= last; ++j)
        group.push_back(j);
      reassoc.push_back(group);
      keptShape.push_back(type.getDimSize(keptDims[k]));
    }
    source = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(keptShape, type.getElementType()), v,
        reassoc);
  }
  SmallVector<int64_t> addedDims;
  for (int64_t i = 0, k = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (k < static_cast<int64_t>(keptDims.size()) &&
        keptDims[k] + offset == i) {
      ++k;
      continue;
    }
    addedDims.push_back(i);
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value init = emptyTensor(b, loc, resultType, sizes);
  return linalg::BroadcastOp::create(b, loc, source, init, addedDims)
      .getResult()[0];
}

SmallVector<Value> llmc::onnx_import::broadcastInputs(NodeContext &ctx,
                                                      ArrayRef<int> indices,
                                                      ArrayRef<int64_t> shape) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  // Result sizes: static dims as constants, dynamic ones from an input that
  // has the same dynamic dim at that position.
  SmallVector<OpFoldResult> sizes;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!ShapedType::isDynamic(shape[d])) {
      sizes.push_back(b.getIndexAttr(shape[d]));
      continue;
    }
    OpFoldResult size;
    for (int i : indices) {
      RankedTensorType t = ctx.type(i);
      int64_t pos = static_cast<int64_t>(d) -
                    (static_cast<int64_t>(shape.size()) - t.getRank());
      if (pos >= 0 && t.getDimSize(pos) != 1) {
        size = ctx.dimSize(ctx.value(i), pos);
        break;
      }
    }
    sizes.push_back(size);
  }
  SmallVector<Value> out;
  for (int i : indices) {
    const HostTensor *c = ctx.constant(i);
    RankedTensorType t = ctx.type(i);
    if (c && c->numel() > 0 && c->isSplat() &&
        t.getShape() != ArrayRef(shape)) {
      out.push_back(splat(b, loc,
                          RankedTensorType::get(shape, t.getElementType()),
                          c->getDouble(0), sizes));
      continue;
    }
    out.push_back(broadcastTo(b, loc, ctx.value(i), shape, sizes));
  }
  return out;
}

Value llmc::onnx_import::reshapeTo(OpBuilder &b, Location loc, Value v,
                                   ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  if (resultType.getRank() < type.getRank()) {
    if (auto reassoc =
            getReassociationIndicesForCollapse(type.getShape(), shape))
      return tensor::CollapseShapeOp::create(b, loc, resultType, v, *reassoc);
  } else if (resultType.getRank() > type.getRank()) {
    if (auto reassoc =
            getReassociationIndicesForCollapse(shape, type.getShape()))
      return tensor::ExpandShapeOp::create(b, loc, resultType, v, *reassoc);
  }
  // General case: through a 1-D tensor.
  int64_t n = type.getNumElements();
  auto flatType = RankedTensorType::get({n}, type.getElementType());
  Value flat = v;
  if (type.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    flat = tensor::CollapseShapeOp::create(
        b, loc, flatType, v,
        type.getRank() ? SmallVector<ReassociationIndices>{all}
                       : SmallVector<ReassociationIndices>{});
  }
  if (resultType.getRank() == 1)
    return flat;
  ReassociationIndices all;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    all.push_back(i);
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, flat,
      resultType.getRank() ? SmallVector<ReassociationIndices>{all}
                           : SmallVector<ReassociationIndices>{});
}

Value llmc::onnx_import::transpose(OpBuilder &b, Location loc, Value v,
                                   ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes, inSizes = mixedSizes(b, loc, v);
  for (int64_t p : perm) {
    shape.push_back(type.getDimSize(p));
    sizes.push_back(inSizes[p]);
  }
  Value init = emptyTensor(
      b, loc, RankedTensorType::get(shape, type.getElementType()), sizes);
  return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
}

Value llmc::onnx_import::buildArith(OpBuilder &b, Location loc, Binary op,
                                    Value x, Value y, bool isUnsigned) {
  bool fp = isa<FloatType>(getElementTypeOrSelf(x.getType()));
  switch (op) {
  case Binary::Add:
    return fp ? Value(arith::AddFOp::create(b, loc, x, y))
              : Value(arith::AddIOp::create(b, loc, x, y));
  case Binary::Sub:
    return fp ? Value(arith::SubFOp::create(b, loc, x, y))
              : Value(arith::SubIOp::create(b, loc, x, y));
  case Binary::Mul:
    return fp ? Value(arith::MulFOp::create(b, loc, x, y))
              : Value(arith::MulIOp::create(b, loc, x, y));
  case Binary::Div:
    return fp           ? Value(arith::DivFOp::create(b, loc, x, y))
           : isUnsigned ? Value(arith::DivUIOp::create(b, loc, x, y))
                        : Value(arith::DivSIOp::create(b, loc, x, y));
  case Binary::Pow:
    return fp ? Value(math::PowFOp::create(b, loc, x, y))
              : Value(math::IPowIOp::create(b, loc, x, y));
  case Binary::Max:
    return fp           ? Value(arith::MaximumFOp::create(b, loc, x, y))
           : isUnsigned ? Value(arith::MaxUIOp::create(b, loc, x, y))
                        : Value(arith::MaxSIOp::create(b, loc, x, y));
  case Binary::Min:
    return fp           ? Value(arith::MinimumFOp::create(b, loc, x, y))
           : isUnsigned ? Value(arith::MinUIOp::create(b, loc, x, y))
                        : Value(arith::MinSIOp::create(b, loc, x, y));
  }
  llvm_unreachable("unknown binary op");
}

Value llmc::onnx_import::toSignless(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  if (!intType || intType.isSignless())
    return v;
  return tensor::BitcastOp::create(
      b, loc, type.clone(b.getIntegerType(intType.getWidth())), v);
}

Value llmc::onnx_import::convertElements(OpBuilder &b, Location loc, Value v,
                                         Type to) {
  auto type = cast<RankedTensorType>(v.getType());
  Type from = type.getElementType();
  if (from == to)
    return v;
  bool fromUnsigned = from.isUnsignedInteger();
  auto toInt = dyn_cast<IntegerType>(to);
  // Compute on signless integers; re-tag an unsigned result at the end.
  Type target =
      toInt && !toInt.isSignless() ? b.getIntegerType(toInt.getWidth()) : to;
  v = toSignless(b, loc, v);
  type = cast<RankedTensorType>(v.getType());
  from = type.getElementType();
  auto resultType = type.clone(target);
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(target);
  Value result;
  if (from == target) {
    result = v;
  } else if (fromFloat && toFloat) {
    result = from.getIntOrFloatBitWidth() < target.getIntOrFloatBitWidth()
                 ? Value(arith::ExtFOp::create(b, loc, resultType, v))
                 : Value(arith::TruncFOp::create(b, loc, resultType, v));
  } else if (fromFloat) {
    if (target.isInteger(1)) {
      Value zero = splat(b, loc, type, 0.0, mixedSizes(b, loc, v));
      result =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    } else if (toInt && toInt.isUnsigned()) {
      result = arith::FPToUIOp::create(b, loc, resultType, v);
    } else {
      result = arith::FPToSIOp::create(b, loc, resultType, v);
    }
  } else if (toFloat) {
    result = from.isInteger(1) || fromUnsigned
                 ? Value(arith::UIToFPOp::create(b, loc, resultType, v))
                 : Value(arith::SIToFPOp::create(b, loc, resultType, v));
  } else {
    unsigned fw = from.getIntOrFloatBitWidth(),
             tw = target.getIntOrFloatBitWidth();
    if (tw == 1) {
      Value zero = splat(b, loc, type, 0.0, mixedSizes(b, loc, v));
      result = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
    } else if (fw < tw) {
      result = fw == 1 || fromUnsigned
                   ? Value(arith::ExtUIOp::create(b, loc, resultType, v))
                   : Value(arith::ExtSIOp::create(b, loc, resultType, v));
    } else if (fw > tw) {
      result = arith::TruncIOp::create(b, loc, resultType, v);
    } else {
      result = v;
    }
  }
  if (target != to)
    result = tensor::BitcastOp::create(b, loc, resultType.clone(to), result);
  return result;
}
