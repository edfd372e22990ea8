// RUN: llm-opt %s --split-input-file -verify-diagnostics \
// RUN:   --llm-place="target=edge-npu-pim pin=norm=pim"
// RUN: not llm-opt %s --split-input-file --llm-place="target=%S/Inputs/int8-npu.json pin=norm=npu" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not llm-opt %s --split-input-file --llm-place="target=nope" 2>&1 | FileCheck %s --check-prefix=PRESET
// RUN: not llm-opt %s --split-input-file --llm-place="target=%S/Inputs/bad-target.json" 2>&1 | FileCheck %s --check-prefix=FIELD
// RUN: not llm-opt %s --split-input-file --llm-place="phase=both" 2>&1 | FileCheck %s --check-prefix=PHASE
// RUN: not llm-opt %s --split-input-file --llm-place="batch=0" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not llm-opt %s --split-input-file --llm-place="target=edge-npu-pim pin=norm=gpu" 2>&1 | FileCheck %s --check-prefix=DEVICE
// RUN: not llm-opt %s --split-input-file --llm-place="target=edge-npu-pim pin=norm" 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not llm-opt %s --split-input-file --llm-place="target=edge-npu-pim pin=nothing=npu" 2>&1 | FileCheck %s --check-prefix=UNUSED
// RUN: not llm-opt %s --split-input-file --llm-place="report=/nonexistent/dir/r.json" 2>&1 | FileCheck %s --check-prefix=REPORT

// DTYPE: error: cannot place @pinned: 'norm' (llm.rms_norm) cannot run on npu0, where it is pinned: npu0 does not compute in f32 (dtypes: i8)
// PRESET: error: llm-place: target 'nope' is neither a preset (host-cpu, edge-npu-pim, wafer-mesh) nor a readable file
// FIELD: error: llm-place: {{.*}}bad-target.json: devices[0] 'npu0': field 'clock_ghz' must be a positive number
// PHASE: error: llm-place: phase must be 'prefill' or 'decode', not 'both'
// BATCH: error: llm-place: batch and context must be at least 1
// DEVICE: error: llm-place: pin 'norm=gpu' names no device of 'edge-npu-pim'
// SYNTAX: error: llm-place: pin 'norm' is not NAME=KIND[:INDEX]
// UNUSED: error: llm-place: pin 'nothing=npu' matches no op
// REPORT: error: llm-place: cannot write '/nonexistent/dir/r.json'

// An RMSNorm pinned to PIM, which runs GEMV-shaped work only.
// expected-error @below {{cannot place @pinned: 'norm' (llm.rms_norm) cannot run on pim, where it is pinned: PIM runs GEMV-shaped work and KV-cache writes only, not elementwise}}
func.func @pinned(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %n = arith.constant dense<1.0> : tensor<64xf32>
  %y = llm.rms_norm %x, %n {epsilon = 1.0e-5 : f32} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> loc("norm")
  return %y : tensor<8x64xf32>
}
