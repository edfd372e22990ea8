// RUN: llm-opt %s --split-input-file -verify-diagnostics --llm-kv-predict="layers=0,0"
// RUN: not llm-opt %s --split-input-file --llm-kv-predict="layers=0" 2>&1 | FileCheck %s --check-prefix=LENGTH
// RUN: not llm-opt %s --split-input-file --llm-kv-predict="layers=0,3" 2>&1 | FileCheck %s --check-prefix=RANGE

// LENGTH: llm-kv-predict: the layer map has 1 entries, the base model has 2 layers
// RANGE: llm-kv-predict: the layer map sends base layer 1 to auxiliary layer 3, but the auxiliary model has 1 layers

// The auxiliary model's KV (1 head) differs from the base's (2 heads) and
// no predictor is given.
// expected-error @below {{llm-kv-predict: no predictor function @kv_predictor_key_0}}
module {
func.func @llmc_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %pos: index {llm.role = "position"},
                     %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                     %k0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                     %v0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"},
                     %k1: tensor<?x2x?x4xf32> {llm.layer = 1 : i64, llm.role = "key_cache"},
                     %v1: tensor<?x2x?x4xf32> {llm.layer = 1 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %b) : tensor<?x?x8xf32>
  return %logits, %k0, %v0, %k1, %v1 : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
func.func @aux_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %pos: index {llm.role = "position"},
                    %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                    %k0: tensor<?x1x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                    %v0: tensor<?x1x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32>, tensor<?x1x?x4xf32>, tensor<?x1x?x4xf32>) {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %b) : tensor<?x?x8xf32>
  return %logits, %k0, %v0 : tensor<?x?x8xf32>, tensor<?x1x?x4xf32>, tensor<?x1x?x4xf32>
}
}

// -----

// A model input besides input_ids, attention_mask and position_ids.
module {
// expected-error @below {{the base model @llmc_step: llm-kv-predict supports models whose inputs are input_ids, attention_mask and position_ids (argument 1 is another)}}
func.func @llmc_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %am: tensor<?x?xi64> {llm.name = "token_type_ids"},
                     %pos: index {llm.role = "position"}, %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                     %k0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                     %v0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %b) : tensor<?x?x8xf32>
  return %logits, %k0, %v0 : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
func.func @aux_step(%ids: tensor<?x?xi64> {llm.name = "input_ids"}, %pos: index {llm.role = "position"},
                    %mask: tensor<?x?xf32> {llm.role = "kv_mask"},
                    %k0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "key_cache"},
                    %v0: tensor<?x2x?x4xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
    -> (tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %c0 = arith.constant 0 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %logits = tensor.empty(%b, %b) : tensor<?x?x8xf32>
  return %logits, %k0, %v0 : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
}
