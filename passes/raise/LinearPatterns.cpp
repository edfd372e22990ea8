//===- LinearPatterns.cpp - raising linear layers
//---------------------------===//

#include "passes/raise/Matchers.h"
#include "passes/raise/RaisePatterns.h"

#include "dialects/llm/ConstantData.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include <cstring>

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::raise;

namespace {

/// llm.matmul %x, (arith.constant [K, N]) -> llm.linear %x, [N, K].
struct MatmulByConstantToLinear : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto constant = op.getRhs().getDefiningOp<arith::ConstantOp>();
    if (!constant || op.getRhs().getType().getRank() != 2)
      return rewriter.notifyMatchFailure(op, "rhs is not a constant matrix");
    Location loc = constant.getLoc();
    Value weight = transposeConstant(rewriter, loc, constant, "_t");
    if (!weight) {
      // Without the bytes, keep the transpose in the IR.
      auto type = op.getRhs().getType();
      Value init = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{type.getDimSize(1), type.getDimSize(0)},
          type.getElementType());
      weight = linalg::TransposeOp::create(rewriter, loc, op.getRhs(), init,
                                           ArrayRef<int64_t>{1, 0})
                   .getResult()[0];
    }
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(), weight,
                                          Value());
    return success();
  }
};

/// arith.addf (llm.linear %x, %w), broadcast(%b : [N]) -> llm.linear with bias.
struct FoldBiasIntoLinear : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    Value linearValue, other;
    auto isBiasFree = [](Value v) {
      auto linear = v.getDefiningOp<LinearOp>();
      return linear && !linear.getBias() && linear->hasOneUse();
    };
    if (!matchCommutative<arith::AddFOp>(op.getResult(), isBiasFree,
                                         linearValue, other))
      return rewriter.notifyMatchFailure(op, "no bias-free linear operand");
    auto linear = linearValue.getDefiningOp<LinearOp>();
    Value bias = stripToAligned(other);
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    int64_t n = linear.getWeight().getType().getDimSize(0);
    if (!biasType || biasType.getRank() != 1 || biasType.getDimSize(0) != n ||
        biasType.getElementType() != linear.getType().getElementType() ||
        op.getType() != linear.getType())
      return rewriter.notifyMatchFailure(op, "addend is not a [N] bias");
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), linear.getInput(),
                                          linear.getWeight(), bias);
    rewriter.eraseOp(linear);
    return success();
  }
};

/// tensor.concat of (reshaped) constants whose bytes are in memory -> one
/// constant: the expert weights llm.moe stacks become one blob.
struct FoldConcatOfConstants : OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    unsigned bits = type.getElementTypeBitWidth();
    if (op.getDim() != 0 || !type.hasStaticShape() || bits % 8 != 0)
      return rewriter.notifyMatchFailure(op, "not a static concat along dim 0");
    // Along the leading dim, the result's bytes are the inputs' in order.
    SmallVector<ArrayRef<char>> parts;
    std::string name;
    for (Value input : op.getInputs()) {
      Value source = input;
      while (auto reshape = source.getDefiningOp<tensor::ExpandShapeOp>())
        source = reshape.getSrc();
      auto constant = source.getDefiningOp<arith::ConstantOp>();
      auto attr = constant ? dyn_cast<ElementsAttr>(constant.getValue())
                           : ElementsAttr();
      std::optional<ArrayRef<char>> bytes =
          attr ? constantBytes(attr) : std::nullopt;
      if (!bytes)
        return rewriter.notifyMatchFailure(op, "an input is not in memory");
      if (name.empty())
        if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
          name = (resource.getRawHandle().getKey() + "_stacked").str();
      parts.push_back(*bytes);
    }
    size_t total = 0;
    for (ArrayRef<char> p : parts)
      total += p.size();
    if (total != static_cast<size_t>(type.getNumElements()) * bits / 8)
      return rewriter.notifyMatchFailure(op, "sizes do not add up");
    AsmResourceBlob blob = HeapAsmResourceBlob::allocate(total, bits / 8);
    char *dst = blob.getMutableData().data();
    for (ArrayRef<char> p : parts) {
      std::memcpy(dst, p.data(), p.size());
      dst += p.size();
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseResourceElementsAttr::get(
                type, name.empty() ? "stacked" : name, std::move(blob)));
    return success();
  }
};

} // namespace

void mlir::llm::raise::populateLinearPatterns(RewritePatternSet &patterns) {
  patterns
      .add<MatmulByConstantToLinear, FoldBiasIntoLinear, FoldConcatOfConstants>(
          patterns.getContext());
}
