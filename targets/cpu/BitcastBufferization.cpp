//===- BitcastBufferization.cpp - bufferize tensor.bitcast ----------------===//
//
// A tensor.bitcast only changes how the same bits are read, so its buffer is
// its source's buffer. memref has no bitcast op; the view with the new element
// type is an unrealized_conversion_cast. It is sound because tensor.bitcast
// only allows equal bit widths, and the memref-to-LLVM conversion gives both
// memref types one descriptor (ui8 and i8 are both LLVM i8), so
// reconcile-unrealized-casts removes the cast.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/BitcastBufferization.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// `source` (a ranked or unranked memref type) with `element` as its element
/// type.
FailureOr<BufferLikeType> withElementType(FailureOr<BufferLikeType> source,
                                          Type element) {
  auto memref = dyn_cast_if_present<BaseMemRefType>(
      succeeded(source) ? Type(*source) : Type());
  if (!memref)
    return failure();
  return cast<BufferLikeType>(memref.cloneWith(std::nullopt, element));
}

struct BitcastOpInterface
    : BufferizableOpInterface::ExternalModel<BitcastOpInterface,
                                             tensor::BitcastOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return false;
  }

  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }

  AliasingValueList getAliasingValues(Operation *op, OpOperand &,
                                      const AnalysisState &) const {
    return {{op->getResult(0), BufferRelation::Equivalent}};
  }

  FailureOr<BufferLikeType>
  getBufferType(Operation *op, Value, const BufferizationOptions &options,
                const BufferizationState &state,
                SmallVector<Value> &invocationStack) const {
    auto bitcast = cast<tensor::BitcastOp>(op);
    return withElementType(bufferization::getBufferType(bitcast.getSource(),
                                                        options, state,
                                                        invocationStack),
                           bitcast.getType().getElementType());
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto bitcast = cast<tensor::BitcastOp>(op);
    FailureOr<Value> source =
        getBuffer(rewriter, bitcast.getSource(), options, state);
    if (failed(source))
      return failure();
    FailureOr<BufferLikeType> type =
        withElementType(cast<BufferLikeType>(source->getType()),
                        bitcast.getType().getElementType());
    if (failed(type))
      return op->emitError("cannot bufferize a bitcast of a ")
             << source->getType();
    replaceOpWithNewBufferizedOp<UnrealizedConversionCastOp>(
        rewriter, op, TypeRange{Type(*type)}, ValueRange{*source});
    return success();
  }
};

} // namespace

void mlir::llm::cpu::registerBitcastBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::BitcastOp::attachInterface<BitcastOpInterface>(*ctx);
  });
}
