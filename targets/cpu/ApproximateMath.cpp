//===- ApproximateMath.cpp - llm-cpu-approximate-math ---------------------===//
//
// math.exp lowers to a call of libm's expf, one element at a time: LLVM
// cannot vectorise a loop around it, and the call dominated SiLU and the
// attention's softmax. Upstream's polynomial approximation (range
// reduction, a minimax polynomial, exponent reconstruction; about 1 ulp in
// f32) is plain arithmetic that inlines and vectorises.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUAPPROXIMATEMATH
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

struct ApproximateMath
    : llm::cpu::impl::LLMCpuApproximateMathBase<ApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef op) {
      return op == math::ExpOp::getOperationName();
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
