// RUN: not llm-opt %s --llm-quantize="bits=4 group-size=3" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not llm-opt %s --llm-quantize="bits=5" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not llm-opt %s --llm-quantize="bits=4 group-size=-2" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not llm-opt %s --llm-quantize="bits=4 report=/nonexistent/dir/r.json" 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not llm-opt %s --llm-quantize="bits=4 activations=4" 2>&1 | FileCheck %s --check-prefix=ACTIVATIONS
// RUN: not llm-opt %s --llm-quantize="weights=float4" 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not llm-opt %s --llm-quantize="weights=ternary group-size=8" 2>&1 | FileCheck %s --check-prefix=TERNARY
// RUN: not llm-opt %s --llm-quantize="weights=bitmod asymmetric=true" 2>&1 | FileCheck %s --check-prefix=BITMOD
// RUN: not llm-opt %s --llm-quantize="weights=bitmod group-size=3" 2>&1 | FileCheck %s --check-prefix=BITMODGROUP
// RUN: not llm-opt %s --llm-quantize="weights=bitmod bits=2" 2>&1 | FileCheck %s --check-prefix=BITMODBITS

// GROUP: error: llm-quantize: cannot quantize weight 'w' [2, 8] to 4 bits: group-size 3 does not divide the layer's 8 inputs
// BITS: error: llm-quantize: unsupported bit width 5 (supported: 2, 3, 4, 8)
// NEGATIVE: group-size must be > 0, 0 (per-channel) or -1 (automatic), got -2
// REPORT: error: llm-quantize: cannot write '/nonexistent/dir/r.json'
// FORMAT: error: llm-quantize: unknown weights format 'float4' (known: int, ternary, bitmod, none)
// TERNARY: error: llm-quantize: weights=ternary has one scale per tensor; group-size and asymmetric do not apply
// BITMOD: error: llm-quantize: weights=bitmod picks a grid per group; asymmetric does not apply
// BITMODGROUP: error: llm-quantize: cannot quantize weight 'w' [2, 8] to bitmod4: group-size 3 does not divide the layer's 8 inputs
// BITMODBITS: error: llm-quantize: unsupported bit width 2 for weights=bitmod (supported: 3, 4)
// ACTIVATIONS: error: llm-quantize: activations must be 0 (floating point) or 8 (int8 per token), got 4
func.func @linear(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x8xf32>
  %y = llm.linear %x, %w : (tensor<3x8xf32>, tensor<2x8xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F000080BF00000040000000C000006040000060C00000E040000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}
