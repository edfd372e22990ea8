//===- CopiesToLinalg.cpp - llm-cpu-copies-to-linalg ----------------------===//
//
// memref.copy between non-contiguous buffers lowers to a call into MLIR's
// C runner library (memrefCopy), which an artifact's runtime does not have;
// as linalg.copy it becomes plain loops. Contiguous copies stay memcpy, and
// copies from a reshaped view of their own target are dropped.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUCOPIESTOLINALG
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// A copy from a reshaped view of its own target (a result computed in
/// the output buffer, viewed as panels by the kernel and back): expand and
/// collapse keep every element where it is, so it copies nothing.
struct DropCopyOntoItself : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    Value source = op.getSource();
    while (Operation *def = source.getDefiningOp()) {
      if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
        source = expand.getSrc();
      else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def))
        source = collapse.getSrc();
      else
        break;
    }
    if (source != op.getTarget())
      return rewriter.notifyMatchFailure(op, "not a view of the target");
    rewriter.eraseOp(op);
    return success();
  }
};

struct StridedCopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto source = dyn_cast<MemRefType>(op.getSource().getType());
    auto target = dyn_cast<MemRefType>(op.getTarget().getType());
    if (!source || !target)
      return rewriter.notifyMatchFailure(op, "unranked");
    if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
      return rewriter.notifyMatchFailure(op, "contiguous: memcpy");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct CopiesToLinalg
    : llm::cpu::impl::LLMCpuCopiesToLinalgBase<CopiesToLinalg> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DropCopyOntoItself>(&getContext(), /*benefit=*/2);
    patterns.add<StridedCopyToLinalg>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
