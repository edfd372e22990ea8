//===- Passes.h - the CPU target's passes -----------------------*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_PASSES_H
#define LLMC_TARGETS_CPU_PASSES_H

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::llm::cpu {

#define GEN_PASS_DECL
#include "targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/cpu/Passes.h.inc"

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_PASSES_H
