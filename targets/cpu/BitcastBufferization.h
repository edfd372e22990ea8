//===- BitcastBufferization.h - bufferize tensor.bitcast --------*- C++ -*-===//
//
// Upstream One-Shot Bufferize has no model for tensor.bitcast, which the ONNX
// importer emits to run unsigned integer arithmetic on signless types
// (ui8 <-> i8). This adds one.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_CPU_BITCASTBUFFERIZATION_H
#define LLMC_TARGETS_CPU_BITCASTBUFFERIZATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::llm::cpu {

/// Attaches a BufferizableOpInterface model to tensor.bitcast: the result
/// aliases the source buffer, viewed with the new element type.
void registerBitcastBufferization(DialectRegistry &registry);

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_BITCASTBUFFERIZATION_H
