//===- CostInterface.td - work counts of llm ops -----------*- tablegen -*-===//

#ifndef LLMC_DIALECTS_LLM_COSTINTERFACE_TD
#define LLMC_DIALECTS_LLM_COSTINTERFACE_TD

include "mlir/IR/OpBase.td"

def LLM_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlir::llm";
  let description = [{
    Reports the work of one execution of the op (FLOPs and bytes of weights,
    activations and KV cache moved, see OpCost.h) for given sizes of its
    dynamic dimensions. The caller binds them: placement asks once for the
    prefill specialisation (batch B, prompt length s) and once for decode
    (one token over a context of s), so one op answers both.
  }];
  let methods = [
    InterfaceMethod<
      "The work done by the op; `dimSize(v, d)` gives the size of dimension "
      "`d` of value `v` with every dynamic size bound.",
      "::mlir::llm::OpCost", "getCost",
      (ins "::mlir::llm::DimSizeFn":$dimSize)>,
  ];
}

#endif // LLMC_DIALECTS_LLM_COSTINTERFACE_TD
