//===- LowerKVCodes.cpp - llm.kv_quantize/kv_dequantize to linalg ---------===//
//
// Generics for the KV cache codes: a row maximum, the scales, the codes
// (4-bit ones reduced in pairs into bytes) and, for a dequantized slice
// that no fused attention reads directly, the values.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

struct KVCodesBuilder {
  int64_t bits;
  int64_t headDim;
  OpBuilder &b;

  int64_t codeBytes() const { return headDim * bits / 8; }
  double qmax() const { return double((int64_t(1) << (bits - 1)) - 1); }

  /// An empty tensor of `sizes` (static where the sizes are constants).
  Value empty(Location loc, ArrayRef<OpFoldResult> sizes, Type element) {
    return tensor::EmptyOp::create(b, loc, sizes, element);
  }

  static SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                                    unsigned reduction) {
    SmallVector<utils::IteratorType> it(parallel,
                                        utils::IteratorType::parallel);
    it.append(reduction, utils::IteratorType::reduction);
    return it;
  }

  /// (d0, ..., d{n-1}) -> (d0, ..., d{k-1}).
  AffineMap leadingMap(unsigned n, unsigned k) {
    SmallVector<AffineExpr> exprs;
    for (unsigned i = 0; i < k; ++i)
      exprs.push_back(b.getAffineDimExpr(i));
    return AffineMap::get(n, 0, exprs, b.getContext());
  }

  /// Scales [b, h, t] of rows x [b, h, t, D]: max|x| / qmax.
  Value scalesOf(Location loc, Value x) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
    sizes.pop_back();
    Type f32 = b.getF32Type();
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    Value init = linalg::FillOp::create(b, loc, zero, empty(loc, sizes, f32))
                     .getResult(0);
    Value amax =
        linalg::GenericOp::create(
            b, loc, TypeRange{init.getType()}, ValueRange{x}, ValueRange{init},
            {AffineMap::getMultiDimIdentityMap(4, b.getContext()),
             leadingMap(4, 3)},
            iterators(3, 1),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value a = math::AbsFOp::create(nb, nl, args[0]);
              linalg::YieldOp::create(
                  nb, nl, Value(arith::MaximumFOp::create(nb, nl, a, args[1])));
            })
            .getResult(0);
    Value qmaxValue =
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(qmax()));
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ValueRange{amax},
               ValueRange{empty(loc, sizes, f32)},
               {leadingMap(3, 3), leadingMap(3, 3)}, iterators(3, 0),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 linalg::YieldOp::create(
                     nb, nl,
                     Value(arith::DivFOp::create(nb, nl, args[0], qmaxValue)));
               })
        .getResult(0);
  }

  /// The code of `x` with scale `s`: clamp(roundeven(x / s)), 0 where s = 0.
  Value codeOf(OpBuilder &nb, Location nl, Value x, Value s) {
    Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
    Value hi = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(qmax()));
    Value lo = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(-qmax()));
    Value q = math::RoundEvenOp::create(
        nb, nl, arith::DivFOp::create(nb, nl, x, s).getResult());
    q = arith::MinimumFOp::create(nb, nl,
                                  arith::MaximumFOp::create(nb, nl, q, lo), hi);
    Value positive =
        arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, s, zero);
    q = arith::SelectOp::create(nb, nl, positive, q, zero);
    return arith::FPToSIOp::create(nb, nl, nb.getI8Type(), q);
  }

  /// A parallel generic over [b, h, t, d]: f(element of `rows`, scale of
  /// its row) into an empty tensor of `type` and `sizes`.
  Value perElement(Location loc, Value rows, Value s, RankedTensorType type,
                   ArrayRef<OpFoldResult> sizes,
                   function_ref<Value(OpBuilder &, Location, Value, Value)> f) {
    return linalg::GenericOp::create(
               b, loc, TypeRange{type}, ValueRange{rows, s},
               ValueRange{empty(loc, sizes, type.getElementType())},
               {AffineMap::getMultiDimIdentityMap(4, b.getContext()),
                leadingMap(4, 3),
                AffineMap::getMultiDimIdentityMap(4, b.getContext())},
               iterators(4, 0),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 linalg::YieldOp::create(nb, nl, f(nb, nl, args[0], args[1]));
               })
        .getResult(0);
  }

  /// The shape and sizes of rows [b, h, t, D] as pairs [b, h, t, D/2, 2].
  std::pair<SmallVector<int64_t>, SmallVector<OpFoldResult>>
  pairsOf(ArrayRef<int64_t> shape, ArrayRef<OpFoldResult> sizes) {
    SmallVector<int64_t> pairShape(shape);
    pairShape.back() = headDim / 2;
    pairShape.push_back(2);
    SmallVector<OpFoldResult> pairSizes(sizes);
    pairSizes.back() = b.getIndexAttr(headDim / 2);
    pairSizes.push_back(b.getIndexAttr(2));
    return {pairShape, pairSizes};
  }

  /// Codes [b, h, t, D·bits/8] i8 of rows x [b, h, t, D] with scales s.
  Value codesOf(Location loc, Value x, Value s) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
    auto type = cast<RankedTensorType>(x.getType());
    RankedTensorType codesType = KVQuantizeOp::codesType(type, bits);
    if (bits == 8)
      return perElement(loc, x, s, codesType, sizes,
                        [&](OpBuilder &nb, Location nl, Value v, Value scale) {
                          return codeOf(nb, nl, v, scale);
                        });
    // Two 4-bit codes per byte: x as [b, h, t, D/2, 2], read twice (the
    // pair's elements 0 and 1, constant map results), element 0 in the low
    // nibble. Every loop is parallel.
    auto [pairShape, pairSizes] = pairsOf(type.getShape(), sizes);
    Value pairs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(pairShape, type.getElementType()), x,
        SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}}, pairSizes);
    SmallVector<OpFoldResult> codeSizes(sizes);
    codeSizes.back() = b.getIndexAttr(codeBytes());
    auto element = [&](int64_t i) {
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 0; d < 4; ++d)
        exprs.push_back(b.getAffineDimExpr(d));
      exprs.push_back(b.getAffineConstantExpr(i));
      return AffineMap::get(4, 0, exprs, b.getContext());
    };
    return linalg::GenericOp::create(
               b, loc, TypeRange{codesType}, ValueRange{pairs, pairs, s},
               ValueRange{empty(loc, codeSizes, b.getI8Type())},
               {element(0), element(1), leadingMap(4, 3),
                AffineMap::getMultiDimIdentityMap(4, b.getContext())},
               iterators(4, 0),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value low = codeOf(nb, nl, args[0], args[2]);
                 Value high = codeOf(nb, nl, args[1], args[2]);
                 Value mask =
                     arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(15));
                 Value four =
                     arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(4));
                 Value byte = arith::OrIOp::create(
                     nb, nl, arith::AndIOp::create(nb, nl, low, mask),
                     arith::ShLIOp::create(nb, nl, high, four));
                 linalg::YieldOp::create(nb, nl, byte);
               })
        .getResult(0);
  }

  /// Rows [b, h, l, D] f32 of codes [b, h, l, D·bits/8] with scales [b, h, l].
  Value dequantize(Location loc, Value codes, Value s,
                   RankedTensorType resultType) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, codes);
    Type f32 = b.getF32Type();
    auto scaled = [&](OpBuilder &nb, Location nl, Value code, Value scale) {
      Value f = arith::SIToFPOp::create(nb, nl, f32, code);
      return Value(arith::MulFOp::create(nb, nl, f, scale));
    };
    if (bits == 8) {
      sizes.back() = b.getIndexAttr(headDim);
      return perElement(loc, codes, s, resultType, sizes, scaled);
    }
    auto [pairShape, pairSizes] = pairsOf(resultType.getShape(), sizes);
    Value pairs =
        linalg::GenericOp::create(
            b, loc, TypeRange{RankedTensorType::get(pairShape, f32)},
            ValueRange{codes, s}, ValueRange{empty(loc, pairSizes, f32)},
            {leadingMap(5, 4), leadingMap(5, 3),
             AffineMap::getMultiDimIdentityMap(5, b.getContext())},
            iterators(5, 0),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              // The nibble, sign-extended: shift it to the top, then back.
              Value four =
                  arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(4));
              Value i = arith::IndexCastOp::create(
                  nb, nl, nb.getI8Type(), linalg::IndexOp::create(nb, nl, 4));
              Value up = arith::MulIOp::create(
                  nb, nl,
                  arith::SubIOp::create(
                      nb, nl,
                      arith::ConstantOp::create(nb, nl, nb.getI8IntegerAttr(1)),
                      i),
                  four);
              Value top = arith::ShLIOp::create(nb, nl, args[0], up);
              Value code = arith::ShRSIOp::create(nb, nl, top, four);
              linalg::YieldOp::create(nb, nl, scaled(nb, nl, code, args[1]));
            })
            .getResult(0);
    return tensor::CollapseShapeOp::create(
        b, loc, resultType, pairs,
        SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
  }
};

struct LowerKVQuantize : OpRewritePattern<KVQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVQuantizeOp op,
                                PatternRewriter &rewriter) const override {
    KVCodesBuilder q{static_cast<int64_t>(op.getBits()),
                     op.getInput().getType().getDimSize(3), rewriter};
    Value scales = q.scalesOf(op.getLoc(), op.getInput());
    Value codes = q.codesOf(op.getLoc(), op.getInput(), scales);
    rewriter.replaceOp(op, {codes, scales});
    return success();
  }
};

struct LowerKVDequantize : OpRewritePattern<KVDequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KVDequantizeOp op,
                                PatternRewriter &rewriter) const override {
    KVCodesBuilder q{static_cast<int64_t>(op.getBits()),
                     op.getResult().getType().getDimSize(3), rewriter};
    rewriter.replaceOp(op,
                       q.dequantize(op.getLoc(), op.getCodes(), op.getScales(),
                                    op.getResult().getType()));
    return success();
  }
};

} // namespace

void mlir::llm::cpu::populateLowerKVCodesPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerKVQuantize, LowerKVDequantize>(patterns.getContext());
}
