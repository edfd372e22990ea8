//===- MoeDecomposition.cpp - llm.moe as per-expert dispatch --------------===//

#include "dialects/llm/MoeDecomposition.h"
#include "dialects/llm/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

using IT = utils::IteratorType;

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value castFloat(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, to, v);
  return arith::TruncFOp::create(b, loc, to, v);
}

/// A linalg.generic over `type` (identity maps for every input of the same
/// shape, `maps` otherwise) computing `fn` of the inputs' elements.
Value generic(OpBuilder &b, Location loc, RankedTensorType type,
              ArrayRef<OpFoldResult> sizes, ValueRange inputs,
              ArrayRef<AffineMap> maps,
              function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  SmallVector<Value> dynamic;
  for (auto [i, size] : llvm::enumerate(sizes))
    if (type.isDynamicDim(i))
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  Value init = tensor::EmptyOp::create(b, loc, type, dynamic);
  SmallVector<AffineMap> all(maps);
  all.push_back(b.getMultiDimIdentityMap(type.getRank()));
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, all,
             SmallVector<IT>(type.getRank(), IT::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args.drop_back()));
             })
      .getResult(0);
}

/// Routing: the [T, k] chosen experts (i64) and their f32 weights: top-k of
/// softmax(logits), or with G groups the top k/G of every contiguous group
/// of E/G experts; divided by their sum with `normalize`.
std::pair<Value, Value> route(OpBuilder &b, Location loc, MoeOp op,
                              Value logits, OpFoldResult tokens) {
  MLIRContext *ctx = b.getContext();
  Value probs = SoftmaxOp::create(b, loc, logits, -1);
  int64_t experts = op.getNumExperts(), groups = op.getGroups(),
          k = op.getTopK(), width = experts / groups;
  int64_t staticTokens = cast<RankedTensorType>(probs.getType()).getDimSize(0);
  SmallVector<Value> values, indices;
  for (int64_t g = 0; g < groups; ++g) {
    Value slice = probs;
    if (groups > 1)
      slice = tensor::ExtractSliceOp::create(
          b, loc, probs,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(g * width)},
          ArrayRef<OpFoldResult>{tokens, b.getIndexAttr(width)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    auto top = TopKOp::create(b, loc, slice, k / groups);
    values.push_back(top.getValues());
    Value idx = top.getIndices();
    if (g > 0) {
      auto type = cast<RankedTensorType>(idx.getType());
      idx = generic(b, loc, type, {tokens, b.getIndexAttr(k / groups)},
                    ValueRange{idx}, {b.getMultiDimIdentityMap(2)},
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      return arith::AddIOp::create(
                          nb, nl, a[0],
                          arith::ConstantOp::create(
                              nb, nl, nb.getI64IntegerAttr(g * width)));
                    });
    }
    indices.push_back(idx);
  }
  Value weights = values.size() == 1
                      ? values[0]
                      : tensor::ConcatOp::create(b, loc, 1, values).getResult();
  Value chosen = indices.size() == 1
                     ? indices[0]
                     : tensor::ConcatOp::create(b, loc, 1, indices).getResult();
  // f32 weights, renormalised over the chosen k when asked.
  Type f32 = b.getF32Type();
  auto slotType = RankedTensorType::get({staticTokens, k}, f32);
  SmallVector<OpFoldResult> slotSizes = {tokens, b.getIndexAttr(k)};
  AffineMap id = b.getMultiDimIdentityMap(2);
  if (cast<RankedTensorType>(weights.getType()).getElementType() != f32)
    weights = generic(b, loc, slotType, slotSizes, ValueRange{weights}, {id},
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        return castFloat(nb, nl, a[0], f32);
                      });
  if (op.getNormalizeTopK()) {
    // Each weight over the sum of its row: one reduction, one division.
    AffineExpr t, r;
    bindDims(ctx, t, r);
    auto rowType = RankedTensorType::get({staticTokens}, f32);
    SmallVector<Value> dynamic;
    if (rowType.isDynamicDim(0))
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, tokens));
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    Value init =
        linalg::FillOp::create(
            b, loc, ValueRange{zero},
            ValueRange{tensor::EmptyOp::create(b, loc, rowType, dynamic)})
            .getResult(0);
    Value sum =
        linalg::GenericOp::create(
            b, loc, TypeRange{rowType}, ValueRange{weights}, ValueRange{init},
            ArrayRef<AffineMap>{AffineMap::get(2, 0, {t, r}, ctx),
                                AffineMap::get(2, 0, {t}, ctx)},
            ArrayRef<IT>{IT::parallel, IT::reduction},
            [](OpBuilder &nb, Location nl, ValueRange a) {
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
            })
            .getResult(0);
    weights = generic(b, loc, slotType, slotSizes, ValueRange{weights, sum},
                      {id, AffineMap::get(2, 0, {t}, ctx)},
                      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                        return arith::DivFOp::create(nb, nl, a[0], a[1]);
                      });
  }
  return {chosen, weights};
}

/// The tokens that chose expert `e`, in token order, with their weights:
/// (count, tokens [T] i64, weights [T] f32), the first `count` valid. A
/// sequential scan of the [T, k] choices, cheap next to the expert's GEMMs.
struct ExpertSlots {
  Value count, tokens, weights;
};

ExpertSlots collectSlots(OpBuilder &b, Location loc, Value chosen,
                         Value weights, int64_t expert, OpFoldResult tokens) {
  auto chosenType = cast<RankedTensorType>(chosen.getType());
  int64_t k = chosenType.getDimSize(1);
  Type i64 = b.getI64Type(), f32 = b.getF32Type();
  SmallVector<Value> dynamic;
  if (chosenType.isDynamicDim(0))
    dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, tokens));
  Value idx0 = tensor::EmptyOp::create(
      b, loc, RankedTensorType::get({chosenType.getDimSize(0)}, i64), dynamic);
  Value w0 = tensor::EmptyOp::create(
      b, loc, RankedTensorType::get({chosenType.getDimSize(0)}, f32), dynamic);
  Value slots = arith::MulIOp::create(
      b, loc, getValueOrCreateConstantIndexOp(b, loc, tokens),
      indexConst(b, loc, k));
  auto scan = scf::ForOp::create(
      b, loc, indexConst(b, loc, 0), slots, indexConst(b, loc, 1),
      ValueRange{indexConst(b, loc, 0), idx0, w0},
      [&](OpBuilder &nb, Location nl, Value s, ValueRange iter) {
        Value t = arith::DivUIOp::create(nb, nl, s, indexConst(nb, nl, k));
        Value r = arith::RemUIOp::create(nb, nl, s, indexConst(nb, nl, k));
        Value c = tensor::ExtractOp::create(nb, nl, chosen, ValueRange{t, r});
        Value hit = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::eq, c,
            arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(expert)));
        auto branch = scf::IfOp::create(
            nb, nl, hit,
            [&](OpBuilder &tb, Location tl) {
              Value count = iter[0];
              Value token = arith::IndexCastOp::create(tb, tl, i64, t);
              Value w =
                  tensor::ExtractOp::create(tb, tl, weights, ValueRange{t, r});
              Value idx = tensor::InsertOp::create(tb, tl, token, iter[1],
                                                   ValueRange{count});
              Value ws = tensor::InsertOp::create(tb, tl, w, iter[2],
                                                  ValueRange{count});
              Value next =
                  arith::AddIOp::create(tb, tl, count, indexConst(tb, tl, 1));
              scf::YieldOp::create(tb, tl, ValueRange{next, idx, ws});
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, iter);
            });
        scf::YieldOp::create(nb, nl, branch.getResults());
      });
  return {scan.getResult(0), scan.getResult(1), scan.getResult(2)};
}

/// Expert `e`'s [rows, cols] matrix of a stacked [E, rows, cols] weight: a
/// constant of its own when the stack is a constant (so that quantization
/// and the linear lowering's packing see a constant weight), else a slice.
Value expertWeight(OpBuilder &b, Location loc, Value stacked, int64_t e) {
  auto type = cast<RankedTensorType>(stacked.getType());
  int64_t rows = type.getDimSize(1), cols = type.getDimSize(2);
  auto sliceType = RankedTensorType::get({rows, cols}, type.getElementType());
  if (auto constant = stacked.getDefiningOp<arith::ConstantOp>()) {
    if (auto splat = dyn_cast<SplatElementsAttr>(constant.getValue()))
      return arith::ConstantOp::create(
          b, loc,
          SplatElementsAttr::get(sliceType, splat.getSplatValue<Attribute>()));
    if (Value slice = relayoutConstant(
            b, loc, constant, {rows, cols},
            [&](ArrayRef<int64_t> i) {
              return (e * rows + i[0]) * cols + i[1];
            },
            ("_expert" + Twine(e)).str()))
      return slice;
  }
  return tensor::ExtractSliceOp::create(
      b, loc, sliceType, stacked,
      ArrayRef<OpFoldResult>{b.getIndexAttr(e), b.getIndexAttr(0),
                             b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(rows),
                             b.getIndexAttr(cols)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
}

/// The expert MLP's activation of `v` (elementwise, any float type).
Value activate(OpBuilder &b, Location loc, Activation activation, Value v,
               ArrayRef<OpFoldResult> sizes) {
  switch (activation) {
  case Activation::silu:
    return SiluOp::create(b, loc, v.getType(), v);
  case Activation::gelu:
  case Activation::gelu_tanh:
    return GeluOp::create(b, loc, v.getType(), v,
                          GeluApproximationAttr::get(
                              b.getContext(), activation == Activation::gelu
                                                  ? GeluApproximation::none
                                                  : GeluApproximation::tanh));
  case Activation::relu:
    break;
  }
  auto type = cast<RankedTensorType>(v.getType());
  return generic(b, loc, type, sizes, ValueRange{v},
                 {b.getMultiDimIdentityMap(type.getRank())},
                 [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                   Value zero = arith::ConstantOp::create(
                       nb, nl, nb.getFloatAttr(type.getElementType(), 0.0));
                   return arith::MaximumFOp::create(nb, nl, a[0], zero);
                 });
}

/// Where expert `e`'s ops come from: the layer's name (its NameLoc, else
/// "moe") with "/group<g>/expert<e>/<part>" (route, gather, gate, up, act,
/// down, scatter), so that placement pins and reports can name an expert
/// group (MoGE: one group per device) or its projections.
Location expertLoc(MoeOp op, int64_t e, StringRef part) {
  std::string name = "moe";
  Location loc = op.getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner)) {
        loc = inner;
        break;
      }
  if (auto named = dyn_cast<NameLoc>(loc))
    name = named.getName().str();
  int64_t perGroup = op.getNumExperts() / op.getGroups();
  return NameLoc::get(
      StringAttr::get(op.getContext(),
                      name + "/group" + std::to_string(e / perGroup) +
                          "/expert" + std::to_string(e) + "/" + part.str()),
      op.getLoc());
}

} // namespace

FailureOr<Value> mlir::llm::decomposeMoe(OpBuilder &b, MoeOp op) {
  auto inputType = op.getInput().getType();
  if (inputType.getRank() < 2)
    return op.emitOpError("dispatch needs at least one token dimension "
                          "before the features");
  auto upType = op.getUpWeight().getType();
  if (!upType.hasStaticShape() ||
      ShapedType::isDynamic(inputType.getShape().back()))
    return op.emitOpError("dispatch needs static expert weights and a static "
                          "feature dimension");
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  // Tokens [..., D] are dispatched as rows [T, D].
  SmallVector<ReassociationIndices> rowsOf = {{}, {inputType.getRank() - 1}};
  for (int64_t d = 0; d + 1 < inputType.getRank(); ++d)
    rowsOf[0].push_back(d);
  auto flatten = [&](Value v) -> Value {
    if (inputType.getRank() == 2)
      return v;
    return tensor::CollapseShapeOp::create(b, loc, v, rowsOf);
  };
  Value x = flatten(op.getInput());
  auto xType = cast<RankedTensorType>(x.getType());
  Type element = xType.getElementType(), f32 = b.getF32Type();
  OpFoldResult tokens = tensor::getMixedSize(b, loc, x, 0);
  auto [chosen, weights] =
      route(b, loc, op, flatten(op.getRouterLogits()), tokens);

  int64_t ffn = op.getUpWeight().getType().getDimSize(1),
          dim = xType.getDimSize(1);
  auto outType = RankedTensorType::get({xType.getDimSize(0), dim}, f32);
  SmallVector<Value> dynamic;
  if (outType.isDynamicDim(0))
    dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, tokens));
  Value out =
      linalg::FillOp::create(
          b, loc,
          ValueRange{arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0))},
          ValueRange{tensor::EmptyOp::create(b, loc, outType, dynamic)})
          .getResult(0);
  AffineExpr c, d;
  bindDims(ctx, c, d);
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic, dim}, element);
  auto hType = RankedTensorType::get({ShapedType::kDynamic, ffn}, element);
  Location layerLoc = loc;
  for (int64_t e = 0, experts = op.getNumExperts(); e < experts; ++e) {
    Location loc = expertLoc(op, e, "gather");
    ExpertSlots slots =
        collectSlots(b, expertLoc(op, e, "route"), chosen, weights, e, tokens);
    // Gather: rows[c, :] = x[tokens[c], :] for c < count.
    Value valid = tensor::ExtractSliceOp::create(
        b, loc, slots.tokens, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{slots.count},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    Value rows = generic(
        b, loc, rowsType, {slots.count, b.getIndexAttr(dim)}, ValueRange{valid},
        {AffineMap::get(2, 0, {c}, ctx)},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value t = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), a[0]);
          return tensor::ExtractOp::create(
              nb, nl, x, ValueRange{t, linalg::IndexOp::create(nb, nl, 1)});
        });
    auto linear = [&](Value in, Value stacked, RankedTensorType type,
                      StringRef part) {
      Location at = expertLoc(op, e, part);
      return LinearOp::create(b, at, type, in, expertWeight(b, at, stacked, e),
                              Value())
          .getResult();
    };
    SmallVector<OpFoldResult> hSizes = {slots.count, b.getIndexAttr(ffn)};
    Value up = linear(rows, op.getUpWeight(), hType, "up");
    Value hidden;
    Location act = expertLoc(op, e, "act");
    if (Value gateWeight = op.getGateWeight())
      hidden = arith::MulFOp::create(
          b, act,
          activate(b, act, op.getActivation(),
                   linear(rows, gateWeight, hType, "gate"), hSizes),
          up);
    else
      hidden = activate(b, act, op.getActivation(), up, hSizes);
    Value y = linear(hidden, op.getDownWeight(), rowsType, "down");
    loc = expertLoc(op, e, "scatter");
    // Scatter: out[tokens[c], :] += weights[c] · y[c, :].
    auto rowType = RankedTensorType::get({1, dim}, f32);
    auto yRowType = RankedTensorType::get({1, dim}, element);
    out = scf::ForOp::create(
              b, loc, indexConst(b, loc, 0), slots.count, indexConst(b, loc, 1),
              ValueRange{out},
              [&](OpBuilder &nb, Location nl, Value slot, ValueRange iter) {
                Value t = arith::IndexCastOp::create(
                    nb, nl, nb.getIndexType(),
                    tensor::ExtractOp::create(nb, nl, slots.tokens,
                                              ValueRange{slot}));
                Value w = tensor::ExtractOp::create(nb, nl, slots.weights,
                                                    ValueRange{slot});
                SmallVector<OpFoldResult> size = {nb.getIndexAttr(1),
                                                  nb.getIndexAttr(dim)};
                SmallVector<OpFoldResult> one(2, nb.getIndexAttr(1));
                SmallVector<OpFoldResult> at = {t, nb.getIndexAttr(0)};
                Value current = tensor::ExtractSliceOp::create(
                    nb, nl, rowType, iter[0], at, size, one);
                Value contribution = tensor::ExtractSliceOp::create(
                    nb, nl, yRowType, y,
                    SmallVector<OpFoldResult>{slot, nb.getIndexAttr(0)}, size,
                    one);
                AffineMap id = nb.getMultiDimIdentityMap(2);
                Value sum = generic(
                    nb, nl, rowType, size, ValueRange{current, contribution},
                    {id, id},
                    [&](OpBuilder &gb, Location gl, ValueRange a) -> Value {
                      return math::FmaOp::create(
                          gb, gl, w, castFloat(gb, gl, a[1], f32), a[0]);
                    });
                Value updated = tensor::InsertSliceOp::create(
                    nb, nl, sum, iter[0], at, size, one);
                scf::YieldOp::create(nb, nl, updated);
              })
              .getResult(0);
  }
  Value result = out;
  if (element != f32)
    result = generic(b, layerLoc, xType, {tokens, b.getIndexAttr(dim)},
                     ValueRange{out}, {b.getMultiDimIdentityMap(2)},
                     [&](OpBuilder &nb, Location nl, ValueRange a) {
                       return castFloat(nb, nl, a[0], element);
                     });
  if (inputType.getRank() != 2)
    result = tensor::ExpandShapeOp::create(
        b, layerLoc, RankedTensorType::get(inputType.getShape(), element),
        result, rowsOf, tensor::getMixedSizes(b, loc, op.getInput()));
  if (result.getType() != op.getType())
    result = tensor::CastOp::create(b, layerLoc, op.getType(), result);
  return result;
}
