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
    concatenations. A linear layer with a constant weight gets the weight
    packed at compile time into panels `[N/NR, K, NR]` (NR = 32, 16 or 8
    columns) and loops (panel, rows, k, column), which
    `llm-cpu-vectorize-linear` turns into register-tiled vector code; when
    its only reader adds a residual defined before it (and it has no bias),
    the accumulation starts from the residual and the add is gone. A
    SwiGLU's fused gate and up projections (one constant `[2F, K]` linear
    read as `silu(y[..., :F]) * y[..., F:]`) pack panels of 16 gate columns
    followed by the same 16 up columns, and the product becomes a generic
    over the panels' two halves tagged `llm_cpu.gated_silu`. RoPE
    reads its input through a `linalg.transpose` that nothing else reads
    (the `[B, T, H, D] -> [B, H, T, D]` before attention), so the
    transposed copy is not made. Everything else is straightforward loops (no tiling or
    vectorisation by llmc yet) that bufferize and run through upstream's
    LLVM lowering. `llm.topk` is k rounds of arg-max; `llm.moe` runs only the
    chosen experts (the decomposition of `llm-decompose-moe`): per expert,
    its tokens are gathered into a block of rows, its MLP runs on the block
    as `llm.linear` ops and the weighted rows are added back. An op without a
    lowering makes the pass fail, naming it. With `lookup-tables`, quantized
    linear layers with int8 activations pack their 2- or 4-bit codes as bit
    planes for T-MAC lookup-table kernels (docs/quantization.md).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect"];
  let options = [
    Option<"lookupTables", "lookup-tables", "bool", /*default=*/"false",
           "Quantized linear layers with int8 activations, 2- or 4-bit "
           "codes and groups of a multiple of 16 inputs take T-MAC "
           "lookup-table kernels (codes packed as bit planes)">,
  ];
}

def LLMCpuExternalizeWeights
    : Pass<"llm-cpu-externalize-weights", "::mlir::ModuleOp"> {
  let summary = "Read large constants from a weights buffer argument";
  let description = [{
    Every tensor constant of at least `min-bytes` bytes (not a splat) in a
    public function becomes `bufferization.to_tensor restrict` of a
    `memref.view` into a new last argument `memref<?xi8>` with
    `llm.role = "weights"`, at a 64-byte aligned offset; identical constants
    share one view offset. `llm-compile` writes the bytes at those offsets
    into the artifact's weights section, which the runtime maps.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"256",
           "Smaller constants stay in the code">,
  ];
}

def LLMCpuEntryABI : Pass<"llm-cpu-entry-abi", "::mlir::ModuleOp"> {
  let summary = "Give public functions the runtime's buffer calling convention";
  let description = [{
    In every public function, each tensor argument becomes a buffer of the
    same shape read through `bufferization.to_tensor restrict` (writable
    when a result is tied to it with `llm.tied_arg`), each result is
    written with `bufferization.materialize_in_destination` into the
    argument it is tied to or into a new trailing output argument (which
    keeps the result's attributes, with `llm.role = "output"` unless it has
    a role), and the function returns nothing. `llvm.emit_c_interface` is
    set, so the runtime calls `_mlir_ciface_<name>` with memref
    descriptors. A result tied to an argument of another type is an error.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LLMCpuFuseAttention : Pass<"llm-cpu-fuse-attention"> {
  let summary = "Fused attention loops that never materialise the scores";
  let description = [{
    Rewrites each f32 `llm.attention` without a past KV pair (head dims
    static, at most 256) into an `scf.forall` over (batch, query head).
    When the mask (if any) is the same for every query row, full blocks of
    16 rows are vectorised across the rows: the block's queries are read
    transposed once, each key's 16 scores are D broadcast-FMAs, scores
    (then exponentials, with the maximum subtracted) go to a `[S, 16]`
    buffer, and the value rows are accumulated four query rows at a time in
    `vector<Dv>` registers. The remaining rows go one at a time: a first
    pass over the visible keys finds the largest score, a second
    recomputes each score, exponentiates it and accumulates the value rows.
    A row is the accumulator over the sum of exponentials (zeros when
    every key is hidden). Causal and sliding-window masking bound the key
    loops (and hide keys per row lane inside a block). The same semantics
    as `llm-lower-to-linalg`'s attention, with no `[T, S]` score matrix:
    memory is O(S) per block. An output read only through a
    `[B, H, T, D] -> [B, T, H, D]` `linalg.transpose` (and its sizes) is
    written in that layout directly and the transpose removed. Other
    attention ops are left for `llm-lower-to-linalg`.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LLMCpuApproximateMath : Pass<"llm-cpu-approximate-math"> {
  let summary = "f32 math.exp as an inline polynomial approximation";
  let description = [{
    Rewrites `math.exp` on f32 scalars and vectors with upstream's
    polynomial approximation (range reduction to [-ln2/2, ln2/2], a
    polynomial, exponent reconstruction; within a few ulp, overflow to
    +inf and underflow to 0 kept), so that the loops around it (SiLU,
    softmax, attention) vectorise instead of calling libm per element.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def LLMCpuX86Intrinsics : Pass<"llm-cpu-x86-intrinsics"> {
  let summary = "Tagged vector idioms as AVX-512 instructions (vpdpbusd, vpermb)";
  let description = [{
    Replaces, with `llvm.call_intrinsic`:
    - each `arith.addi` tagged `llm_cpu.vnni_dot` (by
      `llm-cpu-vectorize-linear{vnni}`),
      `acc + ((s0 + s1) + (s2 + s3))` with `s_i` the lanes `i, 4 + i, ...`
      (`vector.shuffle`) of `extui(a) * extsi(b)`, `a` and `b` of
      `vector<64xi8>`, `acc` of `vector<16xi32>`, by
      `llvm.x86.avx512.vpdpbusd.512` (AVX512-VNNI): the same sums, one
      instruction;
    - each `vector.gather` of 64 bytes from a `memref<64xi8>` table whose
      indices are an `arith.extui` of bytes tagged `llm_cpu.vbmi_lookup`
      (by `llm-cpu-vectorize-linear{vbmi}`; the tag is on the extension
      because bufferization rebuilds the gather) by a load of the table and
      `llvm.x86.avx512.permvar.qi.512` (AVX512-VBMI vpermb).
    It runs after buffer deallocation, which rejects operations with
    unknown memory effects. A tagged op of another form is an error.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
}

def LLMCpuParallelize : Pass<"llm-cpu-parallelize", "::mlir::func::FuncOp"> {
  let summary = "Split the remaining top-level linalg ops across threads";
  let description = [{
    Each linalg op on tensors at the top level of a function (norms, RoPE,
    elementwise products, layout changes: not the kernels inside loops)
    becomes an `scf.forall` of `chunks` iterations along one parallel loop:
    the last dynamic one (the sequence in `[B, T, ...]` and `[B, H, T, ...]`
    layouts), else the largest static one. Producers read only by the op
    (and by each other: a norm's zeros, sum of squares and scale) are
    computed chunk by chunk inside the same `scf.forall`
    (`scf::tileConsumerAndFuseProducersUsingSCF`), one parallel region
    instead of several. The split is guarded by an
    `scf.if` on the op's total iteration count: below `min-work` the op runs
    as it was (a decode step is not worth a parallel region). Elementwise
    `arith`/`math` ops on tensors at the top level (residual adds, SiLU times
    the up projection) first become `linalg.generic`s into new tensors, so
    that they are split too instead of running on one thread. With
    `llm-cpu-to-llvm{openmp}` the chunks run on the session's threads.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"chunks", "chunks", "int64_t", /*default=*/"8",
           "Iterations of each scf.forall">,
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Fewest loop iterations worth splitting">,
  ];
}

def LLMCpuVectorizeLinear : Pass<"llm-cpu-vectorize-linear"> {
  let summary = "Register-tiled vector loops for packed-weight linear layers";
  let description = [{
    Rewrites the `linalg.generic` that `llm-lower-to-linalg` writes for a
    linear layer with a packed constant weight,
    `y[rows..., p, c] += x[rows..., k] * w[p, k, c]` (panels `w: [P, K, NR]`,
    `NR <= 64`, a `math.fma` body), into an `scf.forall` over the panels
    (OpenMP threads with `llm-cpu-to-llvm{openmp}`) whose body walks the
    rows in tiles of `rows`, then one at a time: the tile's accumulators
    are `vector<NRxT>` values carried through the `k` loop (registers), and
    each step reads one panel row and does one broadcast-FMA per row. A
    single row (decode's GEMV) splits `k` over four accumulator chains when
    `K` is a multiple of 4 (FMA latency would otherwise bound the weight
    stream), summed at the end; tiles of rows sum over `k` in order. When
    the output starts as zeros (`linalg.fill`) or as a bias broadcast over
    the rows, the accumulators start from a zero vector or the panel's bias
    slice and the output is never filled. When the only reader of the
    output is a `llm_cpu.gated_silu` product of each panel's two 16-column
    halves (and the accumulators start from zeros), each row's accumulators
    become `silu(first half) * second half` in registers, written into the
    product's 16-column slice: the linear's own output is never written.
    The first multiply-add of a tile's k step is tagged
    `llm_cpu.prefetch_next_panel` for `llm-cpu-prefetch-panels`.

    Quantized linears (generics carrying `llm_cpu.quantized_bits`) become
    the same loops over panels of codes, with the scales applied once per
    group. With int8 activations (`llm_cpu.quantized_activations`) each
    group's sums are i32 4-way dot products of unsigned codes and signed
    activations, widened products added in fours per 16 columns × 4
    inputs; with `vnni` they are tagged for `llm-cpu-x86-intrinsics`,
    which makes each one AVX512-VNNI `vpdpbusd` after bufferization. Codes
    that index a codebook (`llm_cpu.lookup_table`) are looked up per 64
    bytes with a `vector.gather` from the table, tagged with `vbmi` to
    become `vpermb`. Other ops are left alone.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"8",
           "Rows per register tile">,
    Option<"vnni", "vnni", "bool", /*default=*/"false",
           "Use AVX512-VNNI dot products for int8 activations">,
    Option<"vbmi", "vbmi", "bool", /*default=*/"false",
           "Use AVX512-VBMI byte permutes for codebook lookups">,
  ];
}

def LLMCpuPrefetchPanels : Pass<"llm-cpu-prefetch-panels"> {
  let summary = "Fetch a GEMM's next weight panel into L2 while computing this one";
  let description = [{
    Before the weight read (`vector.transfer_read` of `w[p, k, c]` from a
    memref `[P, K, NR]`) of each `vector.fma` tagged
    `llm_cpu.prefetch_next_panel` (by `llm-cpu-vectorize-linear` on the
    prefill kernels' row tiles), inserts a `memref.prefetch` (read, L2) of
    row `k` of panel `min(p + 1, P - 1)`, one per cache line, and drops the
    tag. Each thread of a GEMM walks its panels in order, so the next
    panel's stream from memory overlaps this panel's multiply-adds instead
    of stalling its first tile. Runs after bufferization; a tagged op of
    another form is an error.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LLMCpuCopiesToLinalg : Pass<"llm-cpu-copies-to-linalg"> {
  let summary = "Turn strided memref.copy into linalg.copy";
  let description = [{
    Upstream lowers a `memref.copy` whose operands are not both contiguous
    to a call to `memrefCopy` from MLIR's C runner library, which compiled
    artifacts do not link. As `linalg.copy` it lowers to loops instead.
    Copies between identity-layout buffers are left alone (they become
    `memcpy`). A copy whose source is its own target seen through
    `memref.expand_shape` / `memref.collapse_shape` views (a result
    computed in the output buffer) moves nothing and is erased.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LLMCpuDynamicExpandShape : Pass<"llm-cpu-dynamic-expand-shape"> {
  let summary = "Express dynamic-splitting memref.expand_shape as a reinterpret_cast";
  let description = [{
    LLVM 22's `expand-strided-metadata` crashes on a `memref.expand_shape`
    that splits one dimension into several dynamic ones (`[B*T, d]` to
    `[B, T, d]`). When source and result are contiguous, this pass writes
    it as a `memref.reinterpret_cast` with row-major strides instead; other
    expand_shapes are left alone.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // LLMC_TARGETS_CPU_PASSES_TD
