//===- FusedAttention.cpp - llm-cpu-fuse-attention ------------------------===//
//
// llm.attention as one loop nest that never materialises the scores: for
// each (batch, query head) — an scf.forall, OpenMP threads — and each query
// row, a first pass over the visible keys finds the largest score and a
// second recomputes each score, exponentiates it and accumulates the value
// rows into a vector<Dv> accumulator (registers), divided by the sum at the
// end. Dot products run on vector<D> with a reassociated reduction. Causal
// and sliding-window limits become the key loop's bounds, so hidden keys
// cost nothing. Memory is O(1) per row whatever the context length, and
// decode (one query row) reads each key and value row from the cache with
// no temporaries at all.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUFUSEATTENTION
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Longest head dimension kept in registers as one vector (elements).
constexpr int64_t kMaxHeadDim = 256;

struct FuseAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getPastKey())
      return rewriter.notifyMatchFailure(op, "past KV pair: concatenate first");
    FailureOr<float> scale = op.getEffectiveScale();
    if (failed(scale))
      return rewriter.notifyMatchFailure(op, "unknown scale");
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
          mask = op.getMask();
    auto qType = cast<RankedTensorType>(q.getType());
    auto vType = cast<RankedTensorType>(v.getType());
    Type f32 = rewriter.getF32Type();
    for (Value operand : {q, k, v, mask})
      if (operand &&
          cast<RankedTensorType>(operand.getType()).getElementType() != f32)
        return rewriter.notifyMatchFailure(op, "not f32");
    int64_t headDim = qType.getDimSize(3), valueDim = vType.getDimSize(3);
    if (ShapedType::isDynamic(headDim) || ShapedType::isDynamic(valueDim) ||
        headDim > kMaxHeadDim || valueDim > kMaxHeadDim)
      return rewriter.notifyMatchFailure(op, "head dims not static and small");
    auto maskType =
        mask ? cast<RankedTensorType>(mask.getType()) : RankedTensorType();
    if (maskType && maskType.getRank() > 4)
      return rewriter.notifyMatchFailure(op, "mask rank above 4");

    Location loc = op.getLoc();
    auto index = [&](OpBuilder &b, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(b, loc, value);
    };
    auto f32Const = [&](OpBuilder &b, double value) -> Value {
      return arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(value));
    };
    int64_t heads = op.getNumHeads();
    int64_t group = heads / op.getNumKvHeads();
    auto size = [&](Value t, int64_t d) {
      return getValueOrCreateConstantIndexOp(
          rewriter, loc, tensor::getMixedSize(rewriter, loc, t, d));
    };
    Value batch = size(q, 0), rows = size(q, 2), keys = size(k, 2);
    // Query i is position i + (keys - rows) of the sequence.
    Value offset = arith::SubIOp::create(rewriter, loc, keys, rows);
    RankedTensorType outType = op.getResult().getType();
    Value fullSizes[4] = {batch, size(q, 1), rows, index(rewriter, valueDim)};
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < 4; ++d)
      if (outType.isDynamicDim(d))
        dynamicSizes.push_back(fullSizes[d]);
    Value out = tensor::EmptyOp::create(rewriter, loc, outType.getShape(), f32,
                                        dynamicSizes);

    auto qVector = VectorType::get({headDim}, f32);
    auto vVector = VectorType::get({valueDim}, f32);
    SmallVector<bool> inBounds = {true};
    bool causal = op.getCausal();
    std::optional<int64_t> window = op.getSlidingWindow();
    float scaleValue = *scale;

    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{tensor::getMixedSize(rewriter, loc, q, 0),
                               rewriter.getIndexAttr(heads)},
        ValueRange{out}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    Value kvHead =
        arith::DivUIOp::create(rewriter, loc, h, index(rewriter, group));
    Value shared = forall.getRegionIterArgs()[0];
    SmallVector<OpFoldResult> offsets = {b, h, rewriter.getIndexAttr(0),
                                         rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {
        rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
        tensor::getMixedSize(rewriter, loc, q, 2),
        rewriter.getIndexAttr(valueDim)};
    SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
    auto sliceType =
        RankedTensorType::get({outType.getDimSize(2), valueDim}, f32);
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, sliceType, shared, offsets, sizes, strides);
    Value zeroIndex = index(rewriter, 0), oneIndex = index(rewriter, 1);
    Value padding = f32Const(rewriter, 0.0);
    Value negInf = f32Const(rewriter, -std::numeric_limits<double>::infinity());

    auto rowLoop = scf::ForOp::create(
        rewriter, loc, zeroIndex, rows, oneIndex, ValueRange{slice},
        [&](OpBuilder &rb, Location l, Value i, ValueRange iter) {
          Value query = vector::TransferReadOp::create(
              rb, l, qVector, q, ValueRange{b, h, i, zeroIndex}, padding,
              inBounds);
          // Visible keys [lo, hi).
          Value lo = zeroIndex, hi = keys;
          if (causal) {
            Value last = arith::AddIOp::create(rb, l, i, offset);
            hi = arith::MinSIOp::create(
                rb, l, keys, arith::AddIOp::create(rb, l, last, oneIndex));
            if (window)
              lo = arith::MaxSIOp::create(
                  rb, l, zeroIndex,
                  arith::SubIOp::create(rb, l, last, index(rb, *window - 1)));
            // An empty range when the window starts past the end.
            hi = arith::MaxSIOp::create(rb, l, hi, lo);
          }
          auto score = [&](OpBuilder &sb, Value j) -> Value {
            Value key = vector::TransferReadOp::create(
                sb, l, qVector, k, ValueRange{b, kvHead, j, zeroIndex}, padding,
                inBounds);
            Value product = arith::MulFOp::create(sb, l, query, key);
            Value dot = vector::ReductionOp::create(
                sb, l, vector::CombiningKind::ADD, product, Value(),
                arith::FastMathFlags::reassoc);
            Value s =
                arith::MulFOp::create(sb, l, dot, f32Const(sb, scaleValue));
            if (mask) {
              SmallVector<Value> full = {b, h, i, j};
              SmallVector<Value> at;
              int64_t shift = 4 - maskType.getRank();
              for (int64_t d = 0; d < maskType.getRank(); ++d)
                at.push_back(maskType.getDimSize(d) == 1 ? zeroIndex
                                                         : full[d + shift]);
              s = arith::AddFOp::create(
                  sb, l, s, tensor::ExtractOp::create(sb, l, mask, at));
            }
            return s;
          };
          // Pass 1: the largest visible score.
          auto maxLoop = scf::ForOp::create(
              rb, l, lo, hi, oneIndex, ValueRange{negInf},
              [&](OpBuilder &mb, Location ml, Value j, ValueRange m) {
                scf::YieldOp::create(
                    mb, ml,
                    arith::MaximumFOp::create(mb, ml, m[0], score(mb, j))
                        .getResult());
              });
          Value rowMax = maxLoop.getResult(0);
          // A row with every key hidden: exponents of -inf give zeros.
          Value allHidden = arith::CmpFOp::create(
              rb, l, arith::CmpFPredicate::OEQ, rowMax, negInf);
          Value shift = arith::SelectOp::create(rb, l, allHidden,
                                                f32Const(rb, 0.0), rowMax);
          // Pass 2: exponentials, their sum and the weighted values.
          Value zeroVector = arith::ConstantOp::create(
              rb, l, vVector, DenseElementsAttr::get(vVector, 0.0f));
          auto sumLoop = scf::ForOp::create(
              rb, l, lo, hi, oneIndex,
              ValueRange{f32Const(rb, 0.0), zeroVector},
              [&](OpBuilder &sb, Location sl, Value j, ValueRange acc) {
                Value p = math::ExpOp::create(
                    sb, sl, arith::SubFOp::create(sb, sl, score(sb, j), shift));
                Value value = vector::TransferReadOp::create(
                    sb, sl, vVector, v, ValueRange{b, kvHead, j, zeroIndex},
                    padding, inBounds);
                Value splat = vector::BroadcastOp::create(sb, sl, vVector, p);
                scf::YieldOp::create(
                    sb, sl,
                    ValueRange{
                        arith::AddFOp::create(sb, sl, acc[0], p),
                        vector::FMAOp::create(sb, sl, splat, value, acc[1])});
              });
          Value sum = sumLoop.getResult(0);
          Value nonEmpty = arith::CmpFOp::create(
              rb, l, arith::CmpFPredicate::OGT, sum, f32Const(rb, 0.0));
          Value inverse = arith::SelectOp::create(
              rb, l, nonEmpty,
              arith::DivFOp::create(rb, l, f32Const(rb, 1.0), sum),
              f32Const(rb, 0.0));
          Value result = arith::MulFOp::create(
              rb, l, sumLoop.getResult(1),
              vector::BroadcastOp::create(rb, l, vVector, inverse));
          Value written =
              vector::TransferWriteOp::create(
                  rb, l, result, iter[0], ValueRange{i, zeroIndex}, inBounds)
                  .getResult();
          scf::YieldOp::create(rb, l, written);
        });
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, rowLoop.getResult(0),
                                          shared, offsets, sizes, strides);
    rewriter.replaceOp(op, forall.getResult(0));
    return success();
  }
};

struct FuseAttentionPass
    : llm::cpu::impl::LLMCpuFuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
