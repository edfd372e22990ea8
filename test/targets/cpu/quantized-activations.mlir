// RUN: llm-opt %s --llm-lower-to-linalg | FileCheck %s
// RUN: llm-opt %s --llm-lower-to-linalg --llm-cpu-vectorize-linear="rows=4" | FileCheck %s --check-prefix=VEC
// RUN: llm-opt %s --llm-lower-to-linalg --llm-cpu-vectorize-linear="rows=4 vnni=true vbmi=true" | FileCheck %s --check-prefix=VNNI
// RUN: llm-opt %s --llm-lower-to-linalg="lookup-tables=true" | FileCheck %s --check-prefix=LUT
// RUN: llm-opt %s --llm-lower-to-linalg="lookup-tables=true" --llm-cpu-vectorize-linear="rows=4 vnni=true vbmi=true" | FileCheck %s --check-prefix=LUTVEC

// Int8 activations: each row of x is quantized (max |x|, 127/a, roundeven,
// clamp, i8), the 4-bit codes are packed for 4-way dot products into one
// panel of 16 columns [1, K/8, 64] (two columns used, the rest zero), and
// one generic computes y += a/127·x_q·(s·q + m) with the code's nibble
// picked by k/4; it carries the bit width, the group and the activation
// bits.
// CHECK-LABEL: func.func @int8_activations
// CHECK-DAG: arith.constant dense_resource<codes_dot_panels> : tensor<1x1x64xi8>
// CHECK-DAG: arith.constant dense_resource<scales_panels> : tensor<1x1x16xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: arith.cmpf ogt
// CHECK: arith.divf
// CHECK: arith.select
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi {{.*}} : f32 to i8
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xi8>, tensor<1x1x64xi8>, tensor<1x1x16xf32>, tensor<1x1x16xf32>, tensor<3xf32>)
// CHECK-SAME: llm_cpu.quantized_activations = 8 : i64, llm_cpu.quantized_bits = 4 : i64, llm_cpu.quantized_group = 8 : i64
// CHECK: arith.divui
// CHECK: arith.sitofp
// CHECK: math.fma

// The kernel: Σx_q per row and group in i32 first, then per group i32 dot
// products of 64 code bytes with 4 bytes of x_q broadcast, as widened
// products gathered in fours; with vnni the final add is tagged for
// llm-cpu-x86-intrinsics. Per group y += s·Σ + m·Σx_q, then a/127 once.
// VEC-LABEL: func.func @int8_activations
// VEC: arith.extsi {{.*}} : i8 to i32
// VEC: scf.forall
// VEC: vector.transfer_read {{.*}} : tensor<1x1x64xi8>, vector<64xi8>
// VEC: arith.shrui
// VEC: vector.transfer_read {{.*}} : tensor<3x8xi8>, vector<4xi8>
// VEC: vector.bitcast {{.*}} : vector<4xi8> to vector<1xi32>
// VEC: vector.broadcast {{.*}} : vector<1xi32> to vector<16xi32>
// VEC: arith.extui {{.*}} : vector<64xi8> to vector<64xi32>
// VEC: arith.extsi {{.*}} : vector<64xi8> to vector<64xi32>
// VEC: arith.muli
// VEC: vector.shuffle
// VEC-SAME: [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]
// VEC-NOT: llm_cpu.vnni_dot
// VEC: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// VEC: vector.fma
// VEC: vector.fma
// VEC-NOT: llm_cpu.quantized_bits
// VNNI-LABEL: func.func @int8_activations
// VNNI: arith.addi {{.*}} {llm_cpu.vnni_dot} : vector<16xi32>
func.func @int8_activations(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<codes> : tensor<2x4xi8>
  %s = arith.constant dense_resource<scales> : tensor<2x1xf32>
  %y = llm.quantized_linear %x, %c, %s bits(4) group(8) activations(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// A group of 4 4-bit codes is less than one dot-product step (8 codes):
// the dequantizing generic.
// CHECK-LABEL: func.func @small_groups
// CHECK-NOT: llm_cpu.quantized_bits
// CHECK: return
func.func @small_groups(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<codes> : tensor<2x4xi8>
  %s = arith.constant dense_resource<scales4> : tensor<2x2xf32>
  %y = llm.quantized_linear %x, %c, %s bits(4) group(4) activations(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// A codebook (two datatypes: -8..7 and twice that): the generic looks each
// code up in a 64-byte table of value + 128 at code | datatype << 4, the
// datatypes shifted in the dot-product layout (column 1's four bytes 0x10),
// and offsets m = -128·s. The kernel ORs the shifts into the codes and
// gathers from the table; with vbmi the index extension is tagged.
// CHECK-LABEL: func.func @codebook
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xi8>, tensor<1x1x64xi8>, tensor<1x1x16xf32>, tensor<1x1x16xf32>, tensor<3xf32>, tensor<1x1x64xi8>)
// CHECK-SAME: llm_cpu.lookup_table = dense<[120, 121, 122, 123, 124, 125, 126, 127, -128, -127, -126, -125, -124, -123, -122, -121, 112, 114, 116, 118, 120, 122, 124, 126, -128, -126, -124, -122, -120, -118, -116, -114, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<64xi8>
// CHECK: arith.ori
// CHECK: tensor.extract
// VEC-LABEL: func.func @codebook
// VEC: arith.ori {{.*}} : vector<64xi8>
// VEC: arith.extui {{.*}} : vector<64xi8> to vector<64xi32>
// VEC-NOT: llm_cpu.vbmi_lookup
// VEC: vector.gather
// VNNI-LABEL: func.func @codebook
// VNNI: arith.extui {{.*}} {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
// VNNI: vector.gather
func.func @codebook(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<book_codes> : tensor<2x4xi8>
  %s = arith.constant dense_resource<book_scales> : tensor<2x1xf32>
  %b = arith.constant dense_resource<book> : tensor<2x16xf32>
  %d = arith.constant dense_resource<kinds> : tensor<2x1xi8>
  %y = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(4) group(8) activations(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x16xf32>, tensor<2x1xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Codes from an argument: the rows are quantized the same way and one
// generic dequantizes every weight, scaling x_q by its row's a/127.
// CHECK-LABEL: func.func @argument_codes
// CHECK: math.roundeven
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x8xi8>, tensor<2x4xi8>, tensor<2x2xf32>, tensor<3xf32>)
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: math.fma
// CHECK-NOT: llm_cpu.quantized_bits
func.func @argument_codes(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x2xf32>) -> tensor<3x2xf32> {
  %y = llm.quantized_linear %x, %c, %s bits(4) group(4) activations(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// With lookup-tables, 2-bit codes in groups of 16 become T-MAC bit planes
// [1 panel, K/16 = 2 chunks, 1 plane row, 64] and one generic reads them
// (once per plane row) by (k/16, 4·column + k%16/4); the 4-bit codes in
// groups of 8 above keep the dot-product layout.
// LUT-LABEL: func.func @int8_activations
// LUT-NOT: llm_cpu.bit_planes
// LUT: return
// LUT-LABEL: func.func @bit_planes
// LUT-DAG: arith.constant dense_resource<plane_codes_bit_planes> : tensor<1x2x1x64xi8>
// LUT: math.roundeven
// LUT: linalg.generic
// LUT-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x32xi8>, tensor<1x2x1x64xi8>, tensor<1x2x16xf32>, tensor<1x2x16xf32>, tensor<3xf32>)
// LUT-SAME: llm_cpu.bit_planes, llm_cpu.quantized_activations = 8 : i64, llm_cpu.quantized_bits = 2 : i64, llm_cpu.quantized_group = 16 : i64
// LUT: arith.remui
// LUT: arith.shrui
// LUT: arith.shli
// LUT: math.fma
// The kernel builds each row's tables first (4 spreads of 16 activations
// masked and summed in i16, split into lo and hi bytes), then per chunk
// ORs each nibble with its table's number and looks up both tables,
// summed by dot products with the plane's weight (1, then 2).
// LUTVEC-LABEL: func.func @bit_planes
// LUTVEC: scf.for
// LUTVEC: vector.shuffle {{.*}} : vector<16xi8>, vector<16xi8>
// LUTVEC: arith.extsi {{.*}} : vector<64xi8> to vector<64xi16>
// LUTVEC: arith.shrsi
// LUTVEC: vector.transfer_write {{.*}} : vector<64xi8>, tensor<3x2x2x64xi8>
// LUTVEC: scf.forall
// LUTVEC: vector.transfer_read {{.*}} : tensor<1x2x1x64xi8>, vector<64xi8>
// LUTVEC: arith.andi
// LUTVEC: arith.ori
// LUTVEC: arith.extui {{.*}} {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
// LUTVEC: vector.gather {{.*}} : tensor<3x2x2x64xi8>
// LUTVEC: arith.addi {{.*}} {llm_cpu.vnni_dot} : vector<16xi32>
// LUTVEC: arith.shrui
// LUTVEC: arith.shli {{.*}} : vector<16xi32>
// LUTVEC: vector.fma
// LUTVEC-NOT: llm_cpu.bit_planes
// Without lookup-tables: the dot-product layout.
// CHECK-LABEL: func.func @bit_planes
// CHECK: tensor<1x2x64xi8>
// CHECK-NOT: llm_cpu.bit_planes
// CHECK: return
func.func @bit_planes(%x: tensor<3x32xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<plane_codes> : tensor<2x8xi8>
  %s = arith.constant dense_resource<plane_scales> : tensor<2x2xf32>
  %y = llm.quantized_linear %x, %c, %s bits(2) group(16) activations(8) : (tensor<3x32xf32>, tensor<2x8xi8>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// 3-bit codes (a bit stream, 12 bytes per row of 32) with a codebook: the
// low two bits go to the 2-bit dot-product layout [1, K/16, 64] and the
// high bit to a 1-bit one [1, K/32, 64] (bit t of byte 4c + i: k =
// 4t + i); the table index is code | datatype << 3. The kernel reads a
// high row per two steps, shifts its bytes by 4 on odd steps and moves
// bit t to bit 2 of each code before the lookup.
// CHECK-LABEL: func.func @three_bit
// CHECK-DAG: arith.constant dense_resource<three_codes_dot_panels_low> : tensor<1x2x64xi8>
// CHECK-DAG: arith.constant dense_resource<three_codes_dot_panels_high> : tensor<1x1x64xi8>
// CHECK: math.roundeven
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x32xi8>, tensor<1x2x64xi8>, tensor<1x1x64xi8>, tensor<1x2x16xf32>, tensor<1x2x16xf32>, tensor<3xf32>, tensor<1x2x64xi8>)
// CHECK-SAME: llm_cpu.quantized_bits = 3 : i64
// VEC-LABEL: func.func @three_bit
// VEC: scf.forall
// VEC: vector.transfer_read {{.*}} : tensor<1x2x64xi8>, vector<64xi8>
// VEC: vector.transfer_read {{.*}} : tensor<1x1x64xi8>, vector<64xi8>
// VEC: arith.shrui
// VEC: arith.shli
// VEC: arith.ori
// VEC: vector.gather
// VEC-NOT: llm_cpu.quantized_bits
func.func @three_bit(%x: tensor<3x32xf32>) -> tensor<3x2xf32> {
  %c = arith.constant dense_resource<three_codes> : tensor<2x12xi8>
  %s = arith.constant dense_resource<three_scales> : tensor<2x2xf32>
  %b = arith.constant dense_resource<three_book> : tensor<2x8xf32>
  %d = arith.constant dense_resource<three_kinds> : tensor<2x2xi8>
  %y = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(3) group(16) activations(8) : (tensor<3x32xf32>, tensor<2x12xi8>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<2x2xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// Column 0's 2-bit codes 0 1 2 3 0 1 2 3 ... (bytes 0xE4) have plane 0 at
// inputs 1 and 3 of each table (nibble 0xA) and plane 1 at 2 and 3 (0xC):
// bytes 0..3 of each chunk 0xCA; column 1's codes are all 3: 0xFF.
// LUT: plane_codes_bit_planes: "0x01000000CACACACAFFFFFFFF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000CACACACAFFFFFFFF0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

// Column 0's codes k0..k7 = 2 1 4 3 6 5 8 7 become bytes (k_i | k_{4+i} << 4)
// 0x62 0x51 0x84 0x73; column 1's (7 8 5 6 3 4 1 2) 0x37 0x48 0x15 0x26;
// the 14 unused columns are zero.
// CHECK: kinds_dot_panels: "0x0100000000000000101010100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
// CHECK: codes_dot_panels: "0x0100000062518473374815260000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
// Column 0's codes are all 5 (low 1, high 1), column 1's all 2 (low 2,
// high 0): low bytes 0x55 and 0xAA, high bytes 0xFF and 0.
// CHECK: three_codes_dot_panels_high: "0x01000000FFFFFFFF000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
// CHECK: three_codes_dot_panels_low: "0x0100000055555555AAAAAAAA000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000055555555AAAAAAAA0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
{-#
  dialect_resources: {
    builtin: {
      codes: "0x010000001234567887654321",
      scales: "0x040000000000003F00000040",
      scales4: "0x040000000000003F0000803F000000400000803E",
      book: "0x04000000000000C10000E0C00000C0C00000A0C0000080C0000040C0000000C0000080BF000000000000803F0000004000004040000080400000A0400000C0400000E040000080C1000060C1000040C1000020C1000000C10000C0C0000080C0000000C00000000000000040000080400000C04000000041000020410000404100006041",
      kinds: "0x010000000001",
      book_codes: "0x010000001234567887654321",
      book_scales: "0x040000000000003F00000040",
      plane_codes: "0x01000000E4E4E4E4E4E4E4E4FFFFFFFFFFFFFFFF",
      plane_scales: "0x040000000000003F0000803F000000400000803E",
      three_codes: "0x010000006DDBB66DDBB66DDBB66DDBB6922449922449922449922449",
      three_book: "0x04000000000080C0000040C0000000C0000080BF000000000000803F0000004000004040000000C10000C0C0000080C0000000C00000000000000040000080400000C040",
      three_scales: "0x040000000000003F0000803F000000400000803E",
      three_kinds: "0x0100000000010100"
    }
  }
#-}
