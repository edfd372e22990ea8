//===- Passes.td - the CPU target's passes -------------------*- tablegen -*-===//

#ifndef LLMC_TARGETS_CPU_PASSES_TD
#define LLMC_TARGETS_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def LLMLowerToLinalg : Pass<"llm-lower-to-linalg"> {
  let summary = "Lower llm ops to linalg, tensor, arith and math on tensors";
  let description = [{
    The first step of the CPU target: every `llm` op becomes upstream ops on
    tensors with the op's documented semantics: contractions and
    elementwise/reduction `linalg.generic`s, f32 accumulation for norms,
    max-subtracted softmax (rows with every key hidden give zeros), grouped
    query heads through `h floordiv (Hq / Hkv)` indexing, causal and sliding
    window masking from `linalg.index`, and the KV-cache pair as
    concatenations. The result is straightforward loops (no tiling or
    vectorisation yet) that bufferize and run through upstream's LLVM
    lowering. `llm.topk` is k rounds of arg-max; `llm.moe` runs every
    expert on every token weighted by the routing (same numbers as
    dispatching; a sparse lowering is future work). An op without a
    lowering makes the pass fail, naming it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

#endif // LLMC_TARGETS_CPU_PASSES_TD
