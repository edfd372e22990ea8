// RUN: llm-opt %s --llm-quantize="bits=4" | FileCheck %s
// RUN: llm-opt %s --llm-quantize="bits=4 asymmetric=true group-size=8 report=%t.json" | FileCheck %s --check-prefix=ASYM
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: llm-opt %s --llm-quantize="bits=8 group-size=0" | FileCheck %s --check-prefix=INT8
// RUN: llm-opt %s --llm-quantize="bits=4 activations=8 report=-" | FileCheck %s --check-prefix=A8
// RUN: llm-opt %s --llm-quantize="weights=ternary activations=8" | FileCheck %s --check-prefix=TERNARY
// RUN: llm-opt %s --llm-quantize="weights=bitmod activations=8" | FileCheck %s --check-prefix=BITMOD
// RUN: llm-opt %s --llm-quantize="weights=bitmod bits=3 activations=8" | FileCheck %s --check-prefix=BITMOD3

// A weight computed at run time stays f32.
// CHECK-LABEL: func.func @runtime_weight
// CHECK: llm.linear
// CHECK-NOT: llm.linear
// ASYM-LABEL: func.func @runtime_weight
func.func @runtime_weight(%x: tensor<3x8xf32>, %w: tensor<2x8xf32>) -> tensor<3x2xf32> {
  %y = llm.linear %x, %w : (tensor<3x8xf32>, tensor<2x8xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Symmetric 4-bit, one group of 8 per row: s = max|w| / 7, q = round(w/s) + 8,
// two codes a byte with the even input in the low nibble; an all-zero row
// gets scale 1 and codes 8.
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[C:.*]] = arith.constant dense_resource<weight_q4_codes> : tensor<2x4xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<weight_q4_scales> : tensor<2x1xf32>
// CHECK: llm.quantized_linear %{{.*}}, %[[C]], %[[S]] bias(%{{.*}}) bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// CHECK-NOT: llm.linear
// q row 0 = 9 7 10 6 12 4 15 8 (3.5 rounds away from zero); row 1 all 8.
// CHECK: weight_q4_codes: "0x01000000796A4C8F88888888"
// CHECK: weight_q4_scales: "0x040000000000803F0000803F"

// Asymmetric: the range [min(w, 0), max(w, 0)] in 15 steps; row 0 is
// [-3.5, 7]: s = 0.7, z = round(3.5 / 0.7) = 5.
// ASYM-LABEL: func.func @linear
// ASYM: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} zero_points(%{{.*}}) bias(%{{.*}}) bits(4) group(8)
// ASYM: weight_q4_zeros: "0x010000000500"

// REPORT: "bits": 4
// REPORT: "group_size": 8
// REPORT: "weight": "weight"
// REPORT: "weight_nmse": 0.0{{[0-9]+}}

// Int8 activations: the same codes, the op marked activations(8), and the
// report says so.
// A8: "activation_bits": 8
// A8-LABEL: func.func @linear
// A8: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}}) bits(4) group(8) activations(8)
// A8: weight_q4_codes: "0x01000000796A4C8F88888888"

// Ternary: γ = mean|w| over the whole weight = 20/16 = 1.25, row 0's
// w/γ = 0.8 -0.8 1.6 -1.6 2.8 -2.8 5.6 0 round and clip to 1 -1 1 -1 1 -1 1 0,
// codes t + 2 four to a byte (low bits first): 0x77 0xB7; the zero row is
// all 2 (0xAA); every row's scale is γ.
// TERNARY-LABEL: func.func @linear
// TERNARY: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}}) bits(2) group(8) activations(8) : (tensor<3x8xf32>, tensor<2x2xi8>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<3x2xf32>
// TERNARY: weight_t_codes: "0x0100000077B7AAAA"
// TERNARY: weight_t_scales: "0x040000000000A03F0000A03F"

// BitMoD: row 0 (max |w| = 7) fits the ea_pos grid (datatype 2, up to
// +16) best: s = 7/16 = 0.4375 and w/s = 2 -2 4 -4 8 -8 16 0 exactly, the
// codes their indices in the sorted grid -12 -8 -6 -4 -3 -2 -1 0 1 2 3 4 6
// 8 12 16: 9 5 11 3 13 1 15 7; er_pos and er_neg (max 12) leave errors at
// ±1 and ±3.5. The zero row takes datatype 0, scale 1 and the code of 0.
// BITMOD-LABEL: func.func @linear
// BITMOD-DAG: %[[C:.*]] = arith.constant dense_resource<weight_m_codes> : tensor<2x4xi8>
// BITMOD-DAG: %[[S:.*]] = arith.constant dense_resource<weight_m_scales> : tensor<2x1xf32>
// BITMOD-DAG: %[[G:.*]] = arith.constant dense_resource<bitmod4_grids> : tensor<4x16xf32>
// BITMOD-DAG: %[[D:.*]] = arith.constant dense_resource<weight_m_datatypes> : tensor<2x1xi8>
// BITMOD: llm.quantized_linear %{{.*}}, %[[C]], %[[S]] codebook(%[[G]], %[[D]]) bias(%{{.*}}) bits(4) group(8) activations(8)
// BITMOD: weight_m_codes: "0x01000000593B1D7F77777777"
// BITMOD: weight_m_scales: "0x040000000000E03E0000803F"
// BITMOD: weight_m_datatypes: "0x010000000200"

// 3-bit BitMoD: FP3 grids {0, ±1, ±2, ±4} + 3, −3, 6 or −6. Row 0 ties
// between er_pos and er_neg (max 4: s = 7/4 = 1.75, squared error 1.25)
// and takes the first: w/s rounds to 1 -1 1 -1 2 -2 4 0, codes (indices
// in -4 -2 -1 0 1 2 3 4) 4 2 4 2 5 1 7 3, 8 codes in 3 bytes, code k at
// bit 3k. The zero row: datatype 0, scale 1, code 3 (the 0).
// BITMOD3-LABEL: func.func @linear
// BITMOD3-DAG: %[[C:.*]] = arith.constant dense_resource<weight_m_codes> : tensor<2x3xi8>
// BITMOD3-DAG: %[[G:.*]] = arith.constant dense_resource<bitmod3_grids> : tensor<4x8xf32>
// BITMOD3: llm.quantized_linear %{{.*}}, %[[C]], %{{.*}} codebook(%[[G]], %{{.*}}) bias(%{{.*}}) bits(3) group(8) activations(8)
// BITMOD3: weight_m_codes: "0x0100000014D57CDBB66D"
// BITMOD3: weight_m_scales: "0x040000000000E03F0000803F"
// BITMOD3: bitmod3_grids: "0x04000000000080C0000000C0000080BF000000000000803F000000400000404000008040
// BITMOD3: weight_m_datatypes: "0x010000000000"

// INT8: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}}) bits(8) group(8) : (tensor<3x8xf32>, tensor<2x8xi8>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<3x2xf32>
func.func @linear(%x: tensor<3x8xf32>, %b: tensor<2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<weight> : tensor<2x8xf32>
  %y = llm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      weight: "0x040000000000803F000080BF00000040000000C000006040000060C00000E040000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}
