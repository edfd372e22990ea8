//===- CostInterface.cpp - work counts of llm and upstream ops ------------===//
//
// Counting conventions (LLM-Viewer's, so that per-layer totals can be
// checked against it to the integer):
//  - a MAC is two operations; RMS/LayerNorm 7 per element, softmax 5 per
//    score, a residual add or a product 1 per element;
//  - attention is fused (LLM-Viewer's flash-attention mode): Q, K, V and the
//    output cross memory, scores never do; every query row is counted
//    against every key (no causal discount, as LLM-Viewer);
//  - our own choices where LLM-Viewer has no op: RoPE 3 per element
//    (x·cos + rotate(x)·sin), SiLU 4 (exp, add, divide, multiply), GELU 8.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/CostInterface.h"
#include "dialects/llm/EntryPoint.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llm;

#include "dialects/llm/CostInterface.cpp.inc"

const char *mlir::llm::workKindName(WorkKind kind) {
  switch (kind) {
  case WorkKind::Matmul:
    return "matmul";
  case WorkKind::Attention:
    return "attention";
  case WorkKind::Elementwise:
    return "elementwise";
  case WorkKind::Gather:
    return "gather";
  case WorkKind::DataMovement:
    return "data-movement";
  }
  return "unknown";
}

double mlir::llm::numElements(Value v, DimSizeFn dimSize) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return 1;
  double n = 1;
  for (int64_t d = 0, e = type.getRank(); d < e; ++d)
    n *= static_cast<double>(type.isDynamicDim(d) ? dimSize(v, d)
                                                  : type.getDimSize(d));
  return n;
}

static double elementBytes(Value v) {
  Type element = getElementTypeOrSelf(v.getType());
  if (element.isIntOrIndexOrFloat() && !element.isIndex())
    return (element.getIntOrFloatBitWidth() + 7) / 8;
  return 8;
}

double mlir::llm::numBytes(Value v, DimSizeFn dimSize) {
  return numElements(v, dimSize) * elementBytes(v);
}

bool mlir::llm::isCompileTimeValue(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (matchPattern(v, m_Constant()))
    return true;
  // Layout changes of constants (the exporter's transposed weights) and
  // statically shaped tensor.empty destinations: folded or created at
  // compile time.
  if (isa<tensor::EmptyOp>(def))
    return def->getNumOperands() == 0;
  if (!isa<linalg::TransposeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
           tensor::ExtractSliceOp>(def))
    return false;
  return llvm::all_of(def->getOperands(), [](Value operand) {
    return isa<RankedTensorType>(operand.getType())
               ? isCompileTimeValue(operand)
               : matchPattern(operand, m_Constant());
  });
}

/// Bytes of `v` split between weights (compile-time values) and activations.
static void addOperand(OpCost &cost, Value v, DimSizeFn dimSize) {
  if (!v)
    return;
  double bytes = numBytes(v, dimSize);
  if (isCompileTimeValue(v))
    cost.weightBytes += bytes;
  else
    cost.inputBytes += bytes;
}

static OpCost elementwise(Operation *op, DimSizeFn dimSize,
                          double flopsPerElement, bool rowReduction = false) {
  OpCost cost;
  cost.kind = WorkKind::Elementwise;
  cost.rowReduction = rowReduction;
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()))
      addOperand(cost, operand, dimSize);
  for (Value result : op->getResults())
    cost.outputBytes += numBytes(result, dimSize);
  cost.flops = flopsPerElement * numElements(op->getResult(0), dimSize);
  return cost;
}

static int64_t lastDim(Value v, DimSizeFn dimSize) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t d = type.getRank() - 1;
  return type.isDynamicDim(d) ? dimSize(v, d) : type.getDimSize(d);
}

static int64_t dimOf(Value v, int64_t d, DimSizeFn dimSize) {
  auto type = cast<RankedTensorType>(v.getType());
  return type.isDynamicDim(d) ? dimSize(v, d) : type.getDimSize(d);
}

//===----------------------------------------------------------------------===//
// llm ops
//===----------------------------------------------------------------------===//

OpCost EmbeddingOp::getCost(DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::Gather;
  // Only the gathered rows of the table are read.
  cost.weightBytes = numBytes(getResult(), dimSize);
  cost.inputBytes = numBytes(getIds(), dimSize);
  cost.outputBytes = numBytes(getResult(), dimSize);
  return cost;
}

/// A linear layer's shape, FLOPs and output; the caller adds its operands.
static OpCost linearCost(Value input, Value result, int64_t k, bool hasBias,
                         DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::Matmul;
  int64_t n = lastDim(result, dimSize);
  double rows = numElements(input, dimSize) / std::max<int64_t>(k, 1);
  cost.m = static_cast<int64_t>(rows);
  cost.n = n;
  cost.k = k;
  cost.flops = 2.0 * rows * n * k + (hasBias ? rows * n : 0);
  cost.outputBytes = numBytes(result, dimSize);
  return cost;
}

OpCost LinearOp::getCost(DimSizeFn dimSize) {
  OpCost cost = linearCost(getInput(), getResult(),
                           lastDim(getInput(), dimSize), !!getBias(), dimSize);
  addOperand(cost, getInput(), dimSize);
  addOperand(cost, getWeight(), dimSize);
  addOperand(cost, getBias(), dimSize);
  return cost;
}

OpCost QuantizedLinearOp::getCost(DimSizeFn dimSize) {
  // Dequantization (a scale and a zero point per group) is not counted: the
  // kernels apply it once per group of partial sums.
  OpCost cost = linearCost(getInput(), getResult(), getInFeatures(),
                           !!getBias(), dimSize);
  for (Value operand : getOperands())
    addOperand(cost, operand, dimSize);
  return cost;
}

OpCost MatmulOp::getCost(DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::Matmul;
  auto lhsType = cast<RankedTensorType>(getLhs().getType());
  int64_t rank = lhsType.getRank();
  cost.k = lastDim(getLhs(), dimSize);
  cost.m = rank >= 2 ? dimOf(getLhs(), rank - 2, dimSize) : 1;
  cost.n = lastDim(getResult(), dimSize);
  double products = numElements(getResult(), dimSize);
  cost.batch = static_cast<int64_t>(
      products / std::max<double>(1.0, double(cost.m) * cost.n));
  cost.flops = 2.0 * products * cost.k;
  addOperand(cost, getLhs(), dimSize);
  addOperand(cost, getRhs(), dimSize);
  cost.outputBytes = numBytes(getResult(), dimSize);
  return cost;
}

OpCost RMSNormOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 7, /*rowReduction=*/true);
}

OpCost LayerNormOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 7, /*rowReduction=*/true);
}

OpCost RopeOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 3);
}

OpCost SoftmaxOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 5, /*rowReduction=*/true);
}

OpCost KVQuantizeOp::getCost(DimSizeFn dimSize) {
  // |x|, max, divide, round, clamp per element.
  return elementwise(getOperation(), dimSize, 5, /*rowReduction=*/true);
}

OpCost KVDequantizeOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 2);
}

OpCost SiluOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 4);
}

OpCost GeluOp::getCost(DimSizeFn dimSize) {
  return elementwise(getOperation(), dimSize, 8);
}

OpCost TopKOp::getCost(DimSizeFn dimSize) {
  OpCost cost = elementwise(getOperation(), dimSize, 0, /*rowReduction=*/true);
  // One comparison per element and selected slot.
  cost.flops = numElements(getInput(), dimSize) * getK();
  return cost;
}

OpCost AttentionOp::getCost(DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::Attention;
  Value query = getQuery();
  int64_t batch = dimOf(query, 0, dimSize);
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads();
  int64_t rows = dimOf(query, 2, dimSize);
  int64_t headDim = dimOf(query, 3, dimSize);
  int64_t keys = dimOf(getKey(), 2, dimSize);
  // With past operands the op itself appends: the keys it attends to are
  // the past ones and the new ones, and the present cache is written.
  if (getPastKey())
    keys += dimOf(getPastKey(), 2, dimSize);
  cost.batch = batch * kvHeads;
  cost.m = (heads / kvHeads) * rows;
  cost.n = keys;
  cost.k = headDim;
  double scores = double(batch) * heads * rows * keys;
  cost.flops = 2 * (2.0 * scores * headDim) + 5.0 * scores;
  cost.inputBytes = numBytes(query, dimSize);
  if (getMask())
    cost.inputBytes += numBytes(getMask(), dimSize);
  double elementSize = elementBytes(getKey());
  cost.kvReadBytes = 2.0 * batch * kvHeads * keys * headDim * elementSize;
  if (!getPresent().empty())
    for (Value present : getPresent())
      cost.kvWriteBytes += numBytes(present, dimSize);
  cost.outputBytes = numBytes(getResult(), dimSize);
  if (getCausal() && rows > 0 && keys > 0) {
    // The T queries are the last T positions of the S keys: query i sees
    // S - T + i + 1 of them (a sliding window caps that at its width).
    double visible = 0;
    for (int64_t i = 0; i < rows; ++i) {
      double seen = keys - rows + i + 1;
      if (std::optional<uint64_t> window = getSlidingWindow())
        seen = std::min<double>(seen, *window);
      visible += std::max(0.0, seen);
    }
    cost.visibleFraction = visible / (double(rows) * keys);
  }
  return cost;
}

OpCost MoeOp::getCost(DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::Matmul;
  int64_t model = lastDim(getInput(), dimSize);
  auto up = cast<RankedTensorType>(getUpWeight().getType());
  int64_t experts = up.getDimSize(0), hidden = up.getDimSize(1);
  double tokens =
      numElements(getInput(), dimSize) / std::max<int64_t>(model, 1);
  double slots = tokens * getTopK();
  int64_t projections = getGateWeight() ? 3 : 2;
  cost.flops = 2.0 * slots * projections * model * hidden +
               slots * hidden * (getGateWeight() ? 5 : 4) +
               5.0 * tokens * experts;
  // Experts touched by at least one token, in expectation under uniform
  // routing: E·(1 − (1 − k/E)^tokens).
  double touched =
      experts * (1.0 - std::pow(1.0 - double(getTopK()) / experts, tokens));
  double perExpert = 0;
  for (Value w : {getGateWeight(), getUpWeight(), getDownWeight()})
    if (w)
      perExpert += numBytes(w, dimSize) / experts;
  cost.weightBytes = touched * perExpert;
  cost.inputBytes =
      numBytes(getInput(), dimSize) + numBytes(getRouterLogits(), dimSize);
  cost.outputBytes = numBytes(getResult(), dimSize);
  cost.batch = experts;
  cost.m = static_cast<int64_t>(std::ceil(slots / experts));
  cost.n = hidden;
  cost.k = model;
  return cost;
}

OpCost TransferOp::getCost(DimSizeFn dimSize) {
  OpCost cost;
  cost.kind = WorkKind::DataMovement;
  cost.inputBytes = numBytes(getInput(), dimSize);
  cost.outputBytes = cost.inputBytes;
  return cost;
}

//===----------------------------------------------------------------------===//
// Upstream ops
//===----------------------------------------------------------------------===//

static std::optional<OpCost> countWork(Operation *op, DimSizeFn dimSize);

std::optional<OpCost> mlir::llm::estimateOpCost(Operation *op,
                                                DimSizeFn dimSize) {
  if (op->getNumResults() == 0 ||
      !llvm::any_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>))
    return std::nullopt;
  if (llvm::all_of(op->getResults(), isCompileTimeValue))
    return std::nullopt;
  std::optional<OpCost> cost = countWork(op, dimSize);
  if (cost) {
    llvm::raw_string_ostream os(cost->dtype);
    getElementTypeOrSelf(op->getResult(0).getType()).print(os);
  }
  return cost;
}

static std::optional<OpCost> countWork(Operation *op, DimSizeFn dimSize) {
  if (auto costOp = dyn_cast<CostOpInterface>(op))
    return costOp.getCost(dimSize);
  return llvm::TypeSwitch<Operation *, std::optional<OpCost>>(op)
      .Case<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
            arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
            arith::MinNumFOp, arith::NegFOp>(
          [&](Operation *op) { return elementwise(op, dimSize, 1); })
      .Case<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp, arith::FPToSIOp,
            arith::SelectOp, arith::CmpFOp>(
          [&](Operation *op) { return elementwise(op, dimSize, 0); })
      .Case([&](linalg::LinalgOp linalgOp) -> std::optional<OpCost> {
        OpCost cost;
        cost.kind = WorkKind::DataMovement;
        for (Value input : linalgOp.getDpsInputs())
          addOperand(cost, input, dimSize);
        for (Value result : op->getResults())
          cost.outputBytes += numBytes(result, dimSize);
        // Arithmetic in the body, once per point of the iteration space
        // (approximated by the largest output).
        int64_t bodyOps = 0;
        for (Operation &inner : linalgOp.getBlock()->without_terminator())
          if (inner.getDialect() &&
              inner.getDialect()->getNamespace() == "arith")
            ++bodyOps;
        if (bodyOps) {
          cost.kind = WorkKind::Elementwise;
          cost.flops = bodyOps * numElements(op->getResult(0), dimSize);
        }
        return cost;
      })
      .Case([&](tensor::InsertSliceOp insert) -> std::optional<OpCost> {
        OpCost cost;
        cost.kind = WorkKind::DataMovement;
        double bytes = numBytes(insert.getSource(), dimSize);
        cost.inputBytes = bytes;
        if (isKVCacheArgument(insert.getDest()))
          cost.kvWriteBytes = bytes;
        else
          cost.outputBytes = bytes;
        return cost;
      })
      .Case([&](tensor::ConcatOp concat) -> std::optional<OpCost> {
        OpCost cost = elementwise(concat, dimSize, 0);
        cost.kind = WorkKind::DataMovement;
        return cost;
      })
      .Default([](Operation *) { return std::nullopt; });
}
