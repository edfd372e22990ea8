//===- OpCostTest.cpp - the cost interface against LLM-Viewer's counts ----===//
//
// One Llama-2-7B-shaped layer (h = 4096, 32 heads of 128, FFN 11008, fp16)
// in prefill (B = 1, s = 2048) and decode (one token over s = 2048), counted
// by hand with LLM-Viewer's formulas (techniques.md §1).
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/CostInterface.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::llm;

namespace {

// Dynamic dims: d0 = batch, every other = the sequence (s).
constexpr const char *kLayer = R"mlir(
func.func @layer(%x: tensor<?x?x4096xf16>, %q: tensor<?x32x?x128xf16>,
                 %k: tensor<?x32x?x128xf16>, %v: tensor<?x32x?x128xf16>) {
  %wq = arith.constant dense<1.0> : tensor<4096x4096xf16>
  %wg = arith.constant dense<1.0> : tensor<11008x4096xf16>
  %wd = arith.constant dense<1.0> : tensor<4096x11008xf16>
  %n = arith.constant dense<1.0> : tensor<4096xf16>
  %0 = llm.linear %x, %wq : (tensor<?x?x4096xf16>, tensor<4096x4096xf16>) -> tensor<?x?x4096xf16>
  %1 = llm.attention %q, %k, %v {num_heads = 32 : i64, num_kv_heads = 32 : i64}
      : (tensor<?x32x?x128xf16>, tensor<?x32x?x128xf16>, tensor<?x32x?x128xf16>) -> tensor<?x32x?x128xf16>
  %2 = llm.rms_norm %x, %n {epsilon = 1.0e-5 : f32} : (tensor<?x?x4096xf16>, tensor<4096xf16>) -> tensor<?x?x4096xf16>
  %3 = arith.addf %x, %0 : tensor<?x?x4096xf16>
  %4 = llm.linear %2, %wg : (tensor<?x?x4096xf16>, tensor<11008x4096xf16>) -> tensor<?x?x11008xf16>
  %5 = llm.silu %4 : tensor<?x?x11008xf16>
  %6 = llm.linear %5, %wd : (tensor<?x?x11008xf16>, tensor<4096x11008xf16>) -> tensor<?x?x4096xf16>
  return
}
)mlir";

class OpCostTest : public ::testing::Test {
protected:
  OpCostTest() {
    ctx.loadDialect<LLMDialect, arith::ArithDialect, func::FuncDialect,
                    tensor::TensorDialect, linalg::LinalgDialect>();
    module = parseSourceString<ModuleOp>(kLayer, &ctx);
  }

  /// The costs of the ops of @layer in order, with queries of `rows`
  /// tokens against `keys` keys.
  std::vector<OpCost> costs(int64_t rows, int64_t keys) {
    auto func = *module->getOps<func::FuncOp>().begin();
    Value k = func.getArgument(2), v = func.getArgument(3);
    auto dims = [&](Value value, int64_t d) -> int64_t {
      if (d == 0)
        return 1;
      return (value == k || value == v) ? keys : rows;
    };
    std::vector<OpCost> result;
    for (Operation &op : func.getBody().front().without_terminator())
      if (std::optional<OpCost> cost = estimateOpCost(&op, dims))
        result.push_back(*cost);
    return result;
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

TEST_F(OpCostTest, PrefillMatchesLLMViewer) {
  ASSERT_TRUE(module);
  std::vector<OpCost> c = costs(2048, 2048);
  ASSERT_EQ(c.size(), 7u); // constants are not ops with work
  // q_proj: 2·ic·oc·B·s; ic·oc·w_b + ic·B·s·a_b + oc·B·s·a_b.
  EXPECT_EQ(c[0].flops, 68719476736.0);
  EXPECT_EQ(c[0].weightBytes, 33554432.0);
  EXPECT_EQ(c[0].inputBytes, 16777216.0);
  EXPECT_EQ(c[0].outputBytes, 16777216.0);
  EXPECT_EQ(c[0].kind, WorkKind::Matmul);
  EXPECT_EQ(c[0].m, 2048);
  // Fused attention: QKᵀ and SV 2·B·n_h·s²·d each, softmax 5·B·n_h·s²;
  // Q, K, V, O cross memory.
  EXPECT_EQ(c[1].flops, 2 * 34359738368.0 + 671088640.0);
  EXPECT_EQ(c[1].kvReadBytes, 2 * 16777216.0);
  EXPECT_EQ(c[1].inputBytes + c[1].outputBytes, 2 * 16777216.0);
  // RMSNorm 7·B·s·h, in + out (+ the scale, a weight).
  EXPECT_EQ(c[2].flops, 58720256.0);
  EXPECT_EQ(c[2].inputBytes + c[2].outputBytes, 33554432.0);
  EXPECT_EQ(c[2].weightBytes, 8192.0);
  EXPECT_TRUE(c[2].rowReduction);
  // Residual add B·s·h.
  EXPECT_EQ(c[3].flops, 8388608.0);
  EXPECT_EQ(c[3].inputBytes + c[3].outputBytes, 3 * 16777216.0);
  // gate_proj and down_proj: 2·4096·11008·s.
  EXPECT_EQ(c[4].flops, 184683593728.0);
  EXPECT_EQ(c[6].flops, 184683593728.0);
  EXPECT_EQ(c[6].weightBytes, 90177536.0);
}

TEST_F(OpCostTest, DecodeMatchesLLMViewer) {
  ASSERT_TRUE(module);
  std::vector<OpCost> c = costs(1, 2048);
  // q_proj: 2·ic·oc·B, ic·oc·w_b + (ic + oc)·B·a_b; Op/B ≈ B = 1.
  EXPECT_EQ(c[0].flops, 33554432.0);
  EXPECT_EQ(c[0].bytes(), 33554432.0 + 8192 + 8192);
  EXPECT_NEAR(c[0].opsPerByte(), 1.0, 1e-3);
  // Attention: 2·2·B·n_h·s·d + 5·B·n_h·s; K and V of s tokens read; Op/B ≈
  // g_q = 1 for MHA.
  EXPECT_EQ(c[1].flops, 33554432.0 + 327680.0);
  EXPECT_EQ(c[1].kvReadBytes, 33554432.0);
  EXPECT_EQ(c[1].m, 1);
  EXPECT_EQ(c[1].n, 2048);
  EXPECT_EQ(c[1].batch, 32);
  EXPECT_NEAR(c[1].opsPerByte(), 1.0, 0.02);
  EXPECT_EQ(c[2].flops, 7.0 * 4096);
}

TEST_F(OpCostTest, WeightsTransposedAtCompileTimeAreStillWeights) {
  constexpr const char *text = R"mlir(
func.func @f(%x: tensor<8x64xf32>) -> tensor<8x32xf32> {
  %w = arith.constant dense<1.0> : tensor<64x32xf32>
  %e = tensor.empty() : tensor<32x64xf32>
  %t = linalg.transpose ins(%w : tensor<64x32xf32>) outs(%e : tensor<32x64xf32>) permutation = [1, 0]
  %y = llm.linear %x, %t : (tensor<8x64xf32>, tensor<32x64xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
)mlir";
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(text, &ctx);
  ASSERT_TRUE(m);
  auto func = *m->getOps<func::FuncOp>().begin();
  auto none = [](Value, int64_t) -> int64_t { return 0; };
  std::vector<Operation *> withWork;
  for (Operation &op : func.getBody().front().without_terminator())
    if (estimateOpCost(&op, none))
      withWork.push_back(&op);
  ASSERT_EQ(withWork.size(), 1u); // the transpose folds at compile time
  OpCost cost = *estimateOpCost(withWork[0], none);
  EXPECT_EQ(cost.weightBytes, 64 * 32 * 4.0);
  EXPECT_EQ(cost.inputBytes, 8 * 64 * 4.0);
}

TEST_F(OpCostTest, CausalMasksLeaveAFractionVisible) {
  constexpr const char *text = R"mlir(
func.func @f(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %q1: tensor<1x2x1x8xf32>) {
  %a = llm.attention %q, %k, %k {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %w = llm.attention %q, %k, %k {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64, sliding_window = 2 : i64}
      : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %d = llm.attention %q1, %k, %k {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x1x8xf32>
  return
}
)mlir";
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(text, &ctx);
  ASSERT_TRUE(m);
  auto func = *m->getOps<func::FuncOp>().begin();
  auto none = [](Value, int64_t) -> int64_t { return 0; };
  std::vector<double> fractions;
  for (Operation &op : func.getBody().front().without_terminator())
    fractions.push_back(estimateOpCost(&op, none)->visibleFraction);
  ASSERT_EQ(fractions.size(), 3u);
  EXPECT_DOUBLE_EQ(fractions[0], 10.0 / 16); // 1 + 2 + 3 + 4 of 4 x 4
  EXPECT_DOUBLE_EQ(fractions[1], 7.0 / 16);  // 1 + 2 + 2 + 2
  EXPECT_DOUBLE_EQ(fractions[2], 1.0);       // the last position sees all
}

} // namespace
