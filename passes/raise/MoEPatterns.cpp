//===- MoEPatterns.cpp - raising mixture-of-experts layers
//-------------------===//
//
// Exported MoE layers are loops unrolled over the experts, with routing
// spelled as TopK + scatter/one-hot/nonzero plumbing that differs between
// the dense (every expert on every token, gated) and the sparse (gather
// the routed tokens, scatter-add back) forms. Both share what matters:
//
//   probs = softmax(linear(x, W_router)); w, idx = topk(probs, k)
//   [w = w / sum(w)]                    (renormalised routing weights)
//   out = Σ_e combine(w, idx, e, down_e(silu(gate_e(x_e)) * up_e(x_e)))
//
// The raise is anchored on llm.topk: it finds the router, the SwiGLU
// experts fed from x (directly or through a gather of its rows), and the
// combined output as the first value that depends on every expert, and
// replaces that value with llm.moe. The expert order is the order of the
// unrolled loop (the exporter's expert index).
//
//===----------------------------------------------------------------------===//

#include "passes/raise/Matchers.h"
#include "passes/raise/RaisePatterns.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::raise;

namespace {

struct Expert {
  LinearOp gate, up, down;
};

/// True if `v` is x or computed directly from x (a gather of its rows:
/// a linalg.generic that reads x, as an operand or by tensor.extract).
bool fedFrom(Value v, Value x) {
  if (v == x)
    return true;
  auto generic = v.getDefiningOp<linalg::GenericOp>();
  if (!generic)
    return false;
  if (llvm::is_contained(generic->getOperands(), x))
    return true;
  bool reads = false;
  generic.getRegion().walk(
      [&](tensor::ExtractOp extract) { reads |= extract.getTensor() == x; });
  return reads;
}

/// down(silu(gate(xe)) * up(xe)) with xe fed from x.
std::optional<Expert> matchExpert(LinearOp down, Value x) {
  auto mul = down.getInput().getDefiningOp<arith::MulFOp>();
  if (!mul || down.getBias())
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    auto silu = mul->getOperand(i).getDefiningOp<SiluOp>();
    auto up = mul->getOperand(1 - i).getDefiningOp<LinearOp>();
    auto gate = silu ? silu.getInput().getDefiningOp<LinearOp>() : nullptr;
    if (gate && up && !gate.getBias() && !up.getBias() &&
        gate.getInput() == up.getInput() && fedFrom(gate.getInput(), x))
      return Expert{gate, up, down};
  }
  return std::nullopt;
}

/// values / broadcast(sum(values, last)) among the users of `values`.
bool isRenormalised(Value values) {
  for (Operation *user : values.getUsers()) {
    auto div = dyn_cast<arith::DivFOp>(user);
    if (!div || div.getLhs() != values)
      continue;
    auto reduce =
        stripBroadcast(div.getRhs()).getDefiningOp<linalg::ReduceOp>();
    if (reduce && reduce.getInputs()[0] == values &&
        isSplat(reduce.getInits()[0], 0.0))
      return true;
  }
  return false;
}

/// [E] x [F, D] expert weights stacked into [E, F, D] with tensor.concat.
Value stack(PatternRewriter &rewriter, Location loc, ArrayRef<Value> weights) {
  SmallVector<Value> parts;
  for (Value w : weights) {
    auto t = cast<RankedTensorType>(w.getType());
    SmallVector<int64_t> shape = {1, t.getDimSize(0), t.getDimSize(1)};
    parts.push_back(tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(shape, t.getElementType()), w,
        SmallVector<ReassociationIndices>{{0, 1}, {2}}));
  }
  return tensor::ConcatOp::create(rewriter, loc, 0, parts);
}

struct RaiseMoE : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp topk,
                                PatternRewriter &rewriter) const override {
    auto softmax = topk.getInput().getDefiningOp<SoftmaxOp>();
    auto router =
        softmax ? softmax.getInput().getDefiningOp<LinearOp>() : nullptr;
    if (!router ||
        softmax.getNormalizedAxis() != softmax.getType().getRank() - 1 ||
        router.getType().getRank() != 2)
      return rewriter.notifyMatchFailure(topk,
                                         "not topk(softmax(router linear))");
    Value x = router.getInput();
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t numExperts = router.getType().getDimSize(1);
    if (ShapedType::isDynamic(numExperts))
      return rewriter.notifyMatchFailure(topk, "dynamic expert count");

    // Forward over the block: which experts each value depends on.
    Block *block = topk->getBlock();
    SmallVector<Expert> experts;
    llvm::DenseMap<Operation *, llvm::BitVector> deps;
    Operation *combine = nullptr;
    for (Operation &op :
         llvm::make_range(std::next(topk->getIterator()), block->end())) {
      llvm::BitVector mask;
      for (Value operand : op.getOperands())
        if (Operation *def = operand.getDefiningOp()) {
          auto it = deps.find(def);
          if (it != deps.end()) {
            if (mask.size() < it->second.size())
              mask.resize(it->second.size());
            mask |= it->second;
          }
        }
      // Values inside regions (linalg bodies) count for their parent.
      op.walk([&](Operation *inner) {
        for (Value operand : inner->getOperands())
          if (Operation *def = operand.getDefiningOp();
              def && deps.count(def)) {
            if (mask.size() < deps[def].size())
              mask.resize(deps[def].size());
            mask |= deps[def];
          }
      });
      if (auto linear = dyn_cast<LinearOp>(op))
        if (std::optional<Expert> e = matchExpert(linear, x)) {
          mask.resize(numExperts);
          if (static_cast<int64_t>(experts.size()) == numExperts)
            return rewriter.notifyMatchFailure(topk,
                                               "more expert FFNs than experts");
          mask.set(experts.size());
          experts.push_back(*e);
        }
      if (mask.any())
        deps[&op] = mask;
      if (static_cast<int64_t>(experts.size()) == numExperts &&
          mask.size() == numExperts && mask.all() && op.getNumResults() == 1 &&
          op.getResult(0).getType() == xType) {
        combine = &op;
        break;
      }
    }
    if (static_cast<int64_t>(experts.size()) != numExperts || !combine)
      return rewriter.notifyMatchFailure(topk,
                                         "no combination of all experts found");

    // The combination must also use the routing decision: an op reading the
    // top-k indices lies between the topk and the combined value.
    bool usesRouting = false;
    SmallVector<Value> worklist(combine->getOperands());
    llvm::SmallPtrSet<Operation *, 32> seen;
    while (!worklist.empty() && !usesRouting) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      if (!def || def->getBlock() != block || !seen.insert(def).second ||
          def->isBeforeInBlock(topk))
        continue;
      // The expert choice (indices), not only the weights, must reach it.
      for (OpOperand &use : topk.getIndices().getUses())
        usesRouting |= use.getOwner() == def || def->isAncestor(use.getOwner());
      // Operands, including values read inside regions (linalg bodies).
      def->walk([&](Operation *inner) {
        llvm::append_range(worklist, inner->getOperands());
      });
    }
    if (!usesRouting)
      return rewriter.notifyMatchFailure(
          topk, "combination does not use the chosen experts");

    SmallVector<Value> gates, ups, downs;
    for (Expert &e : experts) {
      gates.push_back(e.gate.getWeight());
      ups.push_back(e.up.getWeight());
      downs.push_back(e.down.getWeight());
    }
    for (ArrayRef<Value> ws :
         {ArrayRef<Value>(gates), ArrayRef<Value>(ups), ArrayRef<Value>(downs)})
      if (llvm::any_of(ws,
                       [&](Value w) { return w.getType() != ws[0].getType(); }))
        return rewriter.notifyMatchFailure(topk, "experts differ in shape");

    rewriter.setInsertionPoint(combine);
    Location loc = combine->getLoc();
    auto moe = MoeOp::create(
        rewriter, loc, xType, x, router.getResult(),
        stack(rewriter, loc, gates), stack(rewriter, loc, ups),
        stack(rewriter, loc, downs), rewriter.getI64IntegerAttr(topk.getK()),
        isRenormalised(topk.getValues()) ? rewriter.getUnitAttr() : UnitAttr(),
        ActivationAttr::get(rewriter.getContext(), Activation::silu),
        rewriter.getI64IntegerAttr(1));
    rewriter.replaceOp(combine, moe.getResult());
    return success();
  }
};

} // namespace

void mlir::llm::raise::populateMoEPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseMoE>(patterns.getContext());
}
