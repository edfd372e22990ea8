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

def LLMPlace : Pass<"llm-place", "::mlir::ModuleOp"> {
  let summary = "Place every op on a device of a target machine from cost models";
  let description = [{
    Gives every op of every function an `llm.device` attribute naming the
    device of the target description (`target=`: a preset name or a JSON
    file) that runs it, chosen to minimise the estimated time of one step:
    a prefill of `context` tokens, or a decode step over a context of
    `context` tokens, for `batch` sequences.

    Each op's work (FLOPs, bytes of weights, activations and KV cache; the
    `llm` cost interface) is costed on every device by that device's model
    (roofline for CPU and NPU, bank-parallel GEMV for PIM, PLMR for the
    mesh). The step time of an assignment comes from a list schedule in
    program order: devices run concurrently, an op starts when its device
    is free and its operands have arrived, and a value crossing devices
    pays the link's latency and bandwidth. The assignment is the best found
    by local search (single ops and runs of ops moved between devices) from
    the greedy assignment and from every all-on-one-device assignment; the
    search is deterministic.

    With `interleave`, the batch is split into two sub-batches whose steps
    are scheduled together (NeuPIMs' sub-batch interleaving: one
    sub-batch's projections on the NPU while the other's attention runs on
    PIM). Ops that only reshape or slice, and compile-time weight
    transposes, follow the op that consumes them; constants are not placed
    (each device segment materialises the weights it uses).

    The function gets `llm.placement`: the target, the phase, the estimated
    step time and the host device. `report=FILE.json` writes every op's
    estimates on every device, the reason for the choice and the timeline;
    `FILE.html` beside it shows the same for a person.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host-cpu\"",
           "Target description: a preset (host-cpu, edge-npu-pim, "
           "wafer-mesh) or a JSON file">,
    Option<"phase", "phase", "std::string", /*default=*/"\"prefill\"",
           "Which step to optimise: prefill or decode">,
    Option<"batch", "batch", "int64_t", /*default=*/"1",
           "Sequences per step (B)">,
    Option<"context", "context", "int64_t", /*default=*/"128",
           "Prompt length (prefill) or context length (decode)">,
    ListOption<"pins", "pin", "std::string",
               "NAME=KIND[:INDEX]: put the ops whose location name matches "
               "the glob NAME on that device">,
    Option<"interleave", "interleave", "bool", /*default=*/"false",
           "Pipeline two sub-batches across the devices (NeuPIMs)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the placement report to this JSON file (and .html)">,
  ];
}

def LLMPartition : Pass<"llm-partition", "::mlir::ModuleOp"> {
  let summary = "Outline each same-device run of ops into its own function";
  let description = [{
    After `llm-place`: every maximal run of consecutive ops on one device
    becomes a private function `@<func>_seg<N>_<kind><index>` carrying
    `llm.device`, called from the original function. A tensor crossing
    devices goes through an explicit `llm.transfer` (the function's
    arguments and results live on the host device named by
    `llm.placement`). Constants are cloned into every segment that uses
    them, so each device program owns its weights. Functions without
    placed ops are left alone; an op missing a device is an error.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::func::FuncDialect"];
}

def LLMLowerToDevicePrograms : Pass<"llm-lower-to-device-programs", "::mlir::ModuleOp"> {
  let summary = "Compile runs of ops placed on NPU, PIM or mesh devices into device programs";
  let description = [{
    After `llm-place`: every run of consecutive ops placed on one device
    whose target emits device programs (`LLMCDEVP`, runtime/device: the
    NPU, the PIM and the mesh), that the format can express and the device
    has units for, becomes one `llm.device_call` of a program built from
    the device's description (its simulator timing; for the mesh, the
    sub-grid of its model's plan) and the ops' constants. The format
    expresses f32 `llm.linear` with constant weights (and bias),
    `llm.rms_norm`, `llm.silu`, `arith.mulf`/`arith.addf` of two
    activations, all on rows of the same leading dimensions, and
    `llm.attention` without past operands and `llm.rope` (each a program
    of its own, over tensors). A run has
    at most 8 inputs and outputs; values used only inside it stay on the
    device. An op that neither joins the run nor reads its values does not
    end it.

    The programs are kept, in order, in the module's `llm.device_programs`
    attribute with their device, ops, shapes and the device model's
    estimate for one row (attention: at the placement's context). Every
    other placed op loses its `llm.device` and runs on the host.
    `target=` must name the machine the ops were placed on. See
    docs/targets/device-program.md.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "The machine the ops were placed on: a preset or a JSON file">,
  ];
}

def LLMQuantize : Pass<"llm-quantize"> {
  let summary = "Quantize the weights of linear layers to group-wise integers";
  let description = [{
    Every `llm.linear` with a constant floating-point weight `[N, K]`
    becomes `llm.quantized_linear`: unsigned `bits`-bit codes, one scale
    per group of `group-size` inputs of each output row, and with
    `asymmetric` a zero point per group (else the fixed `2^(bits-1)`).
    Rounding is to nearest (techniques.md §6): symmetric
    `s = max|w| / (2^(bits-1) − 1)`; asymmetric over the group's range
    widened to hold zero, `s = (max − min) / (2^bits − 1)`,
    `z = round(−min / s)`.

    `group-size`: a positive value must divide every quantized K (else an
    error names the layer); 0 is per-channel (one group per row); -1, the
    default, is 128, or for a K that 128 does not divide the largest
    multiple of 8 below 128 that does (K itself when K ≤ 128).

    `weights=ternary` is BitNet b1.58: one scale for the whole weight,
    `γ = mean|w|`, and `q = clamp(round(w/γ), −1, 1)`, stored as 2-bit codes
    `q + 2` (one group per row, every row's scale γ); `bits`, `group-size`
    and `asymmetric` do not apply.

    `weights=bitmod` is BitMoD (techniques.md §6.5): `bits` = 4 (the
    default) or 3 codes into one of four value grids per group (FP4 base
    values extended by ±10 or ±16; FP3 base values {0, ±1, ±2, ±4} extended
    by ±3 or ±6), the grid with the least squared error chosen per group,
    the scale `max|w| / max|grid|`; the op carries the grids as its
    `codebook` and the choice per group as `datatypes`. 3-bit codes are a
    bit stream (8 codes in 3 bytes). `group-size` as for `int`;
    `asymmetric` does not apply.

    `activations=8` also quantizes each row of the layers' inputs to int8
    at run time (W8A8 / W4A8: `llm.quantized_linear ... activations(8)`,
    integer dot products per group).

    `report=<file>` writes, per layer, the weight's name and shape, the
    group size used and the weight NMSE `Σ(w − ŵ)² / Σw²` as JSON.
    `llm.moe` is not quantized: `llm-decompose-moe` first makes each
    expert's projections `llm.linear` layers (llm-compile does).

    `weights=none` leaves the linear layers as they are (for `kv` alone).

    `kv=8` or `kv=4` quantizes the KV cache of every step function
    (`llm-synthesize-kv-cache`): each `key_cache`/`value_cache` argument
    `[B, H, S, D] f32` becomes signed codes `[B, H, S, D·kv/8] i8` (4-bit
    codes two to a byte, the even `d` in the low nibble) and a new
    argument `[B, H, S] f32` (role `key_scale`/`value_scale`, appended
    after the other arguments, its update appended to the results) holds
    one scale per head and position: `s = max|x| / (2^(kv−1) − 1)`,
    `q = clamp(roundeven(x / s), −qmax, qmax)` (0 where `s = 0`). Keys
    and values written to a cache are quantized; slices read from it are
    dequantized, `x = s·q`, before attention. Any other use of a cache is
    an error naming the op. The function gets `llm.kv_bits`.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"int\"",
           "How weights become codes: int (group-wise, `bits`), ternary, "
           "bitmod or none">,
    Option<"bits", "bits", "int64_t", /*default=*/"0",
           "Bits per weight code: 2, 3, 4 or 8 for int (default 8), 3 or 4 "
           "for bitmod (default 4)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"-1",
           "Inputs per scale: > 0 strict, 0 per-channel, -1 automatic (128)">,
    Option<"asymmetric", "asymmetric", "bool", /*default=*/"false",
           "A zero point per group (else symmetric around 2^(bits-1))">,
    Option<"activations", "activations", "int64_t", /*default=*/"0",
           "Bits of the run-time activation quantization: 0 (none) or 8 "
           "(int8 per token)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the per-layer weight error as JSON to this file ('-': stdout)">,
    Option<"kv", "kv", "int64_t", /*default=*/"0",
           "Bits of the KV cache codes: 0 (f32 cache), 8 or 4">,
  ];
}

def LLMMoeToMoge : Pass<"llm-moe-to-moge"> {
  let summary = "Route mixture-of-experts layers group-wise (Mixture of Grouped Experts)";
  let description = [{
    Pangu Pro MoE's grouping (techniques.md §8): the E experts of every
    `llm.moe` form `groups` contiguous groups of E/G, and each token picks
    its top `k-per-group` experts inside every group from one softmax over
    all experts, so `top_k` becomes G·K'. Every group (a device, once
    placement maps groups to devices) then receives exactly tokens·K'
    slots: static dispatch buffers, no capacity factor, nothing dropped.

    This changes what the model computes when it was trained with plain
    top-k routing: each rewritten op gets a warning saying so.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect"];
  let options = [
    Option<"groups", "groups", "int64_t", /*default=*/"2",
           "Number of expert groups (G); must divide the number of experts">,
    Option<"kPerGroup", "k-per-group", "int64_t", /*default=*/"1",
           "Experts chosen in every group (K'); top_k becomes G·K'">,
  ];
}

def LLMExposeRouterLogits : Pass<"llm-expose-router-logits", "::mlir::ModuleOp"> {
  let summary = "Return every MoE layer's router logits from the model function";
  let description = [{
    Appends the `router_logits` of every `llm.moe` in `func` (in program
    order) to its results, named `router_logits_<i>` with `llm.layer = i`,
    so that a compiled model reports how it routes its tokens (the balance
    analysis of `llm-moe-balance` runs it). A function without MoE layers
    is an error.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::func::FuncDialect"];
  let options = [
    Option<"func", "func", "std::string", /*default=*/"\"main\"",
           "The model function">,
  ];
}

def LLMDecomposeMoe : Pass<"llm-decompose-moe"> {
  let summary = "Write every llm.moe as dispatch to the chosen experts";
  let description = [{
    Replaces each `llm.moe` by routing and per-expert dispatch, so that only
    the chosen experts run:

    1. `llm.softmax` of the router logits and `llm.topk` (per group with
       MoGE `groups`), the weights renormalised when the op says so;
    2. per expert, a scan of the `[T, k]` choices collecting the tokens
       that chose it and their weights (`scf.for`, `scf.if`);
    3. a gather of those tokens' rows into a `[count, D]` block and the
       expert's MLP on it as `llm.linear` ops (gate, up, down), each
       expert's weights a constant of their own when the stack is constant;
    4. a weighted scatter-add of the block's rows into the output.

    The expert layers then are ordinary linear layers: `llm-fuse-linears`
    joins gate and up, `llm-quantize` quantizes them, the CPU lowering packs
    them. `llm-compile` runs this pass before quantization; the CPU
    lowering applies the same decomposition to any `llm.moe` left. Tokens
    `[..., D]` are dispatched as rows `[T, D]`. Expert weights with dynamic
    sizes (the experts are unrolled) or a dynamic feature dimension are an
    error.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"];
}

def LLMKVPredict : Pass<"llm-kv-predict", "::mlir::ModuleOp"> {
  let summary = "A prefill entry point that predicts the base model's KV cache from an auxiliary model";
  let description = [{
    KV Prediction (techniques.md §9) for a faster time to first token.
    Given the base model's step function `base` and an auxiliary model's
    step function `aux` (both from `llm-synthesize-kv-cache`, taking
    `input_ids` and, when the model has them, the `attention_mask` and
    `position_ids` the runtime fills, besides position, KV mask and
    caches), writes the entry point `entry` with the base step's signature:

    - for a prompt of `T > 1` tokens at position 0: the auxiliary model runs
      over the first `T − 1` tokens (with its own zeroed caches); for every
      base layer `l`, the keys and values of auxiliary layer `layers[l]` at
      those positions are mapped to the base layer's (`identity`, or the
      linear maps `[Hkv·D, Hkv_aux·D_aux]` returned by the private
      functions `@kv_predictor_key_<l>` / `@kv_predictor_value_<l>`) and
      written into the base caches; then one base step runs on the last
      token. Only the last position's logits are computed (the first
      token); the earlier positions' are zero, so the auxiliary model's LM
      head is dead code;
    - otherwise (a single token, or a prompt after earlier tokens) the base
      step runs as it is.

    Decode stays the base step. `aux` becomes private (inline it and
    `symbol-dce` to drop it); the predictor functions are folded into the
    entry. Errors name the mismatch: a layer map of the wrong length or
    naming a missing auxiliary layer, other model inputs (or an auxiliary
    model taking a mask or positions the base does not),
    another vocabulary, KV shapes that differ without a predictor, and
    predictor matrices of the wrong shape.
  }];
  let dependentDialects = ["::mlir::llm::LLMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"base", "base", "std::string", /*default=*/"\"llmc_step\"",
           "The base model's step function">,
    Option<"aux", "aux", "std::string", /*default=*/"\"aux_step\"",
           "The auxiliary model's step function">,
    Option<"entry", "entry", "std::string", /*default=*/"\"llmc_prefill\"",
           "The prefill entry point to write">,
    ListOption<"layers", "layers", "int64_t",
               "For each base layer, the auxiliary layer its KV is predicted from">,
    Option<"identity", "identity", "bool", /*default=*/"false",
           "Map the auxiliary KV unchanged (no predictor functions)">,
  ];
}

#endif // LLMC_PASSES_PASSES_TD
