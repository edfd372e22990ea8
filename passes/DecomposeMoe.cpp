//===- DecomposeMoe.cpp - llm-decompose-moe
//--------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/MoeDecomposition.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMDECOMPOSEMOE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct DecomposeMoePass
    : public llm::impl::LLMDecomposeMoeBase<DecomposeMoePass> {
  void runOnOperation() override {
    SmallVector<MoeOp> layers;
    getOperation()->walk([&](MoeOp op) { layers.push_back(op); });
    OpBuilder b(&getContext());
    for (MoeOp op : layers) {
      FailureOr<Value> value = decomposeMoe(b, op);
      if (failed(value))
        return signalPassFailure();
      op.replaceAllUsesWith(*value);
      // The stacked weights stay only while something else uses them.
      SmallVector<Value> weights = {op.getGateWeight(), op.getUpWeight(),
                                    op.getDownWeight()};
      op.erase();
      for (Value w : weights)
        if (w && w.use_empty())
          if (auto constant = w.getDefiningOp<arith::ConstantOp>())
            constant.erase();
    }
  }
};

} // namespace
