//===- MoeDecomposition.h - llm.moe as per-expert dispatch ------*- C++ -*-===//
//
// llm.moe written out so that only the chosen experts run: routing
// (llm.softmax, llm.topk per group), per expert a scan collecting the
// tokens that chose it, a gather of their rows, the expert's MLP as
// llm.linear ops on that block, and a weighted scatter-add back. The
// expert linears are ordinary llm.linear ops, so every later rewrite
// (fusing gate and up, quantization) and lowering applies to them.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_MOEDECOMPOSITION_H
#define LLMC_DIALECTS_LLM_MOEDECOMPOSITION_H

#include "dialects/llm/LLMOps.h"

namespace mlir::llm {

/// The value of `op` computed by dispatch (inserted before `op`), or a
/// failure (emitted on `op`) for inputs that are not [tokens, dim].
FailureOr<Value> decomposeMoe(OpBuilder &builder, MoeOp op);

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_MOEDECOMPOSITION_H
