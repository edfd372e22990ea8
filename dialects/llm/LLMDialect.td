//===- LLMDialect.td - the llm dialect definition ----------*- tablegen -*-===//
//
// The graph-level dialect llmc imports transformers into: one op per LLM
// building block, on ranked tensors with value semantics.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_LLMDIALECT_TD
#define LLMC_DIALECTS_LLM_LLMDIALECT_TD

include "mlir/IR/OpBase.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let cppNamespace = "::mlir::llm";
  let summary = "Graph-level operations of transformer language models";
  let description = [{
    The `llm` dialect names the building blocks of a transformer language
    model (embedding, linear projections, normalisation, rotary position
    embedding, attention with grouped-query heads and a KV cache,
    mixture-of-experts) so that llmc's passes can recognise, rewrite, place
    and lower them as units instead of as the hundreds of generic ONNX ops an
    exporter writes. Operations work on ranked tensors with value semantics;
    generic tensor plumbing stays in upstream dialects (`tensor`, `linalg`,
    `arith`, `math`).

    Device placement is an attribute: any operation may carry a discardable
    `llm.device = #llm.device<"npu">` attribute, and values move between
    devices only through `llm.transfer`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let extraClassDeclaration = [{
    /// Name of the discardable attribute that places an operation on a device.
    static constexpr ::llvm::StringLiteral kDeviceAttrName = "llm.device";
    /// Name of the argument/result attribute that keeps a model's tensor
    /// name (the ONNX input or output it came from).
    static constexpr ::llvm::StringLiteral kNameAttrName = "llm.name";
    /// What an entry point's argument or result is for the runtime
    /// (`input_ids`, `position`, `kv_mask`, `key_cache`, `logits`, ...).
    static constexpr ::llvm::StringLiteral kRoleAttrName = "llm.role";
    /// The layer a KV-cache argument belongs to.
    static constexpr ::llvm::StringLiteral kLayerAttrName = "llm.layer";
    /// On a result: the index of the argument whose contents it updates.
    static constexpr ::llvm::StringLiteral kTiedArgAttrName = "llm.tied_arg";
    /// On a function: how many positions its position tables cover.
    static constexpr ::llvm::StringLiteral kMaxPositionsAttrName =
        "llm.max_positions";
    /// On a function: the bits of its KV cache codes (llm-quantize kv=).
    static constexpr ::llvm::StringLiteral kKVBitsAttrName = "llm.kv_bits";
    /// On a function: what llm-place assumed and estimated (target, phase,
    /// batch, context, host device, step time).
    static constexpr ::llvm::StringLiteral kPlacementAttrName =
        "llm.placement";
    /// On a module: the device programs its llm.device_call ops run, in
    /// program order (llm-lower-to-device-programs).
    static constexpr ::llvm::StringLiteral kDeviceProgramsAttrName =
        "llm.device_programs";

  private:
    /// Defined beside the attribute storage classes (LLMAttrs.cpp).
    void registerAttributes();
  }];
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, traits>;

#endif // LLMC_DIALECTS_LLM_LLMDIALECT_TD
