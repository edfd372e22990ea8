//===- PrefetchPanels.cpp - llm-cpu-prefetch-panels -----------------------===//
//
// A prefill GEMM's weights are read from memory once per step: a model's
// weights are larger than the last-level cache. Each thread walks its
// panels in order, and the first tile of rows of every panel waited for its
// stream from DRAM (the hardware prefetchers start late and stop at page
// boundaries): about a tenth of the GEMMs' time. While a thread computes
// one panel, this pass has it fetch the next one into L2, a step of the k
// loop at a time. It runs after bufferization, on the weight reads of the
// multiply-adds llm-cpu-vectorize-linear tagged.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUPREFETCHPANELS
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// Bytes of one cache line.
constexpr int64_t kCacheLine = 64;

/// Prefetches, before `read` (a panel row w[p, k, 0:NR] of a weight
/// memref [P, K, NR]), the same row of panel p + 1 (of p itself for the
/// last panel): one prefetch per cache line, into L2.
LogicalResult prefetchNextPanel(vector::FMAOp fma) {
  auto read = fma.getRhs().getDefiningOp<vector::TransferReadOp>();
  if (!read)
    return fma.emitError("llm-cpu-prefetch-panels: tagged '")
           << llm::cpu::kPrefetchNextPanelAttr
           << "' but its weights are not a vector.transfer_read";
  auto type = dyn_cast<MemRefType>(read.getBase().getType());
  if (!type || type.getRank() != 3 || read.getIndices().size() != 3 ||
      type.isDynamicDim(0) || type.isDynamicDim(2) ||
      !type.getElementType().isIntOrFloat())
    return fma.emitError("llm-cpu-prefetch-panels: tagged '")
           << llm::cpu::kPrefetchNextPanelAttr
           << "' but its weights are not read from panels [P, K, NR]";
  OpBuilder b(read);
  Location loc = read.getLoc();
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value panel = read.getIndices()[0];
  Value next = arith::MinUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, panel, index(1)),
      index(type.getDimSize(0) - 1));
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  int64_t perLine = std::max<int64_t>(1, kCacheLine / elementBytes);
  Value column = read.getIndices()[2];
  for (int64_t c = 0; c < type.getDimSize(2); c += perLine) {
    Value at =
        c == 0 ? column
               : arith::AddIOp::create(b, loc, column, index(c)).getResult();
    memref::PrefetchOp::create(b, loc, read.getBase(),
                               ValueRange{next, read.getIndices()[1], at},
                               /*isWrite=*/false, /*localityHint=*/2,
                               /*isDataCache=*/true);
  }
  fma->removeAttr(llm::cpu::kPrefetchNextPanelAttr);
  return success();
}

struct PrefetchPanelsPass
    : llm::cpu::impl::LLMCpuPrefetchPanelsBase<PrefetchPanelsPass> {
  void runOnOperation() override {
    SmallVector<vector::FMAOp> tagged;
    getOperation()->walk([&](vector::FMAOp fma) {
      if (fma->hasAttr(llm::cpu::kPrefetchNextPanelAttr))
        tagged.push_back(fma);
    });
    for (vector::FMAOp fma : tagged)
      if (failed(prefetchNextPanel(fma)))
        return signalPassFailure();
  }
};

} // namespace
