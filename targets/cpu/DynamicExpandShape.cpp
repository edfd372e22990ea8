//===- DynamicExpandShape.cpp - llm-cpu-dynamic-expand-shape --------------===//
//
// LLVM 22's expand-strided-metadata crashes (a null IntegerAttr in
// ReinterpretCastOp::build) on a memref.expand_shape that splits one
// dimension into several dynamic ones, e.g. [B*T, d] -> [B, T, d] with B and
// T unknown. A contiguous source lets us say the same thing as a
// memref.reinterpret_cast with row-major strides, which that pass handles.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUDYNAMICEXPANDSHAPE
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

struct ExpandToReinterpretCast : OpRewritePattern<memref::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    MemRefType result = op.getResultType();
    bool splitsDynamic = llvm::any_of(
        op.getReassociationIndices(), [&](const ReassociationIndices &group) {
          return llvm::count_if(group, [&](int64_t d) {
                   return result.isDynamicDim(d);
                 }) > 1;
        });
    if (!splitsDynamic)
      return rewriter.notifyMatchFailure(op, "upstream handles it");
    if (!op.getSrcType().getLayout().isIdentity() ||
        !result.getLayout().isIdentity())
      return rewriter.notifyMatchFailure(op, "not contiguous");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
    SmallVector<OpFoldResult> strides(sizes.size());
    OpFoldResult stride = rewriter.getIndexAttr(1);
    for (size_t d = sizes.size(); d-- > 0;) {
      strides[d] = stride;
      std::optional<int64_t> a = getConstantIntValue(stride);
      std::optional<int64_t> b = getConstantIntValue(sizes[d]);
      if (a && b)
        stride = rewriter.getIndexAttr(*a * *b);
      else
        stride = arith::MulIOp::create(
                     rewriter, loc,
                     getValueOrCreateConstantIndexOp(rewriter, loc, stride),
                     getValueOrCreateConstantIndexOp(rewriter, loc, sizes[d]))
                     .getResult();
    }
    rewriter.replaceOpWithNewOp<memref::ReinterpretCastOp>(
        op, result, op.getSrc(), rewriter.getIndexAttr(0), sizes, strides);
    return success();
  }
};

struct DynamicExpandShape
    : llm::cpu::impl::LLMCpuDynamicExpandShapeBase<DynamicExpandShape> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandToReinterpretCast>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
