//===- ExposeRouterLogits.cpp - llm-expose-router-logits ------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMEXPOSEROUTERLOGITS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct ExposeRouterLogitsPass
    : public llm::impl::LLMExposeRouterLogitsBase<ExposeRouterLogitsPass> {
  using LLMExposeRouterLogitsBase::LLMExposeRouterLogitsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto function = module.lookupSymbol<func::FuncOp>(func);
    if (!function || function.isDeclaration()) {
      module.emitError() << "llm-expose-router-logits: no function @" << func;
      return signalPassFailure();
    }
    SmallVector<Value> logits;
    function.walk([&](MoeOp op) { logits.push_back(op.getRouterLogits()); });
    if (logits.empty()) {
      function.emitError() << "@" << func << " has no llm.moe layer";
      return signalPassFailure();
    }
    auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
    unsigned first = ret.getNumOperands();
    OpBuilder b(ret);
    for (auto [i, v] : llvm::enumerate(logits)) {
      NamedAttribute attrs[] = {
          b.getNamedAttr(LLMDialect::kNameAttrName,
                         b.getStringAttr("router_logits_" + std::to_string(i))),
          b.getNamedAttr(LLMDialect::kLayerAttrName, b.getI64IntegerAttr(i))};
      if (failed(function.insertResult(first + i, v.getType(),
                                       b.getDictionaryAttr(attrs))))
        return signalPassFailure();
    }
    ret.getOperandsMutable().append(logits);
  }
};

} // namespace
