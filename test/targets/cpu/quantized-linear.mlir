// RUN: llm-opt %s --llm-lower-to-linalg | FileCheck %s
// RUN: llm-opt %s --llm-lower-to-linalg --llm-cpu-vectorize-linear="rows=4" | FileCheck %s --check-prefix=VEC

// Constant codes and scales: the codes are packed into one panel of 2
// columns [1, K·bits/8, 2], scales and offsets m = −s·z into [1, K/G, 2],
// and one generic computes y += x·(s·q + m) with the code picked out of its
// byte by the input's position; it carries the bit width and group size.
// CHECK-LABEL: func.func @constant_codes
// CHECK-DAG: arith.constant dense_resource<codes_panels> : tensor<1x4x2xi8>
// CHECK-DAG: arith.constant dense_resource<scales_panels> : tensor<1x2x2xf32>
// CHECK-DAG: arith.constant dense_resource<scales_offsets> : tensor<1x2x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<1x4x2xi8>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
// CHECK-SAME: llm_cpu.quantized_bits = 4 : i64, llm_cpu.quantized_group = 4 : i64
// CHECK: linalg.index 2
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: arith.uitofp
// CHECK: math.fma

// The tiled kernel: Σx per row and group first, then a forall over the
// panels; a tile of rows dequantizes each byte row of codes once, a single
// row sums x·q per group and applies the scale and offset at its end.
// VEC-LABEL: func.func @constant_codes
// VEC: linalg.generic
// VEC-SAME: iterator_types = ["parallel", "parallel", "reduction"]
// VEC: scf.forall
// VEC: vector.transfer_read {{.*}} : tensor<1x4x2xi8>, vector<2xi8>
// VEC: arith.extui {{.*}} : vector<2xi8> to vector<2xi32>
// VEC: arith.uitofp {{.*}} : vector<2xi32> to vector<2xf32>
// VEC: vector.fma
// VEC-NOT: llm_cpu.quantized_bits
func.func @constant_codes(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<codes> : tensor<2x4xi8>
  %s = arith.constant dense_resource<scales> : tensor<2x2xf32>
  %y = llm.quantized_linear %x, %c, %s bits(4) group(4) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Codes from an argument: one generic dequantizes every weight in the op's
// own layout (zero points read per group).
// CHECK-LABEL: func.func @argument_codes
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xi8>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: math.fma
// CHECK-NOT: llm_cpu.quantized_bits
func.func @argument_codes(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x2xf32>, %z: tensor<2x2xi8>) -> tensor<3x2xf32> {
  %y = llm.quantized_linear %x, %c, %s zero_points(%z) bits(4) group(4) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
// The offsets of @constant_codes: row 0 has z = 8 (symmetric) and scales 0.5, 1; row 1 scales 2, 0.25:
// m = [[-4, -8], [-16, -2]], in panel order (group-major) -4 -16 -8 -2.
// CHECK: scales_offsets: "0x04000000000080C0000080C1000000C1000000C0"
{-#
  dialect_resources: {
    builtin: {
      codes: "0x010000001234567887654321",
      scales: "0x040000000000003F0000803F000000400000803E"
    }
  }
#-}
