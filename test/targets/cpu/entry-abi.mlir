// RUN: llm-opt %s --split-input-file --llm-cpu-entry-abi -verify-diagnostics | FileCheck %s

// Tensor arguments become buffers read through to_tensor (writable when a
// result is tied to them); the tied result is written back into its
// argument, the other result into a new output argument.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: memref<1x4xi64> {llm.name = "input_ids"},
// CHECK-SAME: %[[POS:[a-z0-9]+]]: index,
// CHECK-SAME: %[[CACHE:[a-z0-9]+]]: memref<?x8xf32> {llm.role = "key_cache"},
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<1x4xf32> {llm.name = "logits", llm.role = "output"})
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-DAG: %[[T_IDS:.*]] = bufferization.to_tensor %[[IDS]] restrict : memref<1x4xi64>
// CHECK-DAG: %[[T_CACHE:.*]] = bufferization.to_tensor %[[CACHE]] restrict writable : memref<?x8xf32>
// CHECK: %[[UPDATED:.*]] = tensor.insert_slice %{{.*}} into %[[T_CACHE]]
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[OUT]] : (tensor<1x4xf32>, memref<1x4xf32>) -> ()
// CHECK: bufferization.materialize_in_destination %[[UPDATED]] in restrict writable %[[CACHE]] : (tensor<?x8xf32>, memref<?x8xf32>) -> ()
// CHECK: return{{$}}
func.func @step(%ids: tensor<1x4xi64> {llm.name = "input_ids"}, %pos: index,
                %cache: tensor<?x8xf32> {llm.role = "key_cache"})
    -> (tensor<1x4xf32> {llm.name = "logits"},
        tensor<?x8xf32> {llm.role = "key_cache", llm.tied_arg = 2 : i64}) {
  %f = arith.sitofp %ids : tensor<1x4xi64> to tensor<1x4xf32>
  %u = tensor.insert_slice %f into %cache[0, %pos] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x8xf32>
  return %f, %u : tensor<1x4xf32>, tensor<?x8xf32>
}

// Private functions keep their signature.
// CHECK-LABEL: func.func private @helper(%{{.*}}: tensor<2xf32>) -> tensor<2xf32>
func.func private @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}

// -----

// expected-error @+1 {{result 0 is tied to argument 1, which is not of its type}}
func.func @bad(%a: tensor<4xf32>, %b: tensor<8xf32>)
    -> (tensor<4xf32> {llm.tied_arg = 1 : i64}) {
  return %a : tensor<4xf32>
}

// -----

// A result computed in an empty tensor of its own (through a kernel's
// reshapes and a forall's shared output) is computed in the output buffer:
// the empty tensor becomes that buffer, and the final copy is onto itself
// (no longer restrict). Sizes read from the empty tensor are the buffer's.
// CHECK-LABEL: func.func @computed_in_output(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<?x8xf32>, %[[OUT:[a-z0-9]+]]: memref<?x8xf32> {llm.role = "output"})
// CHECK-NOT: tensor.empty
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: tensor.dim %[[T]]
// CHECK: tensor.expand_shape %[[T]]
// CHECK: bufferization.materialize_in_destination %{{.*}} in writable %[[OUT]]
func.func @computed_in_output(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%n) : tensor<?x8xf32>
  %m = tensor.dim %e, %c0 : tensor<?x8xf32>
  %panels = tensor.expand_shape %e [[0], [1, 2]] output_shape [%m, 2, 4] : tensor<?x8xf32> into tensor<?x2x4xf32>
  %r = scf.forall (%p) in (2) shared_outs(%o = %panels) -> (tensor<?x2x4xf32>) {
    %s = tensor.extract_slice %o[0, %p, 0] [%m, 1, 4] [1, 1, 1] : tensor<?x2x4xf32> to tensor<?x4xf32>
    %one = arith.constant 1.0 : f32
    %f = linalg.fill ins(%one : f32) outs(%s : tensor<?x4xf32>) -> tensor<?x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %f into %o[0, %p, 0] [%m, 1, 4] [1, 1, 1] : tensor<?x4xf32> into tensor<?x2x4xf32>
    }
  }
  %y = tensor.collapse_shape %r [[0], [1, 2]] : tensor<?x2x4xf32> into tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// An empty tensor read by something else as well keeps its own buffer.
// CHECK-LABEL: func.func @empty_shared(
// CHECK: tensor.empty
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable
func.func @empty_shared(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %one = arith.constant 1.0 : f32
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %g = linalg.fill ins(%one : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %f, %g : tensor<4xf32>, tensor<4xf32>
}
