//===- LowerToLinalg.cpp - llm ops to linalg on tensors
//---------------------===//
//
// Straightforward, semantics-first lowerings: each llm op becomes
// linalg.generic contractions, reductions and elementwise maps. Broadcast
// operands use right-aligned indexing maps (size-1 dims read index 0).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/Silu.h"

#include "dialects/llm/ConstantData.h"
#include "dialects/llm/MoeDecomposition.h"
#include "lib/Quant/GroupQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/Sequence.h"

#include <cmath>
#include <limits>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMLOWERTOLINALG
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;
using namespace mlir::llm;

namespace {

using IT = utils::IteratorType;

Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamic;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[d]));
  return tensor::EmptyOp::create(b, loc, type, dynamic);
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type,
             ArrayRef<OpFoldResult> sizes, double value) {
  Value init = emptyLike(b, loc, type, sizes);
  Value scalar = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type.getElementType(), value));
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

/// Right-aligned NumPy broadcast of `operand` into the first `alignRank` of
/// `loopRank` loops, whose sizes are `target`.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       int64_t loopRank, int64_t alignRank,
                       ArrayRef<int64_t> target) {
  SmallVector<AffineExpr> exprs;
  int64_t shift = alignRank - operand.getRank();
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    int64_t loop = i + shift;
    bool broadcast = operand.getDimSize(i) == 1 && target[loop] != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(loop, ctx));
  }
  return AffineMap::get(loopRank, 0, exprs, ctx);
}

Value toF32(OpBuilder &b, Location loc, Value v) {
  return v.getType().isF32() || v.getType().getIntOrFloatBitWidth() > 32
             ? v
             : Value(arith::ExtFOp::create(b, loc, b.getF32Type(), v));
}

Value fromF32(OpBuilder &b, Location loc, Value v, Type t) {
  return v.getType() == t ? v : Value(arith::TruncFOp::create(b, loc, t, v));
}

Value floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

/// gelu(x) = 0.5 x (1 + erf(x / sqrt 2)), or with the tanh approximation
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), on a scalar.
Value geluScalar(OpBuilder &b, Location l, Value x, bool tanhForm) {
  Type t = x.getType();
  Value inner;
  if (tanhForm) {
    Value x3 =
        arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
    Value poly = arith::AddFOp::create(
        b, l, x,
        arith::MulFOp::create(b, l, floatConst(b, l, t, 0.044715), x3));
    inner = math::TanhOp::create(
        b, l,
        arith::MulFOp::create(b, l, floatConst(b, l, t, std::sqrt(2.0 / M_PI)),
                              poly));
  } else {
    inner = math::ErfOp::create(
        b, l, arith::MulFOp::create(b, l, x, floatConst(b, l, t, M_SQRT1_2)));
  }
  Value onePlus = arith::AddFOp::create(b, l, floatConst(b, l, t, 1.0), inner);
  Value half = arith::MulFOp::create(b, l, floatConst(b, l, t, 0.5), x);
  return arith::MulFOp::create(b, l, half, onePlus);
}

/// Body of a multiply-accumulate generic: yields a[2] + a[0] * a[1].
void yieldMulAdd(OpBuilder &b, Location l, ValueRange a) {
  Value p = arith::MulFOp::create(b, l, a[0], a[1]);
  linalg::YieldOp::create(b, l,
                          arith::AddFOp::create(b, l, p, a[2]).getResult());
}

/// yield fma(a0, a1, a2): one rounding, and a vector FMA once vectorised.
void yieldFma(OpBuilder &b, Location l, ValueRange a) {
  linalg::YieldOp::create(
      b, l, math::FmaOp::create(b, l, a[0], a[1], a[2]).getResult());
}

/// yieldMulAdd with the two factors widened to f32 (an f32 accumulator).
void yieldMulAddF32(OpBuilder &b, Location l, ValueRange a) {
  yieldMulAdd(b, l, {toF32(b, l, a[0]), toF32(b, l, a[1]), a[2]});
}

/// linalg.softmax over `axis`, decomposed into generics.
FailureOr<Value> decomposedSoftmax(PatternRewriter &rewriter, Location loc,
                                   Value input, int64_t axis) {
  auto type = cast<RankedTensorType>(input.getType());
  Value init = emptyLike(rewriter, loc, type,
                         tensor::getMixedSizes(rewriter, loc, input));
  auto softmax =
      linalg::SoftmaxOp::create(rewriter, loc, type, input, init, axis);
  FailureOr<SmallVector<Value>> parts = softmax.decomposeOperation(rewriter);
  if (failed(parts))
    return failure();
  rewriter.eraseOp(softmax);
  return (*parts)[0];
}

/// An elementwise map over `type` of the inputs (same shape).
Value elementwise(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange inputs, ArrayRef<OpFoldResult> sizes,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<IT> iters(rank, IT::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs,
             ValueRange{emptyLike(b, loc, type, sizes)}, maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args));
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Activations, softmax, transfer
//===----------------------------------------------------------------------===//

struct LowerSilu : OpRewritePattern<SiluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SiluOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, type, op.getInput(),
                        tensor::getMixedSizes(rewriter, loc, op.getInput()),
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return cpu::buildSilu(b, l, a[0]);
                        }));
    return success();
  }
};

struct LowerGelu : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool tanhForm = op.getApproximate() == GeluApproximation::tanh;
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, op.getType(), op.getInput(),
                        tensor::getMixedSizes(rewriter, loc, op.getInput()),
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          return geluScalar(b, l, a[0], tanhForm);
                        }));
    return success();
  }
};

struct LowerSoftmax : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Value> probs = decomposedSoftmax(
        rewriter, op.getLoc(), op.getInput(), op.getNormalizedAxis());
    if (failed(probs))
      return rewriter.notifyMatchFailure(op, "softmax did not decompose");
    rewriter.replaceOp(op, *probs);
    return success();
  }
};

struct LowerTransfer : OpRewritePattern<TransferOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransferOp op,
                                PatternRewriter &rewriter) const override {
    // On the host every device shares the CPU's memory.
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

/// Lanes of the partial sums a row sum keeps (one zmm of f32).
constexpr int64_t kSumLanes = 16;

/// Per-row sum over the last dim of f(x) in f32: [..., D] -> [...]. When
/// D is a multiple of kSumLanes the row is summed in that many lanes first
/// (x as [..., D/L, L], partial sums [..., L], the lanes the innermost,
/// parallel loop) and the lanes then added up: one chain of adds per row
/// was latency-bound (an f32 add chain cannot be vectorised without
/// reassociating it), the lanes are a vector add per L elements.
Value rowSum(OpBuilder &b, Location loc, Value x,
             function_ref<Value(OpBuilder &, Location, Value, ValueRange)> f,
             ValueRange extra = {}) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  int64_t depth = type.getShape().back();
  auto sizes = tensor::getMixedSizes(b, loc, x);
  auto rowType =
      RankedTensorType::get(type.getShape().drop_back(), b.getF32Type());
  SmallVector<OpFoldResult> rowSizes(ArrayRef(sizes).drop_back());
  // init + Σ fn(inputs) over loop `reduced` of `loops` loops.
  auto sumInto =
      [&](Value init, ValueRange inputs, SmallVector<AffineMap> maps,
          int64_t loops, int64_t reduced,
          function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
        SmallVector<IT> iters(loops, IT::parallel);
        iters[reduced] = IT::reduction;
        return linalg::GenericOp::create(
                   b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
                   maps, iters,
                   [&](OpBuilder &nb, Location nl, ValueRange args) {
                     linalg::YieldOp::create(
                         nb, nl,
                         arith::AddFOp::create(nb, nl, fn(nb, nl, args),
                                               args.back())
                             .getResult());
                   })
            .getResult(0);
      };
  auto term = [&](OpBuilder &nb, Location nl, ValueRange args) {
    return f(nb, nl, toF32(nb, nl, args[0]), args.drop_front().drop_back());
  };
  if (ShapedType::isDynamic(depth) || depth % kSumLanes != 0 ||
      depth == kSumLanes) {
    SmallVector<AffineMap> maps(1 + extra.size(),
                                b.getMultiDimIdentityMap(rank));
    for (size_t i = 0; i < extra.size(); ++i)
      maps[1 + i] = b.getMultiDimIdentityMap(rank).dropResult(rank - 1);
    maps.push_back(b.getMultiDimIdentityMap(rank).dropResult(rank - 1));
    SmallVector<Value> inputs = {x};
    llvm::append_range(inputs, extra);
    return sumInto(filled(b, loc, rowType, rowSizes, 0.0), inputs, maps, rank,
                   rank - 1, term);
  }
  // x as [..., D/L, L]; loops (rows..., j, l), j reduced.
  SmallVector<int64_t> lanedShape(type.getShape().drop_back());
  lanedShape.append({depth / kSumLanes, kSumLanes});
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t d = 0; d + 1 < rank; ++d)
    reassoc.push_back({d});
  reassoc.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> lanedSizes(rowSizes);
  lanedSizes.append(
      {b.getIndexAttr(depth / kSumLanes), b.getIndexAttr(kSumLanes)});
  Value laned = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(lanedShape, type.getElementType()), x,
      reassoc, lanedSizes);
  AffineMap all = b.getMultiDimIdentityMap(rank + 1);
  SmallVector<AffineMap> maps = {all};
  for (size_t i = 0; i < extra.size(); ++i)
    maps.push_back(all.dropResults({rank - 1, rank}));
  maps.push_back(all.dropResult(rank - 1));
  SmallVector<Value> inputs = {laned};
  llvm::append_range(inputs, extra);
  SmallVector<int64_t> laneShape(type.getShape().drop_back());
  laneShape.push_back(kSumLanes);
  SmallVector<OpFoldResult> laneSizes(rowSizes);
  laneSizes.push_back(b.getIndexAttr(kSumLanes));
  Value lanes =
      sumInto(filled(b, loc, RankedTensorType::get(laneShape, b.getF32Type()),
                     laneSizes, 0.0),
              inputs, maps, rank + 1, rank - 1, term);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  return sumInto(
      filled(b, loc, rowType, rowSizes, 0.0), ValueRange{lanes},
      {id, id.dropResult(rank - 1)}, rank, rank - 1,
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

/// out = (x - mean) * inv * weight + bias, with per-row mean and inv.
Value normalize(OpBuilder &b, Location loc, Value x, Value mean, Value inv,
                Value weight, Value bias) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  auto sizes = tensor::getMixedSizes(b, loc, x);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap row = id.dropResult(rank - 1);
  AffineMap feature =
      AffineMap::get(rank, 0, b.getAffineDimExpr(rank - 1), b.getContext());
  SmallVector<Value> inputs = {x, inv};
  SmallVector<AffineMap> maps = {id, row};
  if (mean) {
    inputs.push_back(mean);
    maps.push_back(row);
  }
  if (weight) {
    inputs.push_back(weight);
    maps.push_back(feature);
  }
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(feature);
  }
  maps.push_back(id);
  SmallVector<IT> iters(rank, IT::parallel);
  Type element = type.getElementType();
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs,
             ValueRange{emptyLike(b, loc, type, sizes)}, maps, iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               int next = 2;
               Value v = toF32(nb, nl, args[0]);
               if (mean)
                 v = arith::SubFOp::create(nb, nl, v, args[next++]);
               v = arith::MulFOp::create(nb, nl, v, args[1]);
               if (weight)
                 v = arith::MulFOp::create(nb, nl, v,
                                           toF32(nb, nl, args[next++]));
               if (bias)
                 v = arith::AddFOp::create(nb, nl, v,
                                           toF32(nb, nl, args[next++]));
               linalg::YieldOp::create(nb, nl, fromF32(nb, nl, v, element));
             })
      .getResult(0);
}

/// 1 / sqrt(sum / D + eps) per row.
Value inverseRoot(OpBuilder &b, Location loc, Value sum, int64_t dim,
                  float eps) {
  auto type = cast<RankedTensorType>(sum.getType());
  return elementwise(b, loc, type, sum, tensor::getMixedSizes(b, loc, sum),
                     [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                       Type f32 = nb.getF32Type();
                       Value mean = arith::DivFOp::create(
                           nb, nl, a[0], floatConst(nb, nl, f32, dim));
                       Value t = arith::AddFOp::create(
                           nb, nl, mean, floatConst(nb, nl, f32, eps));
                       return math::RsqrtOp::create(nb, nl, t);
                     });
}

struct LowerRMSNorm : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    int64_t dim = op.getType().getShape().back();
    if (ShapedType::isDynamic(dim))
      return rewriter.notifyMatchFailure(op, "dynamic feature dim");
    Location loc = op.getLoc();
    Value sum = rowSum(rewriter, loc, op.getInput(),
                       [](OpBuilder &b, Location l, Value x, ValueRange) {
                         return Value(arith::MulFOp::create(b, l, x, x));
                       });
    Value inv =
        inverseRoot(rewriter, loc, sum, dim, op.getEpsilon().convertToFloat());
    rewriter.replaceOp(op, normalize(rewriter, loc, op.getInput(), Value(), inv,
                                     op.getWeight(), Value()));
    return success();
  }
};

struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    int64_t dim = op.getType().getShape().back();
    if (ShapedType::isDynamic(dim))
      return rewriter.notifyMatchFailure(op, "dynamic feature dim");
    Location loc = op.getLoc();
    Value sum =
        rowSum(rewriter, loc, op.getInput(),
               [](OpBuilder &, Location, Value x, ValueRange) { return x; });
    auto rowType = cast<RankedTensorType>(sum.getType());
    Value mean = elementwise(
        rewriter, loc, rowType, sum, tensor::getMixedSizes(rewriter, loc, sum),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::DivFOp::create(b, l, a[0],
                                       floatConst(b, l, b.getF32Type(), dim));
        });
    Value sq = rowSum(
        rewriter, loc, op.getInput(),
        [](OpBuilder &b, Location l, Value x, ValueRange m) {
          Value d = arith::SubFOp::create(b, l, x, m[0]);
          return Value(arith::MulFOp::create(b, l, d, d));
        },
        mean);
    Value inv =
        inverseRoot(rewriter, loc, sq, dim, op.getEpsilon().convertToFloat());
    rewriter.replaceOp(op, normalize(rewriter, loc, op.getInput(), mean, inv,
                                     op.getWeight(), op.getBias()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// The accumulator of a linear layer's output [..., N] of `sizes`: the
/// bias broadcast over the rows, or zeros.
Value linearInit(OpBuilder &b, Location loc, RankedTensorType outType,
                 ArrayRef<OpFoldResult> sizes, Value bias) {
  if (!bias)
    return filled(b, loc, outType, sizes, 0.0);
  int64_t rank = outType.getRank();
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ValueRange{bias},
             ValueRange{emptyLike(b, loc, outType, sizes)},
             ArrayRef<AffineMap>{AffineMap::get(rank, 0,
                                                b.getAffineDimExpr(rank - 1),
                                                b.getContext()),
                                 b.getMultiDimIdentityMap(rank)},
             SmallVector<IT>(rank, IT::parallel),
             [](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, a[0]);
             })
      .getResult(0);
}

/// Columns per panel of a packed weight: the widest of 32, 16 and 8 that
/// divides n (a register-tile row for llm-cpu-vectorize-linear), else all
/// of them in one panel when that is narrow enough. No panel width divides
/// a wide N (a vocabulary of 50257): panels of 32, the columns past N
/// padded with zero weights (panelled slices the output back to N).
int64_t panelWidth(int64_t n) {
  for (int64_t width : {32, 16, 8})
    if (n % width == 0)
      return width;
  return n > cpu::kMaxPanelWidth ? 32 : n;
}

/// The loops of a generic over a panelled linear: d0 = panel, then the
/// leading dims, then d(rank) = k (the reduction), d(rank+1) = column in
/// the panel.
struct PanelLoops {
  int64_t count;
  AffineExpr panel, k, column;
  AffineMap input;  // x[lead..., k]
  AffineMap output; // y[lead..., panel, column]
  SmallVector<IT> iterators;

  /// [panel, kExpr, column]: a packed operand indexed by `kExpr`.
  AffineMap packed(AffineExpr kExpr) const {
    return AffineMap::get(count, 0, {panel, kExpr, column}, panel.getContext());
  }
};

/// The loops of a panelled linear whose output [..., N] has rank `rank`.
PanelLoops panelLoops(OpBuilder &b, int64_t rank) {
  PanelLoops loops;
  loops.count = rank + 2;
  SmallVector<AffineExpr> xExprs, yExprs;
  for (int64_t d = 1; d < rank; ++d) {
    xExprs.push_back(b.getAffineDimExpr(d));
    yExprs.push_back(b.getAffineDimExpr(d));
  }
  loops.panel = b.getAffineDimExpr(0);
  loops.k = b.getAffineDimExpr(rank);
  loops.column = b.getAffineDimExpr(rank + 1);
  xExprs.push_back(loops.k);
  yExprs.append({loops.panel, loops.column});
  loops.input = AffineMap::get(loops.count, 0, xExprs, b.getContext());
  loops.output = AffineMap::get(loops.count, 0, yExprs, b.getContext());
  loops.iterators.assign(rank, IT::parallel);
  loops.iterators.append({IT::reduction, IT::parallel});
  return loops;
}

/// y[lead..., p, c] = init + Σ_k x[lead..., k] · packed[p, k, c]: the generic
/// llm-cpu-vectorize-linear turns into register-tiled code.
Value packedGeneric(OpBuilder &b, Location loc, RankedTensorType type, Value x,
                    Value packed, Value init, const PanelLoops &loops) {
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x, packed}, ValueRange{init},
             ArrayRef<AffineMap>{loops.input, loops.packed(loops.k),
                                 loops.output},
             loops.iterators, yieldFma)
      .getResult(0);
}

/// A linear layer over a weight packed into panels of `nb` output columns:
/// `init` [..., N] is viewed as [..., ⌈N/nb⌉, nb] (padded past N when nb does
/// not divide N), `build` computes that blocked output from the blocked
/// accumulator with a generic over `loops`, and the result is viewed back
/// as [..., N].
Value panelled(PatternRewriter &rewriter, Location loc,
               RankedTensorType resultType, int64_t n, int64_t nb, Value init,
               function_ref<Value(RankedTensorType blockedType,
                                  Value blockedInit, const PanelLoops &loops)>
                   build) {
  int64_t blocks = (n + nb - 1) / nb;
  bool padded = blocks * nb != n;
  RankedTensorType outType = resultType;
  if (padded) {
    SmallVector<int64_t> shape(outType.getShape());
    shape.back() = blocks * nb;
    auto paddedType = RankedTensorType::get(shape, outType.getElementType());
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, init);
    SmallVector<OpFoldResult> paddedSizes(sizes);
    paddedSizes.back() = rewriter.getIndexAttr(blocks * nb);
    SmallVector<OpFoldResult> zeros(shape.size(), rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ones(shape.size(), rewriter.getIndexAttr(1));
    init = tensor::InsertSliceOp::create(
        rewriter, loc, init,
        filled(rewriter, loc, paddedType, paddedSizes, 0.0), zeros, sizes,
        ones);
    outType = paddedType;
  }
  int64_t rank = outType.getRank();
  // [..., N] <-> [..., B, N / B]: the last dim splits into static ones.
  SmallVector<ReassociationIndices> reassoc;
  for (int64_t d = 0; d < rank - 1; ++d)
    reassoc.push_back({d});
  reassoc.push_back({rank - 1, rank});
  SmallVector<int64_t> blockedShape(outType.getShape().drop_back());
  blockedShape.append({blocks, nb});
  auto blockedType =
      RankedTensorType::get(blockedShape, outType.getElementType());
  auto sizes = tensor::getMixedSizes(rewriter, loc, init);
  sizes.back() = rewriter.getIndexAttr(blocks);
  sizes.push_back(rewriter.getIndexAttr(nb));
  Value blockedInit = tensor::ExpandShapeOp::create(rewriter, loc, blockedType,
                                                    init, reassoc, sizes);
  Value y = build(blockedType, blockedInit, panelLoops(rewriter, rank));
  Value result =
      tensor::CollapseShapeOp::create(rewriter, loc, outType, y, reassoc);
  if (!padded)
    return result;
  SmallVector<OpFoldResult> resultSizes =
      tensor::getMixedSizes(rewriter, loc, result);
  resultSizes.back() = rewriter.getIndexAttr(n);
  SmallVector<OpFoldResult> zeros(rank, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(rank, rewriter.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(rewriter, loc, resultType, result,
                                        zeros, resultSizes, ones)
      .getResult();
}

/// Whether `value` is available at `op`: an argument of a block that holds
/// it, or defined before it in its block.
bool dominatesOp(Value value, Operation *op) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return arg.getOwner()->findAncestorOpInBlock(*op) != nullptr;
  Operation *def = value.getDefiningOp();
  Operation *ancestor = def->getBlock()->findAncestorOpInBlock(*op);
  return ancestor && def->isBeforeInBlock(ancestor);
}

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getInput();
    auto outType = op.getType();
    int64_t rank = outType.getRank();
    // One generic over [..., N, K]: the leading dims stay as they are rather
    // than being collapsed into rows (no reshape around the contraction).
    auto sizes = tensor::getMixedSizes(rewriter, loc, x);
    sizes.back() = tensor::getMixedSize(rewriter, loc, op.getWeight(), 0);
    SmallVector<AffineExpr> lead;
    for (int64_t d = 0; d < rank - 1; ++d)
      lead.push_back(rewriter.getAffineDimExpr(d));
    AffineExpr n = rewriter.getAffineDimExpr(rank - 1);
    AffineExpr k = rewriter.getAffineDimExpr(rank);
    auto withTail = [&](ArrayRef<AffineExpr> tail) {
      SmallVector<AffineExpr> e(lead);
      e.append(tail.begin(), tail.end());
      return e;
    };
    Type element = outType.getElementType();
    bool sameFloat = isa<FloatType>(element) &&
                     op.getInput().getType().getElementType() == element &&
                     op.getWeight().getType().getElementType() == element;
    if (auto constant = op.getWeight().getDefiningOp<arith::ConstantOp>();
        constant && sameFloat) {
      // y + r where only that sum reads y (a residual connection after an
      // attention output or down projection): the kernel's accumulators
      // start from r, and the sum is y itself.
      arith::AddFOp residualAdd;
      Value residual;
      if (!op.getBias() && op->hasOneUse())
        if (auto add = dyn_cast<arith::AddFOp>(*op->getUsers().begin());
            add && add.getType() == outType) {
          Value other =
              add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
          if (other != op.getResult() && dominatesOp(other, op)) {
            residualAdd = add;
            residual = other;
          }
        }
      Value init =
          residual ? residual
                   : linearInit(rewriter, loc, outType, sizes, op.getBias());
      FailureOr<Value> y = packedLinear(rewriter, op, constant, init);
      if (succeeded(y)) {
        if (residualAdd) {
          rewriter.replaceOp(residualAdd, *y);
          rewriter.eraseOp(op);
        } else {
          rewriter.replaceOp(op, *y);
        }
        return success();
      }
    }
    Value init = linearInit(rewriter, loc, outType, sizes, op.getBias());
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, withTail({k}), ctx),
        AffineMap::get(rank + 1, 0, {n, k}, ctx),
        AffineMap::get(rank + 1, 0, withTail({n}), ctx)};
    SmallVector<IT> iterators(rank, IT::parallel);
    iterators.push_back(IT::reduction);
    Value y = linalg::GenericOp::create(rewriter, loc, TypeRange{outType},
                                        ValueRange{x, op.getWeight()},
                                        ValueRange{init}, maps, iterators,
                                        yieldMulAdd)
                  .getResult(0);
    rewriter.replaceOp(op, y);
    return success();
  }

  /// A constant weight [N, K] is packed at compile time into panels
  /// [N / NR, K, NR] of NR output columns each, and the linear becomes one
  /// generic with loops (panel, leading dims, k, column): each panel's
  /// weights are one contiguous stream, read a row of NR at a time, and the
  /// innermost loop has no reduction in it. llm-cpu-vectorize-linear turns
  /// it into register-tiled vector code. Each output sums over k in order.
  /// `init` is the [..., N] accumulator (bias or zeros). Fails when the
  /// weight's bytes are not available.
  static FailureOr<Value> packedLinear(PatternRewriter &rewriter, LinearOp op,
                                       arith::ConstantOp constant, Value init) {
    Location loc = op.getLoc();
    auto wType = op.getWeight().getType();
    if (!wType.hasStaticShape())
      return failure();
    int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
    int64_t nb = panelWidth(n);
    int64_t blocks = (n + nb - 1) / nb;
    Value packed = relayoutConstant(
        rewriter, loc, constant, {blocks, k, nb},
        [&](ArrayRef<int64_t> i) -> int64_t {
          int64_t column = i[0] * nb + i[2];
          return column < n ? column * k + i[1] : -1;
        },
        "_packed");
    if (!packed)
      return failure();
    return panelled(rewriter, loc, op.getType(), n, nb, init,
                    [&](RankedTensorType blockedType, Value blockedInit,
                        const PanelLoops &loops) {
                      return packedGeneric(rewriter, loc, blockedType,
                                           op.getInput(), packed, blockedInit,
                                           loops);
                    });
  }
};

/// Whether `slice` takes whole rows of `y` ([..., N], rows as in `x`):
/// offsets 0 and unit strides, each leading size y's or x's own.
bool takesWholeRows(tensor::ExtractSliceOp slice, Value y, Value x) {
  int64_t rank = slice.getSourceType().getRank();
  if (slice.getResultType().getRank() != rank ||
      !llvm::all_of(slice.getMixedStrides(), isOneInteger))
    return false;
  for (int64_t d = 0; d + 1 < rank; ++d) {
    if (!isZeroInteger(slice.getMixedOffsets()[d]))
      return false;
    OpFoldResult size = slice.getMixedSizes()[d];
    if (std::optional<int64_t> v = getConstantIntValue(size)) {
      if (*v != slice.getSourceType().getDimSize(d))
        return false;
      continue;
    }
    auto dim = cast<Value>(size).getDefiningOp<tensor::DimOp>();
    std::optional<int64_t> index = dim ? dim.getConstantIndex() : std::nullopt;
    if (!dim || index != d || (dim.getSource() != y && dim.getSource() != x))
      return false;
  }
  return true;
}

/// silu(y[..., :F]) · y[..., F:] over y = x·Wᵀ with W a constant [2F, K]
/// (a SwiGLU MLP's gate and up projections, which llm-fuse-linears made one
/// linear): the weight is packed into panels of the 16 gate columns
/// 16p..16p+15 followed by the same 16 up columns, the linear computes y
/// in that order ([..., F/16, 32]) and a generic tagged kGatedSiluAttr
/// computes silu(gate)·up from the panels' two halves (slices
/// [..., F/16, 16]) into [..., F/16, 16], that is [..., F].
/// llm-cpu-vectorize-linear computes the product in the GEMM's registers: the
/// gate and up halves are never written, and the product needs no pass of its
/// own.
struct LowerGatedLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kHalf = cpu::kGatedHalf;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto constant = op.getWeight().getDefiningOp<arith::ConstantOp>();
    auto wType = op.getWeight().getType();
    auto outType = op.getType();
    Type f32 = rewriter.getF32Type();
    if (!constant || op.getBias() || !wType.hasStaticShape() ||
        outType.getElementType() != f32 || wType.getElementType() != f32 ||
        op.getInput().getType().getElementType() != f32)
      return rewriter.notifyMatchFailure(op, "not an f32 constant linear");
    int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
    int64_t f = n / 2;
    if (n % (2 * kHalf) != 0)
      return rewriter.notifyMatchFailure(op, "halves not in panels of 16");
    // Two readers, the gate half [0, F) and the up half [F, 2F), and sizes
    // of leading dims (the input's).
    tensor::ExtractSliceOp gate, up;
    SmallVector<tensor::DimOp> dims;
    for (Operation *user : op->getUsers()) {
      if (auto dim = dyn_cast<tensor::DimOp>(user)) {
        std::optional<int64_t> index = dim.getConstantIndex();
        if (!index || *index + 1 >= outType.getRank())
          return rewriter.notifyMatchFailure(op, "asked for its width");
        dims.push_back(dim);
        continue;
      }
      auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
      if (!slice || !slice->hasOneUse() ||
          !takesWholeRows(slice, op.getResult(), op.getInput()))
        return rewriter.notifyMatchFailure(op, "not read as two halves");
      std::optional<int64_t> offset =
          getConstantIntValue(slice.getMixedOffsets().back());
      std::optional<int64_t> size =
          getConstantIntValue(slice.getMixedSizes().back());
      if (size != f || !offset || (*offset != 0 && *offset != f))
        return rewriter.notifyMatchFailure(op, "not read as two halves");
      (*offset == 0 ? gate : up) = slice;
    }
    if (!gate || !up || gate == up)
      return rewriter.notifyMatchFailure(op, "not read as two halves");
    auto silu = dyn_cast<SiluOp>(*gate->getUsers().begin());
    if (!silu || !silu->hasOneUse())
      return rewriter.notifyMatchFailure(op, "the gate half is not a SiLU's");
    auto mul = dyn_cast<arith::MulFOp>(*silu->getUsers().begin());
    if (!mul || *up->getUsers().begin() != mul.getOperation() ||
        mul.getType() != silu.getType())
      return rewriter.notifyMatchFailure(op, "not silu(gate) * up");

    Location loc = op.getLoc();
    int64_t panels = f / kHalf;
    Value packed = relayoutConstant(
        rewriter, loc, constant, {panels, k, 2 * kHalf},
        [&](ArrayRef<int64_t> i) -> int64_t {
          int64_t column = i[2] < kHalf ? i[0] * kHalf + i[2]
                                        : f + i[0] * kHalf + i[2] - kHalf;
          return column * k + i[1];
        },
        "_gated");
    if (!packed)
      return rewriter.notifyMatchFailure(op, "the weight's bytes are missing");
    for (tensor::DimOp dim : dims)
      rewriter.modifyOpInPlace(
          dim, [&] { dim.getSourceMutable().assign(op.getInput()); });
    int64_t rank = outType.getRank();
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, op.getInput());
    sizes.pop_back();
    auto blocked = [&](int64_t width) {
      SmallVector<int64_t> shape(outType.getShape().drop_back());
      shape.append({panels, width});
      return RankedTensorType::get(shape, f32);
    };
    SmallVector<OpFoldResult> blockedSizes(sizes);
    blockedSizes.append(
        {rewriter.getIndexAttr(panels), rewriter.getIndexAttr(2 * kHalf)});
    Value y = packedGeneric(
        rewriter, loc, blocked(2 * kHalf), op.getInput(), packed,
        filled(rewriter, loc, blocked(2 * kHalf), blockedSizes, 0.0),
        panelLoops(rewriter, rank));
    // h[..., p, c] = silu(y[..., p, c]) · y[..., p, 16 + c]: the halves of
    // each panel as slices (a map c + 16 would make the loop run to 32).
    blockedSizes.back() = rewriter.getIndexAttr(kHalf);
    auto half = [&](int64_t offset) {
      SmallVector<OpFoldResult> offsets(rank + 1, rewriter.getIndexAttr(0));
      offsets.back() = rewriter.getIndexAttr(offset);
      return tensor::ExtractSliceOp::create(
                 rewriter, loc, blocked(kHalf), y, offsets, blockedSizes,
                 SmallVector<OpFoldResult>(rank + 1, rewriter.getIndexAttr(1)))
          .getResult();
    };
    AffineMap id = rewriter.getMultiDimIdentityMap(rank + 1);
    auto gated = linalg::GenericOp::create(
        rewriter, loc, TypeRange{blocked(kHalf)},
        ValueRange{half(0), half(kHalf)},
        ValueRange{emptyLike(rewriter, loc, blocked(kHalf), blockedSizes)},
        ArrayRef<AffineMap>{id, id, id},
        SmallVector<IT>(rank + 1, IT::parallel),
        [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(
              b, l,
              arith::MulFOp::create(b, l, cpu::buildSilu(b, l, a[0]), a[1])
                  .getResult());
        });
    gated->setAttr(cpu::kGatedSiluAttr, rewriter.getUnitAttr());
    SmallVector<ReassociationIndices> reassoc;
    for (int64_t d = 0; d + 1 < rank; ++d)
      reassoc.push_back({d});
    reassoc.push_back({rank - 1, rank});
    Value h = tensor::CollapseShapeOp::create(rewriter, loc, mul.getType(),
                                              gated.getResult(0), reassoc);
    rewriter.replaceOp(mul, h);
    rewriter.eraseOp(silu);
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    rewriter.eraseOp(op);
    return success();
  }
};

/// The code at bit `shift` (an i32) of a byte (i8) as i32:
/// (byte >> shift) & (2^bits − 1).
Value extractCodeBits(OpBuilder &b, Location l, Value byte, Value shift,
                      int64_t bits) {
  Type i32 = b.getI32Type();
  Value wide = arith::ExtUIOp::create(b, l, i32, byte);
  Value shifted = arith::ShRUIOp::create(b, l, wide, shift);
  Value mask =
      arith::ConstantOp::create(b, l, b.getI32IntegerAttr((1 << bits) - 1));
  return arith::AndIOp::create(b, l, shifted, mask);
}

/// The code (i32) of input `k` (an index) of a row of the op's codes:
/// `bytes` holds the byte of its first bit and, for 3-bit codes (a bit
/// stream), the byte of its last.
Value streamCode(OpBuilder &b, Location l, ValueRange bytes, Value k,
                 int64_t bits) {
  Type i32 = b.getI32Type();
  Value bit = arith::MulIOp::create(b, l, k,
                                    arith::ConstantIndexOp::create(b, l, bits));
  Value shift = arith::IndexCastUIOp::create(
      b, l, i32,
      arith::RemUIOp::create(b, l, bit,
                             arith::ConstantIndexOp::create(b, l, 8)));
  Value word = arith::ExtUIOp::create(b, l, i32, bytes[0]);
  if (bytes.size() > 1)
    word = arith::OrIOp::create(
        b, l, word,
        arith::ShLIOp::create(
            b, l, arith::ExtUIOp::create(b, l, i32, bytes[1]),
            arith::ConstantOp::create(b, l, b.getI32IntegerAttr(8))));
  return arith::AndIOp::create(
      b, l, arith::ShRUIOp::create(b, l, word, shift),
      arith::ConstantOp::create(b, l, b.getI32IntegerAttr((1 << bits) - 1)));
}

/// The bit offset of input `k` (an index) inside its byte, as i32.
Value codeShift(OpBuilder &b, Location l, Value k, int64_t bits) {
  int64_t perByte = 8 / bits;
  Value within = arith::RemUIOp::create(
      b, l, k, arith::ConstantIndexOp::create(b, l, perByte));
  Value bitsIndex = arith::MulIOp::create(
      b, l, within, arith::ConstantIndexOp::create(b, l, bits));
  return arith::IndexCastUIOp::create(b, l, b.getI32Type(), bitsIndex);
}

/// table[code | datatype << bits] (the codebook's 64-byte table of value +
/// 128) as i32, for an i32 code and the datatype already shifted (i8).
Value lookUp(OpBuilder &b, Location l, Value table, Value code,
             Value kindShift) {
  Type i32 = b.getI32Type();
  Value index = arith::OrIOp::create(
      b, l, code, arith::ExtUIOp::create(b, l, i32, kindShift));
  Value entry = tensor::ExtractOp::create(
      b, l, table,
      ValueRange{arith::IndexCastUIOp::create(b, l, b.getIndexType(), index)});
  return arith::ExtUIOp::create(b, l, i32, entry);
}

/// The 3-bit code (i32) of input `k` (an index) from its low and high
/// bytes in threeBitDotPanels' layout: bits 2·(k/4 % 4) of the low byte,
/// bit (k/4 % 8) of the high byte.
Value splitThreeBitCode(OpBuilder &b, Location l, Value low, Value high,
                        Value k) {
  Type i32 = b.getI32Type();
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, l, v).getResult();
  };
  Value t = arith::DivUIOp::create(b, l, k, index(4));
  Value lowShift = arith::IndexCastUIOp::create(
      b, l, i32,
      arith::MulIOp::create(b, l, arith::RemUIOp::create(b, l, t, index(4)),
                            index(2)));
  Value highShift = arith::IndexCastUIOp::create(
      b, l, i32, arith::RemUIOp::create(b, l, t, index(8)));
  Value highBit = extractCodeBits(b, l, high, highShift, 1);
  return arith::OrIOp::create(
      b, l, extractCodeBits(b, l, low, lowShift, 2),
      arith::ShLIOp::create(
          b, l, highBit,
          arith::ConstantOp::create(b, l, b.getI32IntegerAttr(2))));
}

/// The code (i32) of input `k` (an index) from its bit planes: `rows`
/// holds each plane row's byte (kBitPlanesAttr), bit b of the code is bit
/// 4·(b % 2) + k % 4 of row b/2.
Value bitPlaneCode(OpBuilder &b, Location l, ValueRange rows, Value k) {
  Type i32 = b.getI32Type();
  Value within = arith::IndexCastUIOp::create(
      b, l, i32,
      arith::RemUIOp::create(b, l, k, arith::ConstantIndexOp::create(b, l, 4)));
  Value code = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0));
  for (auto [r, byte] : llvm::enumerate(rows))
    for (int64_t h = 0; h < 2; ++h) {
      Value shift = arith::AddIOp::create(
          b, l, within,
          arith::ConstantOp::create(b, l, b.getI32IntegerAttr(4 * h)));
      Value bit = extractCodeBits(b, l, byte, shift, 1);
      code = arith::OrIOp::create(
          b, l, code,
          arith::ShLIOp::create(
              b, l, bit,
              arith::ConstantOp::create(
                  b, l, b.getI32IntegerAttr(2 * static_cast<int64_t>(r) + h))));
    }
  return code;
}

/// A row-wise int8 quantization of the input [..., K] of a linear layer
/// with `activations(8)`: per row a = max|x|, codes
/// x_q = clamp(roundeven(x · 127/a), −127, 127) (0 when a = 0) and the
/// row's scale a/127.
struct QuantizedRows {
  Value codes;  // [..., K] i8
  Value scales; // [...] f32
};

QuantizedRows quantizeRows(OpBuilder &b, Location loc, Value x) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  Type f32 = b.getF32Type();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
  auto rowType = RankedTensorType::get(xType.getShape().drop_back(), f32);
  AffineMap all = b.getMultiDimIdentityMap(rank);
  AffineMap rowOf = all.dropResult(rank - 1);
  SmallVector<IT> rowLoops(rank - 1, IT::parallel);
  SmallVector<IT> reduceLast(rowLoops);
  reduceLast.push_back(IT::reduction);
  Value absMax =
      linalg::GenericOp::create(
          b, loc, TypeRange{rowType}, ValueRange{x},
          ValueRange{filled(b, loc, rowType, rowSizes, 0.0)},
          ArrayRef<AffineMap>{all, rowOf}, reduceLast,
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value magnitude = math::AbsFOp::create(nb, l, a[0]);
            linalg::YieldOp::create(
                nb, l,
                arith::MaximumFOp::create(nb, l, magnitude, a[1]).getResult());
          })
          .getResult(0);
  AffineMap rowIdentity = b.getMultiDimIdentityMap(rank - 1);
  auto perRow = linalg::GenericOp::create(
      b, loc, TypeRange{rowType, rowType}, ValueRange{absMax},
      ValueRange{emptyLike(b, loc, rowType, rowSizes),
                 emptyLike(b, loc, rowType, rowSizes)},
      ArrayRef<AffineMap>{rowIdentity, rowIdentity, rowIdentity}, rowLoops,
      [](OpBuilder &nb, Location l, ValueRange a) {
        Type t = a[0].getType();
        Value zero = floatConst(nb, l, t, 0.0);
        Value full = floatConst(nb, l, t, 127.0);
        Value positive =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[0], zero);
        Value inverse = arith::SelectOp::create(
            nb, l, positive, arith::DivFOp::create(nb, l, full, a[0]), zero);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{inverse, arith::DivFOp::create(nb, l, a[0], full)});
      });
  auto codeType = RankedTensorType::get(xType.getShape(), b.getI8Type());
  Value codes =
      linalg::GenericOp::create(
          b, loc, TypeRange{codeType}, ValueRange{x, perRow.getResult(0)},
          ValueRange{emptyLike(b, loc, codeType, sizes)},
          ArrayRef<AffineMap>{all, rowOf, all},
          SmallVector<IT>(rank, IT::parallel),
          [](OpBuilder &nb, Location l, ValueRange a) {
            Type t = a[0].getType();
            Value v = math::RoundEvenOp::create(
                nb, l, arith::MulFOp::create(nb, l, a[0], a[1]));
            v = arith::MaximumFOp::create(nb, l, v,
                                          floatConst(nb, l, t, -127.0));
            v = arith::MinimumFOp::create(nb, l, v,
                                          floatConst(nb, l, t, 127.0));
            linalg::YieldOp::create(
                nb, l,
                arith::FPToSIOp::create(nb, l, nb.getI8Type(), v).getResult());
          })
          .getResult(0);
  return {codes, perRow.getResult(1)};
}

/// An input of a quantized linear's generic as f32: the element itself, or
/// with quantized rows the code times its row's scale.
Value activation(OpBuilder &b, Location l, Value x, Value rowScale) {
  if (!rowScale)
    return x;
  return arith::MulFOp::create(
      b, l, arith::SIToFPOp::create(b, l, b.getF32Type(), x), rowScale);
}

/// Output columns per panel of a quantized linear with int8 activations:
/// one 16-lane vector of i32 sums (a zmm register) per row.
constexpr int64_t kIntegerDotPanel = 16;

/// llm.quantized_linear. With constant codes, scales and zero points (what
/// llm-quantize writes) the codes are packed at compile time into panels of
/// NR output columns, the scales into [P, K/G, NR] and the zero points
/// folded into per-group offsets m = −s·z [P, K/G, NR], so that
/// w = s·q + m:
/// - f32 activations: codes [P, K·bits/8, NR] (the layout llm.linear's
///   packed weights have, a byte holding 8/bits consecutive k of one
///   column); the generic computes y += x·(s·q + m);
/// - int8 activations (activations(8)): the input's rows are quantized
///   (quantizeRows) and the codes packed for 4-way integer dot products,
///   [P, K/(4·8/bits), 4·NR] with NR = 16: byte 4c + i of row j holds, at
///   bit t·bits, the code of column c at k = (j·8/bits + t)·4 + i, so one
///   64-byte row feeds VNNI's vpdpbusd (16 columns × 4 consecutive k) once
///   per t. The generic computes y += a_row·x_q·(s·q + m).
/// The generics carry the bit width, the group size and the activation
/// bits (kQuantized*Attr) for llm-cpu-vectorize-linear, which applies s and
/// m once per group of partial sums. Otherwise one generic dequantizes
/// every weight from the op's own layout.
struct LowerQuantizedLinear : OpRewritePattern<QuantizedLinearOp> {
  LowerQuantizedLinear(MLIRContext *ctx, bool lookupTables)
      : OpRewritePattern(ctx), lookupTables(lookupTables) {}
  LogicalResult matchAndRewrite(QuantizedLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType outType = op.getType();
    if (!outType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "f32 activations only");
    auto sizes = tensor::getMixedSizes(rewriter, loc, op.getInput());
    sizes.back() = rewriter.getIndexAttr(op.getOutFeatures());
    Value init = linearInit(rewriter, loc, outType, sizes, op.getBias());
    std::optional<QuantizedRows> rows;
    if (op.getActivationBits())
      rows = quantizeRows(rewriter, loc, op.getInput());
    FailureOr<Value> y = packed(rewriter, op, init, rows, lookupTables);
    rewriter.replaceOp(
        op, succeeded(y) ? *y : dequantizing(rewriter, op, init, rows));
    return success();
  }

  bool lookupTables;

  static Value dequantizing(PatternRewriter &rewriter, QuantizedLinearOp op,
                            Value init, std::optional<QuantizedRows> rows) {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = op.getType().getRank();
    int64_t bits = op.getBits(), group = op.getGroupSize();
    SmallVector<AffineExpr> lead;
    for (int64_t d = 0; d < rank - 1; ++d)
      lead.push_back(rewriter.getAffineDimExpr(d));
    AffineExpr n = rewriter.getAffineDimExpr(rank - 1);
    AffineExpr k = rewriter.getAffineDimExpr(rank);
    SmallVector<AffineExpr> xExprs(lead), yExprs(lead);
    xExprs.push_back(k);
    yExprs.push_back(n);
    // The byte holding a code's first bit, and for 3-bit codes (a bit
    // stream) also the byte holding its last.
    SmallVector<Value> inputs = {rows ? rows->codes : op.getInput(),
                                 op.getCodes()};
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, xExprs, ctx),
        AffineMap::get(rank + 1, 0, {n, (k * bits).floorDiv(8)}, ctx)};
    if (bits == 3) {
      inputs.push_back(op.getCodes());
      maps.push_back(AffineMap::get(
          rank + 1, 0, {n, (k * bits + bits - 1).floorDiv(8)}, ctx));
    }
    int64_t at = inputs.size(); // the scales, then zeros or datatypes
    inputs.push_back(op.getScales());
    maps.push_back(AffineMap::get(rank + 1, 0, {n, k.floorDiv(group)}, ctx));
    if (Value zeros = op.getZeroPoints()) {
      inputs.push_back(zeros);
      maps.push_back(maps.back());
    }
    Value codebook = op.getCodebook();
    if (codebook) {
      inputs.push_back(op.getDatatypes());
      maps.push_back(maps.back());
    }
    if (rows) {
      inputs.push_back(rows->scales);
      maps.push_back(AffineMap::get(rank + 1, 0, lead, ctx));
    }
    maps.push_back(AffineMap::get(rank + 1, 0, yExprs, ctx));
    SmallVector<IT> iterators(rank, IT::parallel);
    iterators.push_back(IT::reduction);
    bool hasZeros = op.getZeroPoints() != nullptr;
    bool quantizedRows = rows.has_value();
    return linalg::GenericOp::create(
               rewriter, loc, TypeRange{op.getType()}, inputs, ValueRange{init},
               maps, iterators,
               [&](OpBuilder &b, Location l, ValueRange a) {
                 Value kIndex = linalg::IndexOp::create(b, l, rank);
                 Value x = activation(
                     b, l, a[0], quantizedRows ? a[a.size() - 2] : Value());
                 Value intCode =
                     streamCode(b, l, a.slice(1, at - 1), kIndex, bits);
                 if (codebook) {
                   // w = s · codebook[datatype, code]
                   Value kind = arith::IndexCastUIOp::create(
                       b, l, b.getIndexType(),
                       arith::ExtUIOp::create(b, l, b.getI32Type(), a[at + 1]));
                   Value value = tensor::ExtractOp::create(
                       b, l, codebook,
                       ValueRange{kind, arith::IndexCastUIOp::create(
                                            b, l, b.getIndexType(), intCode)});
                   Value w = arith::MulFOp::create(b, l, value, a[at]);
                   linalg::YieldOp::create(
                       b, l,
                       math::FmaOp::create(b, l, x, w, a.back()).getResult());
                   return;
                 }
                 Value code =
                     arith::UIToFPOp::create(b, l, b.getF32Type(), intCode);
                 Value zero =
                     hasZeros
                         ? Value(arith::UIToFPOp::create(
                               b, l, b.getF32Type(),
                               arith::ExtUIOp::create(b, l, b.getI32Type(),
                                                      a[at + 1])))
                         : floatConst(b, l, b.getF32Type(), 1 << (bits - 1));
                 Value w = arith::MulFOp::create(
                     b, l, arith::SubFOp::create(b, l, code, zero), a[at]);
                 linalg::YieldOp::create(
                     b, l,
                     math::FmaOp::create(b, l, x, w, a.back()).getResult());
               })
        .getResult(0);
  }

  /// The code of input `kk` in row `column` of the op's codes [N, K·bits/8]
  /// (a bit stream: 3-bit codes may run into the next byte).
  static int codeAt(ArrayRef<char> codes, int64_t k, int64_t bits,
                    int64_t column, int64_t kk) {
    return llmc::quant::codeInRow(
        reinterpret_cast<const uint8_t *>(codes.data()) + column * k * bits / 8,
        kk, static_cast<int>(bits));
  }

  /// 3-bit codes for 4-way integer dot products, split into their low two
  /// bits in the 2-bit layout [⌈N/nb⌉, K/16, 4·nb] and their high bit in a
  /// 1-bit one [⌈N/nb⌉, K/32, 4·nb]: byte 4c + i of high row j holds at bit
  /// t the high bit of column c at k = (8j + t)·4 + i. One 16-input step
  /// reads a low row and half a high row.
  static std::pair<std::vector<char>, std::vector<char>>
  threeBitDotPanels(ArrayRef<char> codes, int64_t n, int64_t k, int64_t nb) {
    int64_t blocks = (n + nb - 1) / nb;
    std::vector<char> low(blocks * (k / 16) * 4 * nb, 0),
        high(blocks * (k / 32) * 4 * nb, 0);
    for (int64_t column = 0; column < n; ++column)
      for (int64_t kk = 0; kk < k; ++kk) {
        int code = codeAt(codes, k, 3, column, kk);
        int64_t p = column / nb, c = column % nb, i = kk % 4, t = kk / 4;
        char &lo = low[(p * (k / 16) + kk / 16) * 4 * nb + 4 * c + i];
        lo = static_cast<char>(static_cast<uint8_t>(lo) |
                               ((code & 3) << (2 * (t % 4))));
        char &hi = high[(p * (k / 32) + kk / 32) * 4 * nb + 4 * c + i];
        hi = static_cast<char>(static_cast<uint8_t>(hi) |
                               ((code >> 2) << (t % 8)));
      }
    return {low, high};
  }

  /// The codes [N, K·bits/8] repacked for 4-way integer dot products into
  /// [⌈N/nb⌉, K/(4·8/bits), 4·nb] (see the struct's comment); columns past
  /// N are zero.
  static std::vector<char> integerDotPanels(ArrayRef<char> codes, int64_t n,
                                            int64_t k, int64_t bits,
                                            int64_t nb) {
    int64_t perByte = 8 / bits, quad = 4 * perByte;
    int64_t steps = k / quad;
    int64_t blocks = (n + nb - 1) / nb;
    std::vector<char> packed(blocks * steps * 4 * nb, 0);
    for (int64_t column = 0; column < n; ++column)
      for (int64_t kk = 0; kk < k; ++kk) {
        int code = codeAt(codes, k, bits, column, kk);
        int64_t p = column / nb, c = column % nb;
        int64_t j = kk / quad, t = (kk / 4) % perByte, i = kk % 4;
        char &byte = packed[(p * steps + j) * 4 * nb + 4 * c + i];
        byte = static_cast<char>(static_cast<uint8_t>(byte) |
                                 (code << (t * bits)));
      }
    return packed;
  }

  /// T-MAC bit planes [P, K/16, bits/2, 64] (kBitPlanesAttr): per chunk of
  /// 16 inputs, bit b of the code of column c at k = 16·chunk + 4t + i is
  /// bit 4·(b % 2) + i of byte 4c + t in the chunk's row b/2. A nibble is
  /// one plane's index into the 16-entry table of 4 activations.
  static std::vector<char> bitPlanePanels(ArrayRef<char> codes, int64_t n,
                                          int64_t k, int64_t bits) {
    int64_t chunks = k / 16, planeRows = bits / 2;
    int64_t blocks = (n + kIntegerDotPanel - 1) / kIntegerDotPanel;
    std::vector<char> packed(blocks * chunks * planeRows * 64, 0);
    for (int64_t column = 0; column < n; ++column)
      for (int64_t kk = 0; kk < k; ++kk) {
        int code = codeAt(codes, k, bits, column, kk);
        int64_t p = column / kIntegerDotPanel, c = column % kIntegerDotPanel;
        int64_t j = kk / 16, t = (kk % 16) / 4, i = kk % 4;
        for (int64_t b = 0; b < bits; ++b) {
          if (!((code >> b) & 1))
            continue;
          char &byte =
              packed[((p * chunks + j) * planeRows + b / 2) * 64 + 4 * c + t];
          byte = static_cast<char>(static_cast<uint8_t>(byte) |
                                   (1 << (4 * (b % 2) + i)));
        }
      }
    return packed;
  }

  static FailureOr<Value> packed(PatternRewriter &rewriter,
                                 QuantizedLinearOp op, Value init,
                                 std::optional<QuantizedRows> rows,
                                 bool lookupTables) {
    Location loc = op.getLoc();
    auto codes = op.getCodes().getDefiningOp<arith::ConstantOp>();
    auto scales = op.getScales().getDefiningOp<arith::ConstantOp>();
    auto zeros = op.getZeroPoints()
                     ? op.getZeroPoints().getDefiningOp<arith::ConstantOp>()
                     : arith::ConstantOp();
    if (!codes || !scales || (op.getZeroPoints() && !zeros))
      return failure();
    // A codebook is looked up in the integer kernel only.
    auto codebook = op.getCodebook()
                        ? op.getCodebook().getDefiningOp<arith::ConstantOp>()
                        : arith::ConstantOp();
    auto datatypes = op.getDatatypes()
                         ? op.getDatatypes().getDefiningOp<arith::ConstantOp>()
                         : arith::ConstantOp();
    if (op.getCodebook() && (!rows || !codebook || !datatypes))
      return failure();
    int64_t n = op.getOutFeatures(), k = op.getInFeatures();
    int64_t bits = op.getBits(), group = op.getGroupSize();
    // 3-bit codes: integer dot products only, over their 2-bit low part's
    // steps (threeBitDotPanels).
    bool threeBit = bits == 3;
    if (threeBit && !rows)
      return failure();
    int64_t perByte = threeBit ? 4 : 8 / bits, quad = 4 * perByte;
    int64_t depth = k * bits / 8, groups = k / group;
    // Integer dot products take 4·8/bits consecutive k of a group per step.
    if (rows && group % quad != 0)
      return failure();
    // Lookup tables take 4 activations per table and 16 inputs per step.
    bool planes = lookupTables && rows && !op.getCodebook() &&
                  (bits == 2 || bits == 4) && group % 16 == 0;
    int64_t nb = rows ? kIntegerDotPanel : panelWidth(n);
    int64_t blocks = (n + nb - 1) / nb;
    auto panelOf = [&](int64_t rowLength) {
      return [=](ArrayRef<int64_t> i) -> int64_t {
        int64_t column = i[0] * nb + i[2];
        return column < n ? column * rowLength + i[1] : -1;
      };
    };
    std::optional<ArrayRef<char>> codeBytes =
        constantBytes(cast<ElementsAttr>(codes.getValue()));
    std::optional<ArrayRef<char>> scaleBytes =
        constantBytes(cast<ElementsAttr>(scales.getValue()));
    std::optional<ArrayRef<char>> zeroBytes;
    if (zeros)
      zeroBytes = constantBytes(cast<ElementsAttr>(zeros.getValue()));
    if (!codeBytes || !scaleBytes || (zeros && !zeroBytes))
      return failure();
    // With a codebook: a 64-byte table of the grids' values + 128 (all
    // grids side by side, a code's index is code | datatype << bits) and
    // per panel and group each column's datatype << bits in the dot
    // product layout; the zero point is 128.
    std::vector<char> table, kindShifts;
    if (codebook) {
      std::optional<ArrayRef<char>> bookBytes =
          constantBytes(cast<ElementsAttr>(codebook.getValue()));
      std::optional<ArrayRef<char>> kindBytes =
          constantBytes(cast<ElementsAttr>(datatypes.getValue()));
      int64_t entries = int64_t{1} << bits;
      int64_t kinds = op.getCodebook().getType().getDimSize(0);
      if (!bookBytes || !kindBytes || kinds * entries > 64)
        return failure();
      const float *book = reinterpret_cast<const float *>(bookBytes->data());
      table.assign(64, 0);
      for (int64_t i = 0; i < kinds * entries; ++i) {
        if (book[i] != std::round(book[i]) || book[i] < -128 || book[i] > 127)
          return failure();
        table[i] = static_cast<char>(static_cast<int>(book[i]) + 128);
      }
      kindShifts.assign(blocks * groups * 4 * nb, 0);
      for (int64_t column = 0; column < n; ++column)
        for (int64_t g = 0; g < groups; ++g) {
          int64_t p = column / nb, c = column % nb;
          auto kind = static_cast<uint8_t>((*kindBytes)[column * groups + g]);
          if (kind >= kinds)
            return failure();
          for (int64_t i = 0; i < 4; ++i)
            kindShifts[(p * groups + g) * 4 * nb + 4 * c + i] =
                static_cast<char>(kind << bits);
        }
    }
    Value codePanels, highPanels;
    auto i8 = rewriter.getI8Type();
    if (threeBit) {
      auto [low, high] = threeBitDotPanels(*codeBytes, n, k, nb);
      codePanels = bytesConstant(
          rewriter, loc, RankedTensorType::get({blocks, k / 16, 4 * nb}, i8),
          constantName(codes, "codes") + "_dot_panels_low", low);
      highPanels = bytesConstant(
          rewriter, loc, RankedTensorType::get({blocks, k / 32, 4 * nb}, i8),
          constantName(codes, "codes") + "_dot_panels_high", high);
    } else if (planes) {
      codePanels = bytesConstant(
          rewriter, loc,
          RankedTensorType::get({blocks, k / 16, bits / 2, 64}, i8),
          constantName(codes, "codes") + "_bit_planes",
          bitPlanePanels(*codeBytes, n, k, bits));
    } else if (rows) {
      std::vector<char> dots = integerDotPanels(*codeBytes, n, k, bits, nb);
      codePanels = bytesConstant(
          rewriter, loc, RankedTensorType::get({blocks, k / quad, 4 * nb}, i8),
          constantName(codes, "codes") + "_dot_panels", dots);
    } else {
      codePanels = relayoutConstant(rewriter, loc, codes, {blocks, depth, nb},
                                    panelOf(depth), "_panels");
    }
    Value scalePanels =
        relayoutConstant(rewriter, loc, scales, {blocks, groups, nb},
                         panelOf(groups), "_panels");
    if (!codePanels || !scalePanels)
      return failure();
    // m = −s·z per group, in panels (zero past N).
    std::vector<float> offsets(blocks * groups * nb, 0.0f);
    const float *s = reinterpret_cast<const float *>(scaleBytes->data());
    for (int64_t p = 0; p < blocks; ++p)
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t c = 0; c < nb; ++c) {
          int64_t column = p * nb + c;
          if (column >= n)
            continue;
          float z =
              codebook ? 128.0f
              : zeroBytes
                  ? static_cast<uint8_t>((*zeroBytes)[column * groups + g])
                  : static_cast<float>(1 << (bits - 1));
          offsets[(p * groups + g) * nb + c] = -s[column * groups + g] * z;
        }
    Value offsetPanels = bytesConstant(
        rewriter, loc,
        RankedTensorType::get({blocks, groups, nb}, rewriter.getF32Type()),
        constantName(scales, "scales") + "_offsets",
        ArrayRef<char>(reinterpret_cast<const char *>(offsets.data()),
                       offsets.size() * sizeof(float)));
    Value shiftPanels, tableValue;
    DenseElementsAttr tableAttr;
    if (codebook) {
      shiftPanels = bytesConstant(
          rewriter, loc, RankedTensorType::get({blocks, groups, 4 * nb}, i8),
          constantName(datatypes, "datatypes") + "_dot_panels", kindShifts);
      tableAttr = DenseElementsAttr::get(
          RankedTensorType::get({64}, i8),
          ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(table.data()),
                           table.size()));
      tableValue = arith::ConstantOp::create(rewriter, loc, tableAttr);
    }
    return panelled(
        rewriter, loc, op.getType(), n, nb, init,
        [&](RankedTensorType blockedType, Value blockedInit,
            const PanelLoops &loops) {
          int64_t rank = blockedType.getRank() - 1;
          AffineMap groupMap = loops.packed(loops.k.floorDiv(group));
          MLIRContext *ctx = rewriter.getContext();
          // The views of the packed codes and their maps: 3-bit low and
          // high panels, each plane row of bit planes, or one byte panel.
          SmallVector<Value> inputs = {rows ? rows->codes : op.getInput()};
          SmallVector<AffineMap> maps = {loops.input};
          auto dotMap = [&](int64_t steps) {
            return AffineMap::get(loops.count, 0,
                                  {loops.panel, loops.k.floorDiv(steps),
                                   loops.column * 4 + loops.k % 4},
                                  ctx);
          };
          if (threeBit) {
            inputs.append({codePanels, highPanels});
            maps.append({dotMap(16), dotMap(32)});
          } else if (planes) {
            for (int64_t r = 0; r < bits / 2; ++r) {
              inputs.push_back(codePanels);
              maps.push_back(AffineMap::get(
                  loops.count, 0,
                  {loops.panel, loops.k.floorDiv(16),
                   getAffineConstantExpr(r, ctx),
                   loops.column * 4 + (loops.k % 16).floorDiv(4)},
                  ctx));
            }
          } else {
            inputs.push_back(codePanels);
            maps.push_back(rows ? dotMap(quad)
                                : loops.packed(loops.k.floorDiv(8 / bits)));
          }
          int64_t scaleAt = inputs.size();
          inputs.append({scalePanels, offsetPanels});
          maps.append({groupMap, groupMap});
          if (rows) {
            inputs.push_back(rows->scales);
            maps.push_back(
                loops.input.dropResult(loops.input.getNumResults() - 1));
          }
          if (shiftPanels) {
            inputs.push_back(shiftPanels);
            maps.push_back(AffineMap::get(loops.count, 0,
                                          {loops.panel, loops.k.floorDiv(group),
                                           loops.column * 4 + loops.k % 4},
                                          ctx));
          }
          maps.push_back(loops.output);
          bool quantizedRows = rows.has_value();
          auto generic = linalg::GenericOp::create(
              rewriter, loc, TypeRange{blockedType}, inputs,
              ValueRange{blockedInit}, maps, loops.iterators,
              [&](OpBuilder &b, Location l, ValueRange a) {
                Value kIndex = linalg::IndexOp::create(b, l, rank);
                ValueRange views = a.slice(1, scaleAt - 1);
                Value intCode;
                if (planes) {
                  intCode = bitPlaneCode(b, l, views, kIndex);
                } else if (threeBit) {
                  intCode = splitThreeBitCode(b, l, views[0], views[1], kIndex);
                } else {
                  // The dot-product layout holds 4 consecutive k per step.
                  Value step =
                      quantizedRows
                          ? arith::DivUIOp::create(
                                b, l, kIndex,
                                arith::ConstantIndexOp::create(b, l, 4))
                                .getResult()
                          : kIndex;
                  intCode = extractCodeBits(b, l, views[0],
                                            codeShift(b, l, step, bits), bits);
                }
                if (tableValue)
                  intCode = lookUp(b, l, tableValue, intCode, a[scaleAt + 3]);
                Value code =
                    arith::UIToFPOp::create(b, l, b.getF32Type(), intCode);
                Value w =
                    math::FmaOp::create(b, l, a[scaleAt], code, a[scaleAt + 1]);
                Value x = activation(b, l, a[0],
                                     quantizedRows ? a[scaleAt + 2] : Value());
                linalg::YieldOp::create(
                    b, l,
                    math::FmaOp::create(b, l, x, w, a.back()).getResult());
              });
          generic->setAttr(cpu::kQuantizedBitsAttr,
                           rewriter.getI64IntegerAttr(bits));
          generic->setAttr(cpu::kQuantizedGroupAttr,
                           rewriter.getI64IntegerAttr(group));
          if (rows)
            generic->setAttr(cpu::kQuantizedActivationsAttr,
                             rewriter.getI64IntegerAttr(8));
          if (tableAttr)
            generic->setAttr(cpu::kLookupTableAttr, tableAttr);
          if (planes)
            generic->setAttr(cpu::kBitPlanesAttr, rewriter.getUnitAttr());
          return generic.getResult(0);
        });
  }
};

struct LowerMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType out = op.getType();
    int64_t rank = out.getRank(), loops = rank + 1;
    auto operandMap = [&](RankedTensorType t, bool lhs) {
      SmallVector<AffineExpr> exprs;
      int64_t batch = t.getRank() - 2, shift = (rank - 2) - batch;
      for (int64_t i = 0; i < batch; ++i)
        exprs.push_back(t.getDimSize(i) == 1 && out.getDimSize(i + shift) != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(i + shift, ctx));
      AffineExpr m = getAffineDimExpr(rank - 2, ctx),
                 n = getAffineDimExpr(rank - 1, ctx),
                 k = getAffineDimExpr(rank, ctx);
      exprs.push_back(lhs ? m : k);
      exprs.push_back(lhs ? k : n);
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineMap> maps = {
        operandMap(op.getLhs().getType(), true),
        operandMap(op.getRhs().getType(), false),
        rewriter.getMultiDimIdentityMap(loops).dropResult(rank)};
    SmallVector<IT> iters(rank, IT::parallel);
    iters.push_back(IT::reduction);
    // Result sizes: the broadcast of the batch dims, then M and N.
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!out.isDynamicDim(d)) {
        sizes.push_back(rewriter.getIndexAttr(out.getDimSize(d)));
        continue;
      }
      Value source = d == rank - 1 ? op.getRhs() : op.getLhs();
      auto t = cast<RankedTensorType>(source.getType());
      int64_t sd = d == rank - 1 ? t.getRank() - 1 : d - (rank - t.getRank());
      if (sd < 0 || (d < rank - 2 && t.getDimSize(sd) == 1)) {
        source = op.getRhs();
        t = op.getRhs().getType();
        sd = d - (rank - t.getRank());
      }
      sizes.push_back(tensor::getMixedSize(rewriter, loc, source, sd));
    }
    Value init = filled(rewriter, loc, out, sizes, 0.0);
    rewriter.replaceOp(op, linalg::GenericOp::create(
                               rewriter, loc, TypeRange{out},
                               ValueRange{op.getLhs(), op.getRhs()},
                               ValueRange{init}, maps, iters, yieldMulAdd)
                               .getResult(0));
    return success();
  }
};

struct LowerEmbedding : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType out = op.getType();
    int64_t rank = out.getRank();
    auto sizes = tensor::getMixedSizes(rewriter, loc, op.getIds());
    sizes.push_back(tensor::getMixedSize(rewriter, loc, op.getTable(), 1));
    Value vocab = tensor::DimOp::create(rewriter, loc, op.getTable(), 0);
    Value table = op.getTable();
    SmallVector<AffineMap> maps = {
        rewriter.getMultiDimIdentityMap(rank).dropResult(rank - 1),
        rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<IT> iters(rank, IT::parallel);
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, TypeRange{out}, ValueRange{op.getIds()},
                ValueRange{emptyLike(rewriter, loc, out, sizes)}, maps, iters,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  // Out-of-range ids are clamped (undefined behaviour in
                  // the op's semantics; never an out-of-bounds read).
                  Value id =
                      arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
                  Value zero = arith::ConstantIndexOp::create(b, l, 0);
                  Value last = arith::SubIOp::create(
                      b, l, vocab, arith::ConstantIndexOp::create(b, l, 1));
                  id = arith::MinSIOp::create(
                      b, l, arith::MaxSIOp::create(b, l, id, zero), last);
                  Value d = linalg::IndexOp::create(b, l, rank - 1);
                  linalg::YieldOp::create(
                      b, l,
                      tensor::ExtractOp::create(b, l, table, ValueRange{id, d})
                          .getResult());
                })
                .getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Rotary embedding and attention
//===----------------------------------------------------------------------===//

/// Coordinates into a table that broadcasts (right-aligned) against loops
/// of rank `rank`, with its last coordinate `last`.
SmallVector<Value> tableCoords(OpBuilder &b, Location loc, Value table,
                               int64_t rank, Value last) {
  auto t = cast<RankedTensorType>(table.getType());
  SmallVector<Value> coords;
  int64_t shift = rank - t.getRank();
  for (int64_t i = 0; i + 1 < t.getRank(); ++i)
    coords.push_back(t.getDimSize(i) == 1
                         ? Value(arith::ConstantIndexOp::create(b, loc, 0))
                         : Value(linalg::IndexOp::create(b, loc, i + shift)));
  coords.push_back(last);
  return coords;
}

struct LowerRope : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    Value x = op.getInput(), cos = op.getCos(), sin = op.getSin();
    Value rotary = tensor::DimOp::create(rewriter, loc, cos,
                                         op.getCos().getType().getRank() - 1);
    bool interleaved = op.getInterleaved();
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    // A transpose that only this op reads (besides its sizes), and that keeps
    // the feature dimension last, is folded in: x is read in the transpose's
    // source layout (the importer's [B, T, H, D] -> [B, H, T, D] before
    // attention), so the transposed copy is never made. toSource[i] is the
    // source dimension of x's dimension i.
    SmallVector<int64_t> toSource = llvm::to_vector(llvm::seq<int64_t>(rank));
    auto transpose = x.getDefiningOp<linalg::TransposeOp>();
    auto onlyReadsShape = [&](Operation *user) {
      return user == op.getOperation() || isa<tensor::DimOp>(user);
    };
    if (transpose && llvm::all_of(transpose->getUsers(), onlyReadsShape) &&
        transpose.getPermutation().back() == rank - 1) {
      // Sizes come from the transpose's init, which has its shape.
      for (Operation *user : llvm::to_vector(transpose->getUsers()))
        if (auto dim = dyn_cast<tensor::DimOp>(user))
          rewriter.modifyOpInPlace(
              dim, [&] { dim.getSourceMutable().assign(transpose.getInit()); });
      toSource = llvm::to_vector(transpose.getPermutation());
      x = transpose.getInput();
      SmallVector<AffineExpr> read(rank);
      for (int64_t i = 0; i < rank; ++i)
        read[toSource[i]] = rewriter.getAffineDimExpr(i);
      maps[0] = AffineMap::get(rank, 0, read, rewriter.getContext());
    } else {
      transpose = nullptr;
    }
    SmallVector<OpFoldResult> sourceSizes =
        tensor::getMixedSizes(rewriter, loc, x);
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < rank; ++i)
      sizes.push_back(sourceSizes[toSource[i]]);
    SmallVector<IT> iters(rank, IT::parallel);
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, TypeRange{type}, ValueRange{x},
                ValueRange{emptyLike(rewriter, loc, type, sizes)}, maps, iters,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value d = linalg::IndexOp::create(b, l, rank - 1);
                  Value one = arith::ConstantIndexOp::create(b, l, 1);
                  Value two = arith::ConstantIndexOp::create(b, l, 2);
                  Value inRotary = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::ult, d, rotary);
                  // Partner feature and the sign of its contribution.
                  Value first, pair;
                  if (interleaved) {
                    Value odd = arith::RemUIOp::create(b, l, d, two);
                    first = arith::CmpIOp::create(
                        b, l, arith::CmpIPredicate::eq, odd,
                        arith::ConstantIndexOp::create(b, l, 0));
                    pair = arith::SelectOp::create(
                        b, l, first, arith::AddIOp::create(b, l, d, one),
                        arith::SubIOp::create(b, l, d, one));
                  } else {
                    Value half = arith::DivUIOp::create(b, l, rotary, two);
                    first = arith::CmpIOp::create(
                        b, l, arith::CmpIPredicate::ult, d, half);
                    pair = arith::SelectOp::create(
                        b, l, first, arith::AddIOp::create(b, l, d, half),
                        arith::SubIOp::create(b, l, d, half));
                  }
                  // Outside the rotary part, read a valid table entry and
                  // pass x through.
                  Value lastValid = arith::SubIOp::create(b, l, rotary, one);
                  Value td = arith::MinUIOp::create(b, l, d, lastValid);
                  pair = arith::MinUIOp::create(b, l, pair, lastValid);
                  SmallVector<Value> xc(rank);
                  for (int64_t i = 0; i + 1 < rank; ++i)
                    xc[toSource[i]] = linalg::IndexOp::create(b, l, i);
                  xc[rank - 1] = pair;
                  Value xp = tensor::ExtractOp::create(b, l, x, xc);
                  Value c = tensor::ExtractOp::create(
                      b, l, cos, tableCoords(b, l, cos, rank, td));
                  Value s = tensor::ExtractOp::create(
                      b, l, sin, tableCoords(b, l, sin, rank, td));
                  Value signed_ = arith::SelectOp::create(
                      b, l, first, arith::NegFOp::create(b, l, xp), xp);
                  Value rotated = arith::AddFOp::create(
                      b, l, arith::MulFOp::create(b, l, a[0], c),
                      arith::MulFOp::create(b, l, signed_, s));
                  linalg::YieldOp::create(
                      b, l,
                      arith::SelectOp::create(b, l, inRotary, rotated, a[0])
                          .getResult());
                })
                .getResult(0));
    if (transpose)
      rewriter.eraseOp(transpose);
    return success();
  }
};

struct LowerAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    FailureOr<float> scale = op.getEffectiveScale();
    if (failed(scale))
      return rewriter.notifyMatchFailure(op, "unknown scale");
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    if (op.getPastKey()) {
      k = tensor::ConcatOp::create(rewriter, loc, 2,
                                   ValueRange{op.getPastKey(), k});
      v = tensor::ConcatOp::create(rewriter, loc, 2,
                                   ValueRange{op.getPastValue(), v});
    }
    int64_t group = op.getNumHeads() / op.getNumKvHeads();
    Type f32 = rewriter.getF32Type();
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, q, 0);
    OpFoldResult heads = rewriter.getIndexAttr(op.getNumHeads());
    OpFoldResult seq = tensor::getMixedSize(rewriter, loc, q, 2);
    OpFoldResult total = tensor::getMixedSize(rewriter, loc, k, 2);
    OpFoldResult valueDim = tensor::getMixedSize(rewriter, loc, v, 3);
    auto sType = RankedTensorType::get(
        {op.getQuery().getType().getDimSize(0),
         static_cast<int64_t>(op.getNumHeads()),
         op.getQuery().getType().getDimSize(2),
         cast<RankedTensorType>(k.getType()).getDimSize(2)},
        f32);
    SmallVector<OpFoldResult> sSizes = {batch, heads, seq, total};

    // scores[b, h, i, j] = Σ_d q[b, h, i, d] · k[b, h / group, j, d]
    AffineExpr b_, h, i, j, d;
    bindDims(ctx, b_, h, i, j, d);
    AffineExpr kvHead = h.floorDiv(group);
    Value scores =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{sType}, ValueRange{q, k},
            ValueRange{filled(rewriter, loc, sType, sSizes, 0.0)},
            ArrayRef<AffineMap>{AffineMap::get(5, 0, {b_, h, i, d}, ctx),
                                AffineMap::get(5, 0, {b_, kvHead, j, d}, ctx),
                                AffineMap::get(5, 0, {b_, h, i, j}, ctx)},
            ArrayRef<IT>{IT::parallel, IT::parallel, IT::parallel, IT::parallel,
                         IT::reduction},
            yieldMulAddF32)
            .getResult(0);

    // Scale, mask, causal and window: hidden keys become -inf.
    Value offset = arith::SubIOp::create(
        rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, total),
        getValueOrCreateConstantIndexOp(rewriter, loc, seq));
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(4)};
    if (Value mask = op.getMask()) {
      inputs.push_back(mask);
      maps.push_back(broadcastMap(ctx, cast<RankedTensorType>(mask.getType()),
                                  4, 4, sType.getShape()));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(4));
    bool causal = op.getCausal();
    std::optional<int64_t> window = op.getSlidingWindow();
    bool hasMask = static_cast<bool>(op.getMask());
    float scaleValue = *scale;
    Value masked =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{sType}, inputs,
            ValueRange{emptyLike(rewriter, loc, sType, sSizes)}, maps,
            SmallVector<IT>(4, IT::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value s = arith::MulFOp::create(
                  b, l, a[0], floatConst(b, l, f32, scaleValue));
              if (hasMask)
                s = arith::AddFOp::create(b, l, s, toF32(b, l, a[1]));
              if (causal) {
                Value row = linalg::IndexOp::create(b, l, 2);
                Value col = linalg::IndexOp::create(b, l, 3);
                Value last = arith::AddIOp::create(b, l, row, offset);
                Value hidden = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::sgt, col, last);
                if (window) {
                  Value first = arith::SubIOp::create(
                      b, l, last,
                      arith::ConstantIndexOp::create(b, l, *window));
                  hidden = arith::OrIOp::create(
                      b, l, hidden,
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle,
                                            col, first));
                }
                s = arith::SelectOp::create(
                    b, l, hidden,
                    floatConst(b, l, f32,
                               -std::numeric_limits<double>::infinity()),
                    s);
              }
              linalg::YieldOp::create(b, l, s);
            })
            .getResult(0);

    // Softmax over j with the maximum subtracted; all-hidden rows give 0.
    auto rowType = RankedTensorType::get(sType.getShape().drop_back(), f32);
    SmallVector<OpFoldResult> rowSizes(sSizes.begin(), sSizes.end() - 1);
    AffineMap id4 = rewriter.getMultiDimIdentityMap(4);
    AffineMap row4 = id4.dropResult(3);
    SmallVector<IT> reduceLast = {IT::parallel, IT::parallel, IT::parallel,
                                  IT::reduction};
    Value maxInit = filled(rewriter, loc, rowType, rowSizes,
                           -std::numeric_limits<double>::infinity());
    Value rowMax =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rowType}, ValueRange{masked},
            ValueRange{maxInit}, ArrayRef<AffineMap>{id4, row4}, reduceLast,
            [](OpBuilder &b, Location l, ValueRange a) {
              linalg::YieldOp::create(
                  b, l,
                  arith::MaximumFOp::create(b, l, a[0], a[1]).getResult());
            })
            .getResult(0);
    auto expShifted = [&](OpBuilder &b, Location l, Value s, Value m) -> Value {
      Value empty = arith::CmpFOp::create(
          b, l, arith::CmpFPredicate::OEQ, m,
          floatConst(b, l, f32, -std::numeric_limits<double>::infinity()));
      Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, s, m));
      return arith::SelectOp::create(b, l, empty, floatConst(b, l, f32, 0.0),
                                     e);
    };
    Value rowSumValue = rowSum(
        rewriter, loc, masked,
        [&](OpBuilder &b, Location l, Value s, ValueRange m) {
          return expShifted(b, l, s, m[0]);
        },
        rowMax);
    Value probs =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{sType},
            ValueRange{masked, rowMax, rowSumValue},
            ValueRange{emptyLike(rewriter, loc, sType, sSizes)},
            ArrayRef<AffineMap>{id4, row4, row4, id4},
            SmallVector<IT>(4, IT::parallel),
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value e = expShifted(b, l, a[0], a[1]);
              Value zero = floatConst(b, l, f32, 0.0);
              Value nonEmpty = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OGT, a[2], zero);
              Value p = arith::SelectOp::create(
                  b, l, nonEmpty, arith::DivFOp::create(b, l, e, a[2]), zero);
              linalg::YieldOp::create(b, l, p);
            })
            .getResult(0);

    // out[b, h, i, e] = Σ_j p[b, h, i, j] · v[b, h / group, j, e]
    RankedTensorType outType = op.getResult().getType();
    auto accType = outType.clone(f32);
    SmallVector<OpFoldResult> outSizes = {batch, heads, seq, valueDim};
    AffineExpr e;
    bindDims(ctx, b_, h, i, e, j);
    kvHead = h.floorDiv(group);
    Value acc =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{accType}, ValueRange{probs, v},
            ValueRange{filled(rewriter, loc, accType, outSizes, 0.0)},
            ArrayRef<AffineMap>{AffineMap::get(5, 0, {b_, h, i, j}, ctx),
                                AffineMap::get(5, 0, {b_, kvHead, j, e}, ctx),
                                AffineMap::get(5, 0, {b_, h, i, e}, ctx)},
            ArrayRef<IT>{IT::parallel, IT::parallel, IT::parallel, IT::parallel,
                         IT::reduction},
            yieldMulAddF32)
            .getResult(0);
    Value result = acc;
    if (outType.getElementType() != f32)
      result =
          elementwise(rewriter, loc, outType, acc, outSizes,
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        return fromF32(b, l, a[0], outType.getElementType());
                      });
    if (result.getType() != outType)
      result = tensor::CastOp::create(rewriter, loc, outType, result);
    SmallVector<Value> results = {result};
    if (op.getPastKey()) {
      results.push_back(k);
      results.push_back(v);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Top-k and mixture of experts
//===----------------------------------------------------------------------===//

/// Top-k along the last axis by k rounds of arg-max over the entries not
/// chosen yet (ties to the lower index): O(k·n), fine for routing (k <= 8).
std::pair<Value, Value> lowerTopK(OpBuilder &b, Location loc, Value input,
                                  int64_t k) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  Type element = type.getElementType();
  auto sizes = tensor::getMixedSizes(b, loc, input);
  auto rowType = RankedTensorType::get(type.getShape().drop_back(), element);
  auto rowIdxType =
      RankedTensorType::get(type.getShape().drop_back(), b.getI64Type());
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
  SmallVector<int64_t> outShape(type.getShape());
  outShape.back() = k;
  SmallVector<OpFoldResult> outSizes = rowSizes;
  outSizes.push_back(b.getIndexAttr(k));
  Value values = emptyLike(b, loc, type.clone(outShape), outSizes);
  Value indices = emptyLike(
      b, loc, RankedTensorType::get(outShape, b.getI64Type()), outSizes);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap row = id.dropResult(rank - 1);
  SmallVector<IT> iters(rank, IT::parallel);
  iters.back() = IT::reduction;
  Value current = input;
  double lowest = -std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < k; ++r) {
    Value maxInit = filled(b, loc, rowType, rowSizes, lowest);
    Value idxInit = emptyLike(b, loc, rowIdxType, rowSizes);
    Value minusOne = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(-1));
    idxInit = linalg::FillOp::create(b, loc, minusOne, idxInit).getResult(0);
    auto argmax = linalg::GenericOp::create(
        b, loc, TypeRange{rowType, rowIdxType}, ValueRange{current},
        ValueRange{maxInit, idxInit}, ArrayRef<AffineMap>{id, row, row}, iters,
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value j = arith::IndexCastOp::create(
              nb, nl, nb.getI64Type(),
              linalg::IndexOp::create(nb, nl, rank - 1));
          // Strictly greater, or the first candidate: ties keep the lower j.
          Value greater = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OGT, a[0], a[1]);
          Value none = arith::CmpIOp::create(
              nb, nl, arith::CmpIPredicate::slt, a[2],
              arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(0)));
          Value take = arith::OrIOp::create(nb, nl, greater, none);
          linalg::YieldOp::create(
              nb, nl,
              ValueRange{arith::SelectOp::create(nb, nl, take, a[0], a[1]),
                         arith::SelectOp::create(nb, nl, take, j, a[2])});
        });
    Value best = argmax.getResult(0), bestIdx = argmax.getResult(1);
    // Write round r into the outputs.
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    offsets.back() = b.getIndexAttr(r);
    SmallVector<OpFoldResult> sliceSizes = rowSizes;
    sliceSizes.push_back(b.getIndexAttr(1));
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    auto expandRow = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(t.getShape());
      shape.push_back(1);
      SmallVector<ReassociationIndices> reassoc;
      for (int64_t d = 0; d < t.getRank(); ++d)
        reassoc.push_back({d});
      if (reassoc.empty())
        reassoc.push_back({});
      reassoc.back().push_back(t.getRank());
      return tensor::ExpandShapeOp::create(b, loc, t.clone(shape), v, reassoc,
                                           sliceSizes)
          .getResult();
    };
    values = tensor::InsertSliceOp::create(b, loc, expandRow(best), values,
                                           offsets, sliceSizes, strides);
    indices = tensor::InsertSliceOp::create(b, loc, expandRow(bestIdx), indices,
                                            offsets, sliceSizes, strides);
    // Hide the chosen entry for the next round.
    if (r + 1 < k)
      current = linalg::GenericOp::create(
                    b, loc, TypeRange{type}, ValueRange{current, bestIdx},
                    ValueRange{emptyLike(b, loc, type, sizes)},
                    ArrayRef<AffineMap>{id, row, id},
                    SmallVector<IT>(rank, IT::parallel),
                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                      Value j = arith::IndexCastOp::create(
                          nb, nl, nb.getI64Type(),
                          linalg::IndexOp::create(nb, nl, rank - 1));
                      Value chosen = arith::CmpIOp::create(
                          nb, nl, arith::CmpIPredicate::eq, j, a[1]);
                      linalg::YieldOp::create(
                          nb, nl,
                          arith::SelectOp::create(
                              nb, nl, chosen,
                              floatConst(nb, nl, element, lowest), a[0])
                              .getResult());
                    })
                    .getResult(0);
  }
  return {values, indices};
}

struct LowerTopK : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op,
                                PatternRewriter &rewriter) const override {
    auto [values, indices] =
        lowerTopK(rewriter, op.getLoc(), op.getInput(), op.getK());
    rewriter.replaceOp(op, ValueRange{values, indices});
    return success();
  }
};

/// llm.moe with only the chosen experts running (MoeDecomposition.h); the
/// llm ops it writes (softmax, top-k, the experts' linears) are lowered by
/// the other patterns.
struct LowerMoe : OpRewritePattern<MoeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MoeOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Value> value = decomposeMoe(rewriter, op);
    if (failed(value))
      return failure();
    rewriter.replaceOp(op, *value);
    return success();
  }
};

struct LLMLowerToLinalgPass
    : llm::cpu::impl::LLMLowerToLinalgBase<LLMLowerToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    // A SwiGLU's gate and up projections first, while their SiLU and
    // product are still llm ops to recognise.
    RewritePatternSet gatedPatterns(&getContext());
    gatedPatterns.add<LowerGatedLinear>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(gatedPatterns))))
      getOperation()->emitWarning() << "llm-lower-to-linalg did not converge";
    RewritePatternSet patterns(&getContext());
    patterns
        .add<LowerSilu, LowerGelu, LowerSoftmax, LowerTransfer, LowerRMSNorm,
             LowerLayerNorm, LowerLinear, LowerMatmul, LowerEmbedding,
             LowerRope, LowerAttention, LowerTopK, LowerMoe>(&getContext());
    patterns.add<LowerQuantizedLinear>(&getContext(), lookupTables);
    llm::cpu::populateLowerKVCodesPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      getOperation()->emitWarning() << "llm-lower-to-linalg did not converge";
    // Whatever is left is a case no pattern covers. Device calls stay
    // until bufferization, which turns them into calls of the runtime.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (op->getDialect() && isa<LLMDialect>(op->getDialect()) &&
          !isa<DeviceCallOp>(op)) {
        op->emitError() << "'" << op->getName()
                        << "' could not be lowered for the CPU (a case the "
                           "lowering does not cover, such as a dynamic "
                           "feature dimension of a norm)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
