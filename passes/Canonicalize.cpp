//===- Canonicalize.cpp - llm-canonicalize
//---------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMCANONICALIZE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

void mlir::llm::populateLLMCanonicalizationPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (name.getDialectNamespace() == LLMDialect::getDialectNamespace())
      name.getCanonicalizationPatterns(patterns, ctx);
  linalg::TransposeOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::CastOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::ReshapeOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
  arith::ConstantOp::getCanonicalizationPatterns(patterns, ctx);
}

namespace {
struct LLMCanonicalizePass
    : llm::impl::LLMCanonicalizeBase<LLMCanonicalizePass> {
  using LLMCanonicalizeBase::LLMCanonicalizeBase;

  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    populateLLMCanonicalizationPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    if (maxIterations < 1) {
      getOperation()->emitError()
          << "llm-canonicalize: max-iterations must be at least 1, got "
          << maxIterations.getValue();
      return signalPassFailure();
    }
    GreedyRewriteConfig config;
    config.setMaxIterations(maxIterations);
    // Not converging is not an error: the IR is still valid, just not
    // maximally simplified; say so and carry on.
    bool changed = false;
    if (failed(
            applyPatternsGreedily(getOperation(), patterns, config, &changed)))
      getOperation()->emitWarning()
          << "llm-canonicalize did not converge in " << maxIterations.getValue()
          << " iterations";
  }

  FrozenRewritePatternSet patterns;
};
} // namespace
