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
