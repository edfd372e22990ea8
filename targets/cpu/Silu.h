//===- Silu.h - SiLU as arithmetic, shared by the CPU lowerings -*- C++ -*-===//
//
// llm-lower-to-linalg's SiLU and the SwiGLU product that
// llm-cpu-vectorize-linear computes in a GEMM's registers must give the
// same numbers: both build it here.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_CPU_SILU_H
#define LLMC_TARGETS_CPU_SILU_H

#include "mlir/IR/Builders.h"

namespace mlir::llm::cpu {

/// silu(x) = x / (1 + exp(-x)) on a float scalar or a vector of floats.
Value buildSilu(OpBuilder &b, Location loc, Value x);

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_SILU_H
