//===- Raise.cpp - llm-raise
//------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/raise/RaisePatterns.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMRAISE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {
struct LLMRaisePass : llm::impl::LLMRaiseBase<LLMRaisePass> {
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    raise::populateLinearPatterns(set);
    raise::populateNormPatterns(set);
    raise::populateActivationPatterns(set);
    raise::populateAttentionPatterns(set);
    raise::populateMoEPatterns(set);
    populateLLMCanonicalizationPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    // Not reaching a fixed point leaves valid, partly raised IR: warn only.
    if (failed(applyPatternsGreedily(getOperation(), patterns)))
      getOperation()->emitWarning() << "llm-raise did not converge";
  }

  FrozenRewritePatternSet patterns;
};
} // namespace
