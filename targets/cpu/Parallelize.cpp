//===- Parallelize.cpp - llm-cpu-parallelize ------------------------------===//
//
// The linear layers and attention are scf.foralls already; everything
// else (norms, RoPE, SiLU and products, residual adds, layout changes) ran
// on one thread while the others waited at the next barrier. This pass
// splits each remaining top-level linalg op (and elementwise arith on
// tensors, made a linalg.generic first) into chunks along one parallel
// loop, as an scf.forall (OpenMP threads after llm-cpu-to-llvm{openmp}).
// The loop is the last dynamic parallel one (the sequence in [B, T, ...]
// and [B, H, T, ...] layouts), else the largest static one. Small
// instances (decode steps) are not worth a parallel region: an scf.if
// keeps the op as it was below `min-work` iterations.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUPARALLELIZE
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// An elementwise op on tensors (arith.addf of two activations, the product
/// of SiLU and the up projection) as a linalg.generic into a new tensor, so
/// that it can be split too. Upstream's convert-elementwise-to-linalg writes
/// into its first operand instead, which bufferization must then copy when
/// the operand is read later (a residual stream is).
LogicalResult elementwiseToGeneric(IRRewriter &rewriter, Operation *op) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, op->getOperand(0));
  Value init =
      tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
  SmallVector<AffineMap> maps(op->getNumOperands() + 1,
                              rewriter.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, type, op->getOperands(), init, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Type> scalar{type.getElementType()};
        OperationState state(l, op->getName().getStringRef(), args.drop_back(),
                             scalar, op->getAttrs());
        Operation *computed = b.create(state);
        linalg::YieldOp::create(b, l, computed->getResult(0));
      });
  rewriter.replaceOp(op, generic->getResults());
  return success();
}

/// Whether `op` is an elementwise op on same-shaped ranked tensors at the
/// top level of the function.
bool isTensorElementwise(Operation *op) {
  if (!isa<func::FuncOp>(op->getParentOp()) ||
      !op->hasTrait<OpTrait::Elementwise>() || op->getNumResults() != 1 ||
      op->getNumRegions() != 0 || op->getNumOperands() == 0)
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return type && llvm::all_of(op->getOperandTypes(), [&](Type t) {
           auto operand = dyn_cast<RankedTensorType>(t);
           return operand && operand.getShape() == type.getShape();
         });
}

/// The loop to split, or -1 when the op has no parallel loop worth it.
int64_t chooseLoop(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  int64_t chosen = -1;
  for (int64_t d = static_cast<int64_t>(ranges.size()) - 1; d >= 0; --d)
    if (iterators[d] == utils::IteratorType::parallel &&
        ShapedType::isDynamic(ranges[d]))
      return d;
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    if (iterators[d] == utils::IteratorType::parallel && ranges[d] > 1 &&
        (chosen < 0 || ranges[d] > ranges[chosen]))
      chosen = d;
  return chosen;
}

struct Parallelize : llm::cpu::impl::LLMCpuParallelizeBase<Parallelize> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 2 || minWork < 1) {
      getOperation()->emitError("llm-cpu-parallelize: chunks must be at "
                                "least 2 and min-work at least 1, got ")
          << static_cast<int64_t>(chunks) << " and "
          << static_cast<int64_t>(minWork);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> elementwise;
    getOperation()->walk([&](Operation *op) {
      if (isTensorElementwise(op))
        elementwise.push_back(op);
    });
    for (Operation *op : elementwise)
      if (failed(elementwiseToGeneric(rewriter, op)))
        return signalPassFailure();
    redirectDims();
    SmallVector<std::pair<linalg::LinalgOp, int64_t>> candidates;
    getOperation()->walk([&](linalg::LinalgOp op) {
      // Top level only: ops inside loops are parts of kernels.
      if (!isa<func::FuncOp>(op->getParentOp()) ||
          !op.hasPureTensorSemantics() || op->getNumResults() != 1 ||
          !isa<TilingInterface>(op.getOperation()))
        return;
      if (int64_t loop = chooseLoop(op); loop >= 0)
        candidates.push_back({op, loop});
    });
    // Consumers last to first: each takes the producers only it uses into
    // its own parallel region.
    llvm::SmallPtrSet<Operation *, 32> taken;
    for (auto [op, loop] : llvm::reverse(candidates)) {
      if (taken.contains(op))
        continue;
      SmallVector<Operation *> producers =
          producersOnlyFor(op, candidates, taken);
      taken.insert(producers.begin(), producers.end());
      if (failed(parallelize(rewriter, op, loop, producers)))
        return signalPassFailure();
    }
  }

  /// tensor.dim of a linalg op's result asks its init instead (same shape),
  /// so that sizes do not keep a producer alive outside its consumer's
  /// region.
  void redirectDims() {
    getOperation()->walk([](tensor::DimOp dim) {
      while (auto result = dyn_cast<OpResult>(dim.getSource())) {
        auto producer = dyn_cast<linalg::LinalgOp>(result.getOwner());
        if (!producer || !producer.hasPureTensorSemantics())
          return;
        dim.getSourceMutable().assign(
            producer.getDpsInitOperand(result.getResultNumber())->get());
      }
    });
  }

  /// The candidates before `consumer` whose results only `consumer` and the
  /// others taken read (the norm's sum of squares and scale, a SiLU before
  /// its product), in program order. Ops in `taken` were erased with the
  /// consumer that took them.
  SmallVector<Operation *>
  producersOnlyFor(linalg::LinalgOp consumer,
                   ArrayRef<std::pair<linalg::LinalgOp, int64_t>> candidates,
                   const llvm::SmallPtrSetImpl<Operation *> &taken) {
    llvm::SmallPtrSet<Operation *, 8> group{consumer};
    SmallVector<Operation *> producers;
    auto feedsGroup = [&](Operation *op) {
      bool used = false;
      for (Operation *user : op->getUsers()) {
        if (!group.contains(user))
          return false;
        used = true;
      }
      return used;
    };
    // Candidates are in program order and users follow their producers, so
    // one backward sweep sees every user's membership before the producer.
    bool before = false;
    for (auto [op, loop] : llvm::reverse(candidates)) {
      if (op == consumer) {
        before = true;
        continue;
      }
      if (before && !taken.contains(op) &&
          op->getBlock() == consumer->getBlock() && feedsGroup(op)) {
        group.insert(op);
        producers.push_back(op);
      }
    }
    std::reverse(producers.begin(), producers.end());
    return producers;
  }

  /// Splits `op` into chunks along its loop `loop`, with `producers` (read
  /// only by it) computed chunk by chunk inside the same parallel region.
  LogicalResult parallelize(IRRewriter &rewriter, linalg::LinalgOp op,
                            int64_t loop, ArrayRef<Operation *> producers) {
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    auto tileable = cast<TilingInterface>(op.getOperation());
    SmallVector<Range> domain = tileable.getIterationDomain(rewriter);
    // Iterations in all: below min-work, the op stays sequential.
    Value work = arith::ConstantIndexOp::create(rewriter, loc, 1);
    for (Range r : domain)
      work = arith::MulIOp::create(
          rewriter, loc, work,
          getValueOrCreateConstantIndexOp(rewriter, loc, r.size));
    redirectDims();
    Value big = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::sge, work,
        arith::ConstantIndexOp::create(rewriter, loc, minWork));
    auto branch = scf::IfOp::create(rewriter, loc, op->getResultTypes(), big,
                                    /*withElseRegion=*/true);
    // Both branches start from copies of the group; the producers' uses are
    // all inside it, so they may move down to the consumer.
    auto cloneGroup = [&](IRMapping &mapping) {
      for (Operation *producer : producers)
        rewriter.clone(*producer, mapping);
      return rewriter.clone(*op, mapping);
    };
    // Else: the ops as they were.
    rewriter.setInsertionPointToStart(branch.elseBlock());
    IRMapping sequentialMap;
    Operation *sequential = cloneGroup(sequentialMap);
    scf::YieldOp::create(rewriter, loc, sequential->getResults());
    // Then: chunks along the chosen loop, producers fused into them.
    rewriter.setInsertionPointToStart(branch.thenBlock());
    IRMapping parallelMap;
    auto parallel = cast<TilingInterface>(cloneGroup(parallelMap));
    llvm::SmallPtrSet<Operation *, 8> fusible;
    for (Operation *producer : producers)
      fusible.insert(parallelMap.lookup(producer));
    SmallVector<OpFoldResult> numThreads(domain.size(),
                                         rewriter.getIndexAttr(0));
    numThreads[loop] = rewriter.getIndexAttr(chunks);
    scf::SCFTilingOptions tiling;
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
        .setNumThreads(numThreads);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling).setFusionControlFn(
        [&](tensor::ExtractSliceOp, OpResult producer, bool)
            -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          if (!fusible.contains(producer.getOwner()))
            return std::nullopt;
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        });
    FailureOr<scf::SCFTileAndFuseResult> tiled =
        scf::tileConsumerAndFuseProducersUsingSCF(rewriter, parallel, options);
    if (failed(tiled))
      return op->emitError("llm-cpu-parallelize: could not split the op");
    rewriter.setInsertionPointToEnd(branch.thenBlock());
    scf::YieldOp::create(rewriter, loc,
                         tiled->replacements.lookup(parallel->getResult(0)));
    rewriter.eraseOp(parallel);
    // Producers fused into every chunk are dead now, with the slices of
    // their whole results that fusion read them through; one that could not
    // be fused stays, sequential, before the loop.
    while (true) {
      Operation *dead = nullptr;
      branch.getThenRegion().walk([&](Operation *nested) {
        if (!isOpTriviallyDead(nested))
          return WalkResult::advance();
        dead = nested;
        return WalkResult::interrupt();
      });
      if (!dead)
        break;
      rewriter.eraseOp(dead);
    }
    rewriter.replaceOp(op, branch.getResults());
    for (Operation *producer : llvm::reverse(producers))
      rewriter.eraseOp(producer);
    return success();
  }
};

} // namespace
