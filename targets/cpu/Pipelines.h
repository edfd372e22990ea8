//===- Pipelines.h - the CPU target's named pass pipelines ------*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_PIPELINES_H
#define LLMC_TARGETS_CPU_PIPELINES_H

namespace mlir::llm::cpu {

/// Registers `llm-cpu-to-llvm`: upstream passes from linalg on tensors (what
/// llm-lower-to-linalg produces) to the LLVM dialect through bufferization
/// and scalar loops, for the JIT. It is the reference lowering the tests
/// and tools share; it does no tiling or vectorization.
void registerCpuPipelines();

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_PIPELINES_H
