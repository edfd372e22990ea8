//===- LLMCanonicalization.cpp - llm folders and canonical patterns -------===//
//
// Simplifications that always pay off at the graph level: they drop work
// (zero biases and masks), turn exporter idioms into the op that names them
// (a matmul by a transposed weight is a linear layer, a constant causal mask
// is the `causal` flag), and remove no-op transfers.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

/// True if `v` is a constant whose every element is +0.0 or -0.0.
bool isZeroConstant(Value v) {
  return v && (matchPattern(v, m_AnyZeroFloat()));
}

/// Masked-out additive entries: -inf or anything so negative that exp()
/// underflows to exactly zero in f32 whatever the scores (exporters write
/// torch.finfo(float32).min).
constexpr double kMaskedThreshold = -1.0e9;

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

struct DropZeroBias : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!isZeroConstant(op.getBias()))
      return rewriter.notifyMatchFailure(op, "bias is not a zero constant");
    rewriter.modifyOpInPlace(op, [&] { op.getBiasMutable().clear(); });
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// llm.matmul %x, (linalg.transpose %w [1, 0]) -> llm.linear %x, %w
struct MatmulOfTransposedWeightToLinear : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto transpose = op.getRhs().getDefiningOp<linalg::TransposeOp>();
    if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
      return rewriter.notifyMatchFailure(op, "rhs is not a 2-D transpose");
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(),
                                          transpose.getInput(), Value());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

struct DropZeroMask : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!isZeroConstant(op.getMask()))
      return rewriter.notifyMatchFailure(op, "mask is not a zero constant");
    rewriter.modifyOpInPlace(op, [&] { op.getMaskMutable().clear(); });
    return success();
  }
};

/// A constant additive mask that hides exactly the keys after each query
/// (bottom-right aligned, the way `causal` is defined) becomes the flag.
struct ConstantCausalMaskToFlag : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    DenseFPElementsAttr mask;
    if (!op.getMask() || !matchPattern(op.getMask(), m_Constant(&mask)))
      return rewriter.notifyMatchFailure(op, "no constant mask");
    auto maskType = cast<RankedTensorType>(mask.getType());
    if (maskType.getRank() < 2 ||
        llvm::any_of(maskType.getShape().drop_back(2),
                     [](int64_t d) { return d != 1; }))
      return rewriter.notifyMatchFailure(op, "mask varies over batch/heads");
    int64_t rows = maskType.getDimSize(maskType.getRank() - 2);
    int64_t cols = maskType.getDimSize(maskType.getRank() - 1);
    // The mask must be the full [seq, total] block (no broadcast rows/cols).
    RankedTensorType queryType = op.getQuery().getType();
    RankedTensorType resultKeys =
        op.getPresentKey()
            ? cast<RankedTensorType>(op.getPresentKey().getType())
            : op.getKey().getType();
    if (rows != queryType.getDimSize(2) || cols != resultKeys.getDimSize(2))
      return rewriter.notifyMatchFailure(op, "mask is broadcast along seq");
    int64_t offset = cols - rows;
    auto values = mask.getValues<APFloat>();
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        double v = values[i * cols + j].convertToDouble();
        bool visible = j <= i + offset;
        if (visible ? v != 0.0 : v > kMaskedThreshold)
          return rewriter.notifyMatchFailure(op, "mask is not causal");
      }
    }
    rewriter.modifyOpInPlace(op, [&] {
      op.getMaskMutable().clear();
      op.setCausal(true);
    });
    return success();
  }
};

} // namespace

void LinearOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<DropZeroBias>(context);
}

void MatmulOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<MatmulOfTransposedWeightToLinear>(context);
}

void AttentionOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<DropZeroMask, ConstantCausalMaskToFlag>(context);
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult SoftmaxOp::fold(FoldAdaptor) {
  RankedTensorType type = getType();
  if (!type.hasStaticShape() || type.getDimSize(getNormalizedAxis()) != 1)
    return {};
  return DenseElementsAttr::get(type,
                                FloatAttr::get(type.getElementType(), 1.0));
}

OpFoldResult TransferOp::fold(FoldAdaptor) {
  if (getFrom() == getTo())
    return getInput();
  // x: a -> b -> c becomes x: a -> c (and x itself when c == a).
  if (auto producer = getInput().getDefiningOp<TransferOp>()) {
    if (producer.getTo() != getFrom())
      return {};
    if (producer.getFrom() == getTo())
      return producer.getInput();
    getInputMutable().assign(producer.getInput());
    setFromAttr(producer.getFromAttr());
    return getResult();
  }
  return {};
}
