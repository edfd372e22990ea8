// RUN: llm-opt %s --split-input-file --llm-kv-predict="layers=0,0" | FileCheck %s

// A two-layer base (2 KV heads of 4) predicted from a one-layer auxiliary
// model (1 KV head of 4): linear predictors [8, 4] per base layer.
// CHECK-LABEL: func.func @llmc_prefill(
// CHECK-SAME: %[[IDS:[^:]*]]: tensor<?x?xi64> {llm.name = "input_ids"}, %[[POS:[^:]*]]: index {llm.role = "position"}
// CHECK-SAME: -> (tensor<?x?x8xf32> {llm.name = "logits"}, tensor<?x2x?x4xf32> {llm.role = "key_cache", llm.tied_arg = 3 : i64}
// CHECK: %[[T:.*]] = tensor.dim %[[IDS]], %c1
// CHECK: %[[AT0:.*]] = arith.cmpi eq, %[[POS]], %c0
// CHECK: %[[LONG:.*]] = arith.cmpi ugt, %[[T]], %c1
// CHECK: %[[PREDICT:.*]] = arith.andi %[[AT0]], %[[LONG]]
// CHECK: scf.if %[[PREDICT]]
// The auxiliary model over the first T - 1 tokens, with zeroed caches.
// CHECK: %[[KNOWN:.*]] = arith.subi %[[T]], %c1
// CHECK: %[[HEAD:.*]] = tensor.extract_slice %[[IDS]][0, 0] [%{{.*}}, %[[KNOWN]]] [1, 1]
// CHECK: linalg.fill
// CHECK: %[[AUX:.*]]:3 = func.call @aux_step(%[[HEAD]]
// Base layer 0's keys: auxiliary layer 0's, mapped by its predictor.
// CHECK: %[[K:.*]] = tensor.extract_slice %[[AUX]]#1[0, 0, 0, 0]
// CHECK: %[[W:.*]] = arith.constant dense<1.000000e+00> : tensor<8x4xf32>
// CHECK: linalg.transpose ins(%[[K]]
// CHECK: llm.linear %{{.*}}, %[[W]] : (tensor<?x?x4xf32>, tensor<8x4xf32>) -> tensor<?x?x8xf32>
// CHECK: tensor.insert_slice %{{.*}} into %arg3[0, 0, 0, 0]
// CHECK: dense<2.000000e+00> : tensor<8x4xf32>
// CHECK: dense<3.000000e+00> : tensor<8x4xf32>
// CHECK: dense<4.000000e+00> : tensor<8x4xf32>
// Then one base step on the last token at position T - 1.
// CHECK: %[[LAST:.*]] = tensor.extract_slice %[[IDS]][0, %[[KNOWN]]] [%{{.*}}, 1] [1, 1]
// CHECK: %[[LASTC:.*]] = tensor.cast %[[LAST]] : tensor<?x1xi64> to tensor<?x?xi64>
// CHECK: %[[STEP:.*]]:5 = func.call @llmc_step(%[[LASTC]], %[[KNOWN]],
// The first T - 1 positions' logits are zero: only the first token's are
// computed.
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<?x?x8xf32>
// CHECK: tensor.concat dim(1) %[[ZERO]], %[[STEP]]#0
// CHECK: } else {
// CHECK: func.call @llmc_step(%[[IDS]], %[[POS]]
// The auxiliary step is private now; the predictors are folded in.
// CHECK-LABEL: func.func private @aux_step
// CHECK-NOT: kv_predictor

func.func @llmc_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %pos: index {llm.role = "position"},
                     %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                     %k0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                     %v0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"},
                     %k1: tensor<?x2x?x4xf32> {llm.layer = 1 : i64, llm.role = "key_cache"},
                     %v1: tensor<?x2x?x4xf32> {llm.layer = 1 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32> {llm.name = "logits"},
        tensor<?x2x?x4xf32> {llm.role = "key_cache", llm.tied_arg = 3 : i64},
        tensor<?x2x?x4xf32> {llm.role = "value_cache", llm.tied_arg = 4 : i64},
        tensor<?x2x?x4xf32> {llm.role = "key_cache", llm.tied_arg = 5 : i64},
        tensor<?x2x?x4xf32> {llm.role = "value_cache", llm.tied_arg = 6 : i64}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %t) : tensor<?x?x8xf32>
  return %logits, %k0, %v0, %k1, %v1 : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

func.func @aux_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %pos: index {llm.role = "position"},
                    %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                    %k0: tensor<?x1x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                    %v0: tensor<?x1x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32> {llm.name = "logits"},
        tensor<?x1x?x4xf32> {llm.role = "key_cache", llm.tied_arg = 3 : i64},
        tensor<?x1x?x4xf32> {llm.role = "value_cache", llm.tied_arg = 4 : i64}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %t = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %t) : tensor<?x?x8xf32>
  return %logits, %k0, %v0 : tensor<?x?x8xf32>, tensor<?x1x?x4xf32>, tensor<?x1x?x4xf32>
}

func.func private @kv_predictor_key_0() -> tensor<8x4xf32> {
  %w = arith.constant dense<1.0> : tensor<8x4xf32>
  return %w : tensor<8x4xf32>
}
func.func private @kv_predictor_value_0() -> tensor<8x4xf32> {
  %w = arith.constant dense<2.0> : tensor<8x4xf32>
  return %w : tensor<8x4xf32>
}
func.func private @kv_predictor_key_1() -> tensor<8x4xf32> {
  %w = arith.constant dense<3.0> : tensor<8x4xf32>
  return %w : tensor<8x4xf32>
}
func.func private @kv_predictor_value_1() -> tensor<8x4xf32> {
  %w = arith.constant dense<4.0> : tensor<8x4xf32>
  return %w : tensor<8x4xf32>
}
