//===- LLMAttrs.td - llm attributes and enums --------------*- tablegen -*-===//

#ifndef LLMC_DIALECTS_LLM_LLMATTRS_TD
#define LLMC_DIALECTS_LLM_LLMATTRS_TD

include "dialects/llm/LLMDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def LLM_DeviceAttr : AttrDef<LLM_Dialect, "Device"> {
  let mnemonic = "device";
  let summary = "A device of the target machine that runs an operation";
  let description = [{
    Names one device of the target description: its kind (the name of the
    target that drives it, such as `cpu`, `npu`, `pim` or `mesh`) and an
    index among the devices of that kind. The kind is an open string, not an
    enum, so that a new target plugs in without touching the dialect.

    ```mlir
    #llm.device<"npu">       // the first NPU
    #llm.device<"pim", 1>    // the second PIM device
    ```
  }];
  let parameters = (ins
    StringRefParameter<"target kind that drives the device">:$kind,
    DefaultValuedParameter<"int64_t", "0", "index among devices of this kind">:$index
  );
  let assemblyFormat = "`<` $kind (`,` $index^)? `>`";
  let genVerifyDecl = 1;
}

def LLM_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how llm.gelu evaluates the Gaussian CDF", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"tanh", 1>
    ]> {
  let cppNamespace = "::mlir::llm";
  let genSpecializedAttr = 0;
}
def LLM_GeluApproximationAttr
    : EnumAttr<LLM_Dialect, LLM_GeluApproximation, "gelu_approximation">;

def LLM_Activation : I32EnumAttr<"Activation",
    "activation applied inside a feed-forward expert", [
      I32EnumAttrCase<"silu", 0>,
      I32EnumAttrCase<"gelu", 1>,
      I32EnumAttrCase<"gelu_tanh", 2>,
      I32EnumAttrCase<"relu", 3>
    ]> {
  let cppNamespace = "::mlir::llm";
  let genSpecializedAttr = 0;
}
def LLM_ActivationAttr : EnumAttr<LLM_Dialect, LLM_Activation, "activation">;

#endif // LLMC_DIALECTS_LLM_LLMATTRS_TD
