//===- Passes.td - llmc's target-independent passes --------*- tablegen -*-===//

#ifndef LLMC_PASSES_PASSES_TD
#define LLMC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def LLMCanonicalize : Pass<"llm-canonicalize"> {
  let summary = "Graph-level simplification of llm IR";
  let description = [{
    Runs the folders and canonicalization patterns of the `llm` dialect
    together with those of the upstream ops that carry graph-level tensor
    plumbing in imported models (`linalg.transpose`, `tensor` reshapes and
    casts, `arith` constants), and nothing else: unlike `-canonicalize` it
    leaves other dialects' ops (and the kernels lowered from them) alone.

    What it does, among others: a transpose with the identity permutation
    disappears, two transposes compose, `llm.matmul` by a transposed 2-D
    weight becomes `llm.linear`, zero biases and zero attention masks are
    dropped, a constant causal mask becomes `causal`, a softmax over a
    dimension of size 1 folds to ones, and redundant `llm.transfer`s fold.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect"];
  let options = [
    Option<"maxIterations", "max-iterations", "int64_t", /*default=*/"10",
           "Rewrite rounds before giving up on reaching a fixed point">,
  ];
}

#endif // LLMC_PASSES_PASSES_TD
