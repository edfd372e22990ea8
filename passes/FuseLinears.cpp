//===- FuseLinears.cpp - llm-fuse-linears ---------------------------------===//
//
// Linear layers that read the same input with constant weights (the query,
// key and value projections; an FFN's gate and up projections) become one
// linear over the weights concatenated along N, whose result is sliced back
// apart. One bigger GEMM instead of several: the input is read once, the
// small key/value projections stop being too narrow to split across
// threads, and a decode step runs one parallel loop instead of three.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace mlir::llm {
#define GEN_PASS_DEF_LLMFUSELINEARS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The weight's bytes when it is a constant whose data is at hand.
std::optional<ArrayRef<char>> weightBytes(LinearOp op) {
  auto constant = op.getWeight().getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto attr = dyn_cast<ElementsAttr>(constant.getValue());
  auto type = op.getWeight().getType();
  std::optional<ArrayRef<char>> bytes =
      attr ? constantBytes(attr) : std::nullopt;
  if (!bytes || type.getElementTypeBitWidth() % 8 != 0 ||
      static_cast<int64_t>(bytes->size()) !=
          type.getNumElements() * type.getElementTypeBitWidth() / 8)
    return std::nullopt;
  return bytes;
}

struct FuseLinears : llm::impl::LLMFuseLinearsBase<FuseLinears> {
  void runOnOperation() override {
    // Groups of linears with constant weights, by input and by whether they
    // have a bias, in program order.
    llvm::MapVector<std::pair<Value, unsigned>, SmallVector<LinearOp>> groups;
    getOperation()->walk([&](LinearOp op) {
      if (weightBytes(op))
        groups[{op.getInput(), op.getBias() ? 1u : 0u}].push_back(op);
    });
    for (auto &[key, linears] : groups) {
      // Same weight element type and K, same block (the slices replace the
      // results where they are).
      SmallVector<LinearOp> group;
      for (LinearOp op : linears)
        if (op->getBlock() == linears.front()->getBlock() &&
            op.getWeight().getType().getElementType() ==
                linears.front().getWeight().getType().getElementType() &&
            op.getType().getElementType() ==
                linears.front().getType().getElementType())
          group.push_back(op);
      if (group.size() >= 2)
        fuse(group);
    }
  }

  void fuse(ArrayRef<LinearOp> group) {
    LinearOp first = group.front();
    for (LinearOp op : group)
      if (op->isBeforeInBlock(first))
        first = op;
    OpBuilder builder(first);
    Location loc = first.getLoc();
    auto weightType = first.getWeight().getType();
    int64_t k = weightType.getDimSize(1), n = 0;
    for (LinearOp op : group)
      n += op.getWeight().getType().getDimSize(0);
    size_t elementBytes = weightType.getElementTypeBitWidth() / 8;
    AsmResourceBlob blob =
        HeapAsmResourceBlob::allocate(n * k * elementBytes, elementBytes);
    char *dst = blob.getMutableData().data();
    for (LinearOp op : group) {
      ArrayRef<char> bytes = *weightBytes(op);
      std::memcpy(dst, bytes.data(), bytes.size());
      dst += bytes.size();
    }
    auto fusedWeightType =
        RankedTensorType::get({n, k}, weightType.getElementType());
    Value weight = arith::ConstantOp::create(
        builder, loc,
        DenseResourceElementsAttr::get(fusedWeightType, "fused_linear_weight",
                                       std::move(blob)));
    RankedTensorType outType = first.getType();
    SmallVector<int64_t> shape(outType.getShape());
    shape.back() = n;
    // Biases (all or none in a group) are concatenated the same way.
    Value bias;
    if (first.getBias()) {
      SmallVector<Value> biases;
      for (LinearOp op : group)
        biases.push_back(op.getBias());
      bias = tensor::ConcatOp::create(builder, loc, 0, biases);
    }
    Value fused = LinearOp::create(
        builder, loc, RankedTensorType::get(shape, outType.getElementType()),
        first.getInput(), weight, bias);
    // Each original result is its columns of the fused one.
    int64_t offset = 0;
    for (LinearOp op : group) {
      int64_t width = op.getWeight().getType().getDimSize(0);
      builder.setInsertionPointAfterValue(fused);
      SmallVector<OpFoldResult> offsets(shape.size(), builder.getIndexAttr(0));
      offsets.back() = builder.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes =
          tensor::getMixedSizes(builder, loc, fused);
      sizes.back() = builder.getIndexAttr(width);
      SmallVector<OpFoldResult> strides(shape.size(), builder.getIndexAttr(1));
      Value slice = tensor::ExtractSliceOp::create(
          builder, op.getLoc(), op.getType(), fused, offsets, sizes, strides);
      op.getResult().replaceAllUsesWith(slice);
      Operation *oldWeight = op.getWeight().getDefiningOp();
      op.erase();
      // The separate weights are not needed (nor written to an artifact).
      if (oldWeight->use_empty())
        oldWeight->erase();
      offset += width;
    }
  }
};

} // namespace
