//===- ShapeTracing.cpp - sizes of values in terms of earlier values
//-------===//

#include "dialects/llm/ShapeTracing.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

struct Tracer {
  Value root;
  int64_t rootDim = 0;

  /// Follows `v`'s dimension `d` to an op that states its size. Records the
  /// last value it reached, so that a caller can read the size there.
  OpFoldResult trace(Value v, int64_t d) {
    root = v;
    rootDim = d;
    auto type = cast<RankedTensorType>(v.getType());
    if (!type.isDynamicDim(d))
      return IntegerAttr::get(IndexType::get(v.getContext()),
                              type.getDimSize(d));
    Operation *op = v.getDefiningOp();
    if (!op)
      return {};
    unsigned resultNumber = cast<OpResult>(v).getResultNumber();
    int64_t rank = type.getRank();
    // Destination-style ops (linalg): the init has the result's sizes.
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      return trace(dps.getDpsInitOperand(resultNumber)->get(), d);
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return empty.getDynamicSize(d);
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      return expand.getMixedOutputShape()[d];
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
      return slice.getSourceType().getRank() == rank ? slice.getMixedSizes()[d]
                                                     : OpFoldResult();
    if (auto generate = dyn_cast<tensor::GenerateOp>(op))
      return generate.getDynamicExtents()[type.getDynamicDimIndex(d)];
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      // A group of one dynamic dim and unit dims keeps that dim's size.
      int64_t dynamicDim = -1;
      // (getReassociationIndices returns a temporary: keep the group.)
      ReassociationIndices group = collapse.getReassociationIndices()[d];
      for (int64_t s : group) {
        int64_t size = collapse.getSrcType().getDimSize(s);
        if (ShapedType::isDynamic(size)) {
          if (dynamicDim >= 0)
            return {};
          dynamicDim = s;
        } else if (size != 1) {
          return {};
        }
      }
      return dynamicDim >= 0 ? trace(collapse.getSrc(), dynamicDim)
                             : OpFoldResult();
    }
    if (auto concat = dyn_cast<tensor::ConcatOp>(op))
      return static_cast<int64_t>(concat.getDim()) == d
                 ? OpFoldResult()
                 : trace(concat.getInputs()[0], d);
    if (auto select = dyn_cast<arith::SelectOp>(op))
      return trace(select.getTrueValue(), d);
    // Elementwise arith/math ops on tensors keep their operands' shape.
    if (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
        op->getNumOperands() &&
        cast<RankedTensorType>(op->getOperand(0).getType()).getRank() == rank)
      return trace(op->getOperand(0), d);
    // llm ops.
    if (isa<RMSNormOp, LayerNormOp, RopeOp, SiluOp, GeluOp, SoftmaxOp, MoeOp,
            TransferOp>(op))
      return trace(op->getOperand(0), d);
    if (isa<KVQuantizeOp, KVDequantizeOp>(op))
      return d < 3 ? trace(op->getOperand(0), d) : OpFoldResult();
    if (isa<LinearOp, QuantizedLinearOp>(op))
      return d < rank - 1 ? trace(op->getOperand(0), d) : OpFoldResult();
    if (auto embedding = dyn_cast<EmbeddingOp>(op))
      return d < rank - 1 ? trace(embedding.getIds(), d) : OpFoldResult();
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      if (d == rank - 1)
        return trace(matmul.getRhs(), matmul.getRhs().getType().getRank() - 1);
      int64_t ld = d - (rank - matmul.getLhs().getType().getRank());
      if (ld >= 0 &&
          !(d < rank - 2 && matmul.getLhs().getType().getDimSize(ld) == 1))
        return trace(matmul.getLhs(), ld);
      return {};
    }
    if (auto topk = dyn_cast<TopKOp>(op))
      return d < rank - 1 ? trace(topk.getInput(), d) : OpFoldResult();
    if (auto attention = dyn_cast<AttentionOp>(op))
      if (resultNumber == 0)
        return d == 3 ? trace(attention.getValue(), 3)
                      : trace(attention.getQuery(), d);
    return {};
  }
};

} // namespace

OpFoldResult mlir::llm::traceDimSize(Value v, int64_t d, Value *root,
                                     int64_t *rootDim) {
  Tracer tracer;
  OpFoldResult size = tracer.trace(v, d);
  if (root) {
    *root = tracer.root;
    *rootDim = tracer.rootDim;
  }
  return size;
}
