//===- MoeToMoge.cpp - llm-moe-to-moge ------------------------------------===//
//
// Sets `groups` and `top_k` on every llm.moe; the routing itself (softmax
// over all experts, top K' inside every group) is the op's semantics, so
// every lowering of llm.moe computes it.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMMOETOMOGE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct MoeToMogePass : public llm::impl::LLMMoeToMogeBase<MoeToMogePass> {
  using LLMMoeToMogeBase::LLMMoeToMogeBase;

  void runOnOperation() override {
    int64_t groups = this->groups, kPerGroup = this->kPerGroup;
    if (groups < 1 || kPerGroup < 1) {
      getOperation()->emitError()
          << "llm-moe-to-moge: groups and k-per-group must be at least 1";
      return signalPassFailure();
    }
    WalkResult result =
        getOperation()->walk([&](MoeOp op) {
          int64_t experts = op.getNumExperts();
          if (ShapedType::isDynamic(experts) || experts % groups != 0) {
            op.emitError() << "cannot split " << experts << " experts into "
                           << groups << " equal groups";
            return WalkResult::interrupt();
          }
          if (kPerGroup > experts / groups) {
            op.emitError() << "k-per-group (" << kPerGroup
                           << ") exceeds the experts of a group ("
                           << experts / groups << ")";
            return WalkResult::interrupt();
          }
          Builder b(op.getContext());
          int64_t oldTopK = op.getTopK(), oldGroups = op.getGroups();
          op.setGroupsAttr(b.getI64IntegerAttr(groups));
          op.setTopKAttr(b.getI64IntegerAttr(groups * kPerGroup));
          if (oldGroups != groups || oldTopK != groups * kPerGroup)
            op.emitWarning()
                << "routing changed from top-" << oldTopK
                << (oldGroups > 1
                        ? " in " + std::to_string(oldGroups) + " groups"
                        : std::string(" over all experts"))
                << " to top-" << kPerGroup << " in each of " << groups
                << " groups: outputs differ from the model as "
                   "trained unless it was trained this way";
          return WalkResult::advance();
        });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
