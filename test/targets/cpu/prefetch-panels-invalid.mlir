// RUN: llm-opt %s --llm-cpu-prefetch-panels --split-input-file --verify-diagnostics

// The tag promises panel weights: weights that are not a read are an
// error, not a silent skip.
func.func @not_a_read(%a: vector<32xf32>, %b: vector<32xf32>, %acc: vector<32xf32>) -> vector<32xf32> {
  // expected-error @+1 {{llm-cpu-prefetch-panels: tagged 'llm_cpu.prefetch_next_panel' but its weights are not a vector.transfer_read}}
  %r = vector.fma %a, %b, %acc {llm_cpu.prefetch_next_panel} : vector<32xf32>
  return %r : vector<32xf32>
}

// -----

// A read from a [K, N] matrix is not a panel row.
func.func @not_panels(%w: memref<64x32xf32>, %k: index, %a: vector<32xf32>, %acc: vector<32xf32>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %row = vector.transfer_read %w[%k, %c0], %pad {in_bounds = [true]} : memref<64x32xf32>, vector<32xf32>
  // expected-error @+1 {{llm-cpu-prefetch-panels: tagged 'llm_cpu.prefetch_next_panel' but its weights are not read from panels [P, K, NR]}}
  %r = vector.fma %a, %row, %acc {llm_cpu.prefetch_next_panel} : vector<32xf32>
  return %r : vector<32xf32>
}

// -----

// Panels still on tensors (before bufferization) cannot be prefetched.
func.func @tensor_panels(%w: tensor<3x64x32xf32>, %p: index, %k: index, %a: vector<32xf32>, %acc: vector<32xf32>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %row = vector.transfer_read %w[%p, %k, %c0], %pad {in_bounds = [true]} : tensor<3x64x32xf32>, vector<32xf32>
  // expected-error @+1 {{llm-cpu-prefetch-panels: tagged 'llm_cpu.prefetch_next_panel' but its weights are not read from panels [P, K, NR]}}
  %r = vector.fma %a, %row, %acc {llm_cpu.prefetch_next_panel} : vector<32xf32>
  return %r : vector<32xf32>
}
