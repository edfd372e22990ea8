//===- Passes.td - llmc's target-independent passes --------*- tablegen -*-===//

#ifndef LLMC_PASSES_PASSES_TD
#define LLMC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def LLMCanonicalize : Pass<"llm-canonicalize"> {
  let summary = "Graph-level simplification of llm IR";
  let description = [{
    Runs the canonicalization patterns of the `llm` dialect together with
    those of the upstream ops that carry graph-level tensor plumbing in
    imported models (`linalg.transpose`, `tensor` reshapes and casts,
    `arith` constants), plus folding: unlike `-canonicalize` it does not
    apply other dialects' rewrite patterns (which would, for example,
    restructure linalg kernels lowered from the graph).

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

def LLMFuseLinears : Pass<"llm-fuse-linears"> {
  let summary = "One linear layer for sibling linears that share an input";
  let description = [{
    `llm.linear` ops in one block that read the same input with constant
    weights of the same element type (query, key and value projections;
    gate and up projections), all with a bias or all without, become one
    `llm.linear` whose weight is theirs concatenated along N (a new
    constant; the old ones are erased when unused) and whose bias is
    theirs concatenated (`tensor.concat`), and each original result
    becomes a `tensor.extract_slice` of its columns. The numbers do not change: each
    output column is the same dot product.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LLMRaise : Pass<"llm-raise"> {
  let summary = "Recognise LLM building blocks in imported graphs";
  let description = [{
    Rewrites the decomposed forms an exporter writes into the `llm` ops
    that name them:

    - `llm.matmul` by a constant matrix becomes `llm.linear` (the weight is
      transposed once, at compile time, into the `[out, in]` layout), and a
      following bias add joins it;
    - RMSNorm (`x * 1/sqrt(mean(x^2) + eps) * w`) and decomposed LayerNorm
      (`(x - mean) / sqrt(var + eps) * w + b`) become `llm.rms_norm` and
      `llm.layer_norm`;
    - `x * sigmoid(x)` becomes `llm.silu`; the erf and tanh forms of GELU
      become `llm.gelu`;
    - rotate-half RoPE (`x * cos + concat(-x2, x1) * sin`) becomes `llm.rope`;
    - `softmax(scale * Q·Kᵀ + mask)·V` becomes `llm.attention`, with GQA
      head repetition (`repeat_kv`) folded into the head counts, a constant
      causal condition turned into the `causal` flag, other constant
      conditions into an additive mask, and a past/present concatenation of
      the KV cache into the op's `past` operands and `present` results.

    The `llm-canonicalize` patterns run alongside, so constant masks and
    transposes fold as they appear. `llm-raise-report` tells what was
    recognised.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def LLMRaiseReport : Pass<"llm-raise-report"> {
  let summary = "Report which LLM structures were recognised";
  let description = [{
    Prints, for each function, the `llm` ops it contains (what raising
    recognised, with SwiGLU counted where `silu(gate) * up` feeds a linear)
    and the ops that stayed generic, grouped into compute and shape
    plumbing. The IR is not changed. The report goes to `file` (default:
    standard error).
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"-\"",
           "Where to write the report ('-' for standard error)">,
  ];
}

def LLMSynthesizeKVCache : Pass<"llm-synthesize-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Turn a model function into a step over a preallocated KV cache";
  let description = [{
    Rewrites the model function `func` (raised, with `llm.attention` ops)
    into the step function `entry` that prefill and decode both run:

    `entry(model inputs..., %position: index, %kv_mask: [B, S],
           key_cache_0, value_cache_0, ...) -> (model outputs..., caches...)`

    Each cache is `[B, Hkv, S, D]` for a capacity of `S` positions. Every
    attention writes its new keys and values into its cache at
    `[position, position + T)` with `tensor.insert_slice` and attends to
    `[0, position + T)` of it, causally (the queries are the last `T`
    positions), with `kv_mask[:, 0:position + T]` added to the scores: the
    caller puts a large negative number there for left padding. The updated
    caches are returned with `llm.tied_arg` naming the cache argument they
    update, so bufferization writes them in place.

    Two kinds of export are accepted:
    - a decode-style export whose attentions have `past`/`present`: the
      past arguments become `cache[:, :, 0:position]` (so the graph's own
      position arithmetic sees `position` as the past length) and the
      present results are dropped;
    - a plain export without a cache: the positions it derives from the
      sequence length start at `position` instead of 0. Two forms are
      recognised: a RoPE table sliced from row 0 (`llm.rope` cos/sin) and a
      position range (`tensor.generate` of the index) that feeds an
      `llm.embedding`.

    A decode-style export's attention may have its own mask (Hugging Face
    exports build it from an `attention_mask` input of past + new length):
    it covers the cached prefix and is kept, and `kv_mask` is not added.

    The function gets `llm.max_positions` when the positions index a table
    (the cache capacity must not exceed it). A non-causal attention, a mask
    in a plain export (it covers only the new keys), or a RoPE table of
    another form is an error naming the op.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"func", "func", "std::string", /*default=*/"\"main\"",
           "The model function to rewrite">,
    Option<"entry", "entry", "std::string", /*default=*/"\"llmc_step\"",
           "The name of the step function">,
  ];
}

#endif // LLMC_PASSES_PASSES_TD
