// RUN: llm-opt %s --llm-place="target=edge-npu-pim phase=decode batch=8" -o %t.edge.mlir
// RUN: FileCheck %s --check-prefix=EDGE < %t.edge.mlir
// RUN: FileCheck %s --check-prefix=EDGE-NOWHERE < %t.edge.mlir
// RUN: llm-opt %s --llm-place="target=wafer-mesh phase=decode batch=8" | FileCheck %s --check-prefix=MESH
// RUN: llm-opt %s --llm-place="target=edge-npu-pim phase=decode batch=8 pin=attention=npu pin=*_proj=cpu:0" | FileCheck %s --check-prefix=PIN
// RUN: llm-opt %s --llm-place="target=%S/Inputs/two-cpus.json" | FileCheck %s --check-prefix=FILE
// RUN: llm-opt %s --llm-place="target=edge-npu-pim phase=decode batch=8 report=%t.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: FileCheck %s --check-prefix=HTML < %t.html

// One decode step of an attention block, 8 sequences over a 1024-token
// cache, d = 512, 8/2 heads.
// EDGE-LABEL: func.func @decode
// EDGE-SAME: llm.placement = {batch = 8 : i64, context = 128 : i64, host = #llm.device<"cpu">, interleave = false, phase = "decode", step_us = {{[0-9.]+}} : f64, target = "edge-npu-pim"}
// Projections over the batch (Op/B ≈ B) on the NPU; attention (Op/B ≈
// g_q = 4, each sequence's own KV) on PIM; the views and transposes follow
// the op that consumes them.
// EDGE: llm.rms_norm {{.*}}llm.device = #llm.device<"npu">
// EDGE: llm.linear {{.*}}llm.device = #llm.device<"npu">
// EDGE: tensor.expand_shape {{.*}}llm.device = #llm.device<"npu">
// EDGE: llm.attention {{.*}}llm.device = #llm.device<"pim">
// EDGE: llm.linear {{.*}}llm.device = #llm.device<"npu">
// EDGE: arith.addf {{.*}}llm.device = #llm.device<"npu">
// Constants are not placed: each segment will own its weights.
// EDGE-NOWHERE-NOT: arith.constant {{.*}}llm.device

// The wafer keeps weights and the cache in its cores' SRAM.
// MESH: llm.linear {{.*}}llm.device = #llm.device<"mesh">
// MESH: llm.attention {{.*}}llm.device = #llm.device<"mesh">
// MESH: llm.linear {{.*}}llm.device = #llm.device<"mesh">

// Pins by location name (globs), whatever the cost.
// PIN: llm.linear {{.*}}llm.device = #llm.device<"cpu">
// PIN: llm.attention {{.*}}llm.device = #llm.device<"npu">
// PIN: llm.linear {{.*}}llm.device = #llm.device<"cpu">

// A description read from a file: two CPUs joined by a slow link; the
// whole chain stays on one of them.
// FILE: target = "two-cpus"
// FILE: llm.attention {{.*}}llm.device = #llm.device<"cpu">
// FILE-NOT: #llm.device<"cpu", 1>

// The report: every op's estimate on every device, with its terms, the
// choice and why, the timeline.
// REPORT: "batch": 8,
// REPORT: "functions": [
// REPORT: "function": "decode",
// REPORT: "ops": [
// REPORT: "device": "npu",
// REPORT: "estimates": {
// REPORT: "cpu": {
// REPORT: "bound": "memory",
// REPORT: "compute_us":
// REPORT: "memory_us":
// REPORT: "pim": {
// REPORT: "name": "norm",
// REPORT: "reason": "{{[a-z]+}}-bound on npu
// REPORT: "device": "pim",
// REPORT: "name": "attention",
// REPORT: "op": "llm.attention",
// REPORT: "reason": "memory-bound on pim (bank-parallel GEMV, 4 passes over 128 banks)",
// REPORT: "step_us":
// REPORT: "timeline": [
// REPORT: "transfers": [
// REPORT: "phase": "decode",
// REPORT: "target": "edge-npu-pim"
// HTML: <title>llmc placement: edge-npu-pim</title>
// HTML: <svg
// HTML: <rect {{.*}}<title>attention (llm.attention): {{.*}} us</title></rect>
// HTML: </svg>
// HTML: <td class="l">attention</td><td class="l">attention</td>
func.func @decode(%x: tensor<8x1x512xf32>, %kc: tensor<8x2x1024x64xf32> {llm.role = "key_cache"}, %vc: tensor<8x2x1024x64xf32> {llm.role = "value_cache"}) -> tensor<8x1x512xf32> {
  %wq = arith.constant dense<1.0> : tensor<512x512xf32>
  %wo = arith.constant dense<1.0> : tensor<512x512xf32>
  %n = arith.constant dense<1.0> : tensor<512xf32>
  %h = llm.rms_norm %x, %n {epsilon = 1.0e-5 : f32} : (tensor<8x1x512xf32>, tensor<512xf32>) -> tensor<8x1x512xf32> loc("norm")
  %q = llm.linear %h, %wq : (tensor<8x1x512xf32>, tensor<512x512xf32>) -> tensor<8x1x512xf32> loc("q_proj")
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [8, 1, 8, 64] : tensor<8x1x512xf32> into tensor<8x1x8x64xf32> loc("q_heads")
  %e = tensor.empty() : tensor<8x8x1x64xf32>
  %qt = linalg.transpose ins(%q4 : tensor<8x1x8x64xf32>) outs(%e : tensor<8x8x1x64xf32>) permutation = [0, 2, 1, 3] loc("q_transpose")
  %a = llm.attention %qt, %kc, %vc {num_heads = 8 : i64, num_kv_heads = 2 : i64} : (tensor<8x8x1x64xf32>, tensor<8x2x1024x64xf32>, tensor<8x2x1024x64xf32>) -> tensor<8x8x1x64xf32> loc("attention")
  %e2 = tensor.empty() : tensor<8x1x8x64xf32>
  %at = linalg.transpose ins(%a : tensor<8x8x1x64xf32>) outs(%e2 : tensor<8x1x8x64xf32>) permutation = [0, 2, 1, 3] loc("attention_transpose")
  %a6 = tensor.collapse_shape %at [[0], [1], [2, 3]] : tensor<8x1x8x64xf32> into tensor<8x1x512xf32>
  %o = llm.linear %a6, %wo : (tensor<8x1x512xf32>, tensor<512x512xf32>) -> tensor<8x1x512xf32> loc("o_proj")
  %r = arith.addf %x, %o : tensor<8x1x512xf32> loc("residual")
  return %r : tensor<8x1x512xf32>
}
