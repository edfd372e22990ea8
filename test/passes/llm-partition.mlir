// RUN: llm-opt %s --llm-partition --split-input-file | FileCheck %s

// Three runs (npu, pim, npu) become three functions. Values crossing
// devices go through llm.transfer; the step's input arrives from the host
// and its result goes back there; the weight is cloned into the segment
// that uses it; the cache argument is not transferred (it stays in the
// memory of the device that uses it).
// CHECK-LABEL: func.func private @step_seg0_npu0
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>) -> tensor<8x64xf32> attributes {llm.device = #llm.device<"npu">}
// CHECK: %[[W:.*]] = arith.constant dense<2.000000e+00> : tensor<64x64xf32>
// CHECK: %[[Y:.*]] = llm.linear %[[X]], %[[W]]
// CHECK-NOT: llm.device
// CHECK: return %[[Y]]
// CHECK-LABEL: func.func private @step_seg1_pim0
// CHECK-SAME: (%{{.*}}: tensor<8x64xf32>, %{{.*}}: tensor<8x64xf32>) -> tensor<8x64xf32> attributes {llm.device = #llm.device<"pim">}
// CHECK: arith.mulf
// CHECK-LABEL: func.func private @step_seg2_npu0
// CHECK: arith.addf
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[IN:.*]]: tensor<8x64xf32>, %[[CACHE:.*]]: tensor<8x64xf32> {llm.role = "key_cache"})
// CHECK-NOT: arith.constant
// CHECK: %[[T0:.*]] = llm.transfer %[[IN]] : tensor<8x64xf32> from #llm.device<"cpu"> to #llm.device<"npu">
// CHECK: %[[S0:.*]] = call @step_seg0_npu0(%[[T0]]) {llm.device = #llm.device<"npu">}
// CHECK: %[[T1:.*]] = llm.transfer %[[S0]] : tensor<8x64xf32> from #llm.device<"npu"> to #llm.device<"pim">
// CHECK: %[[S1:.*]] = call @step_seg1_pim0(%[[T1]], %[[CACHE]]) {llm.device = #llm.device<"pim">}
// CHECK: %[[T2:.*]] = llm.transfer %[[S1]] : tensor<8x64xf32> from #llm.device<"pim"> to #llm.device<"npu">
// CHECK: %[[S2:.*]] = call @step_seg2_npu0(%[[T2]], %[[S0]])
// CHECK: %[[T3:.*]] = llm.transfer %[[S2]] : tensor<8x64xf32> from #llm.device<"npu"> to #llm.device<"cpu">
// CHECK: return %[[T3]]
func.func @step(%x: tensor<8x64xf32>, %cache: tensor<8x64xf32> {llm.role = "key_cache"}) -> tensor<8x64xf32>
    attributes {llm.placement = {host = #llm.device<"cpu">}} {
  %w = arith.constant dense<2.0> : tensor<64x64xf32>
  %y = llm.linear %x, %w {llm.device = #llm.device<"npu">} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %z = arith.mulf %y, %cache {llm.device = #llm.device<"pim">} : tensor<8x64xf32>
  %r = arith.addf %z, %y {llm.device = #llm.device<"npu">} : tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// -----

// Ops on one device that the program order interleaves with another's
// (independent K and V projections) are grouped: two segments, not four.
// CHECK-LABEL: func.func private @siblings_seg0_npu0
// CHECK-COUNT-2: llm.linear
// CHECK-LABEL: func.func private @siblings_seg1_cpu0
// CHECK-COUNT-2: arith.addf
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @siblings
func.func @siblings(%x: tensor<8x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>)
    attributes {llm.placement = {host = #llm.device<"cpu">}} {
  %w = arith.constant dense<2.0> : tensor<64x64xf32>
  %k = llm.linear %x, %w {llm.device = #llm.device<"npu">} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %k2 = arith.addf %k, %k {llm.device = #llm.device<"cpu">} : tensor<8x64xf32>
  %v = llm.linear %x, %w {llm.device = #llm.device<"npu">} : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %v2 = arith.addf %v, %v {llm.device = #llm.device<"cpu">} : tensor<8x64xf32>
  return %k2, %v2 : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Nothing placed: left alone.
// CHECK-LABEL: func.func @unplaced
// CHECK-NEXT: arith.addf
// CHECK-NEXT: return
func.func @unplaced(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %a = arith.addf %x, %x : tensor<8x64xf32>
  return %a : tensor<8x64xf32>
}
