// RUN: llm-opt %s --llm-decompose-moe --llm-place="target=edge-npu-pim pin=moe/group0/*=npu:0 pin=moe/group1/*/up=pim:0 pin=moe/group1/*/gate=pim:0 pin=moe/group1/*/down=pim:0" --mlir-print-debuginfo | FileCheck %s

// MoGE groups mapped to devices: llm-decompose-moe names each expert's ops
// "<layer>/group<g>/expert<e>/<part>", so placement pins put a group's
// experts on a device of their own (group 0 on the NPU, group 1's
// projections on PIM).
// CHECK-LABEL: func.func @grouped
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">} {{.*}} loc(#[[E0UP:[a-z0-9]+]])
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">} {{.*}} loc(#[[E0GATE:[a-z0-9]+]])
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">} {{.*}} loc(#[[E1DOWN:[a-z0-9]+]])
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">} {{.*}} loc(#[[E2UP:[a-z0-9]+]])
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">}
// CHECK: llm.linear {{.*}} {llm.device = #llm.device<"pim">}
// CHECK-NOT: llm.linear
// CHECK-DAG: #[[E0UP]] = loc("moe/group0/expert0/up"
// CHECK-DAG: #[[E0GATE]] = loc("moe/group0/expert0/gate"
// CHECK-DAG: #[[E1DOWN]] = loc("moe/group0/expert1/down"
// CHECK-DAG: #[[E2UP]] = loc("moe/group1/expert2/up"
func.func @grouped(%x: tensor<4x8xf32>, %l: tensor<4x4xf32>) -> tensor<4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<4x16x8xf32>
  %u = arith.constant dense<2.0> : tensor<4x16x8xf32>
  %d = arith.constant dense<3.0> : tensor<4x8x16xf32>
  %y = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64, normalize_top_k, groups = 2 : i64}
      : (tensor<4x8xf32>, tensor<4x4xf32>, tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
