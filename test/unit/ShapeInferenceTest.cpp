//===- ShapeInferenceTest.cpp - builders infer llm result types -----------===//

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {

class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest() : builder(&ctx) {
    ctx.loadDialect<llm::LLMDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A block argument of the given shape (f32 unless `element` is given).
  Value arg(ArrayRef<int64_t> shape, Type element = {}) {
    if (!block) {
      auto fn = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                     builder.getFunctionType({}, {}));
      block = fn.addEntryBlock();
      builder.setInsertionPointToEnd(block);
    }
    Type type = RankedTensorType::get(
        shape, element ? element : Type(builder.getF32Type()));
    return block->addArgument(type, builder.getUnknownLoc());
  }

  RankedTensorType type(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  Block *block = nullptr;
  static constexpr int64_t kDyn = ShapedType::kDynamic;
};

TEST_F(ShapeInferenceTest, Linear) {
  Location loc = builder.getUnknownLoc();
  auto op = llm::LinearOp::create(builder, loc, arg({kDyn, 8, 64}),
                                  arg({176, 64}), arg({176}));
  EXPECT_EQ(op.getType(), type({kDyn, 8, 176}));
  EXPECT_TRUE(succeeded(verify(op)));
}

TEST_F(ShapeInferenceTest, LinearBiasMakesOutFeaturesStatic) {
  auto op = llm::LinearOp::create(builder, builder.getUnknownLoc(),
                                  arg({2, 64}), arg({kDyn, 64}), arg({176}));
  EXPECT_EQ(op.getType(), type({2, 176}));
}

TEST_F(ShapeInferenceTest, MatmulBroadcastsBatchDims) {
  auto op = llm::MatmulOp::create(builder, builder.getUnknownLoc(),
                                  arg({2, 1, 8, 16}), arg({4, 16, 5}));
  EXPECT_EQ(op.getType(), type({2, 4, 8, 5}));
}

TEST_F(ShapeInferenceTest, Embedding) {
  auto op =
      llm::EmbeddingOp::create(builder, builder.getUnknownLoc(), arg({256, 64}),
                               arg({kDyn, kDyn}, builder.getI64Type()));
  EXPECT_EQ(op.getType(), type({kDyn, kDyn, 64}));
}

TEST_F(ShapeInferenceTest, AttentionWithCacheInfersPresentShapes) {
  auto op = llm::AttentionOp::create(
      builder, builder.getUnknownLoc(), arg({1, 4, 1, 16}), arg({1, 2, 1, 16}),
      arg({1, 2, 1, 32}), /*mask=*/Value(), arg({1, 2, 7, 16}),
      arg({1, 2, 7, 32}), /*numHeads=*/4, /*numKvHeads=*/2, /*causal=*/true,
      /*scale=*/std::nullopt, /*slidingWindow=*/std::nullopt);
  EXPECT_EQ(op.getResult().getType(), type({1, 4, 1, 32}));
  ASSERT_EQ(op.getPresent().size(), 2u);
  EXPECT_EQ(op.getPresentKey().getType(), type({1, 2, 8, 16}));
  EXPECT_EQ(op.getPresentValue().getType(), type({1, 2, 8, 32}));
  EXPECT_TRUE(succeeded(verify(op)));
  ASSERT_TRUE(succeeded(op.getEffectiveScale()));
  EXPECT_FLOAT_EQ(*op.getEffectiveScale(), 0.25f);
}

TEST_F(ShapeInferenceTest, AttentionDynamicPastGivesDynamicTotal) {
  auto op = llm::AttentionOp::create(
      builder, builder.getUnknownLoc(), arg({kDyn, 4, 1, kDyn}),
      arg({kDyn, 2, 1, 16}), arg({kDyn, 2, 1, 16}), Value(),
      arg({kDyn, 2, kDyn, 16}), arg({kDyn, 2, kDyn, 16}), 4, 2, true,
      /*scale=*/0.5f, std::nullopt);
  EXPECT_EQ(op.getPresentKey().getType(), type({kDyn, 2, kDyn, 16}));
  EXPECT_FLOAT_EQ(*op.getEffectiveScale(), 0.5f);
}

TEST_F(ShapeInferenceTest, InvalidOperandsBuildAnOpTheVerifierRejects) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto op = llm::LinearOp::create(builder, builder.getUnknownLoc(), arg({2, 9}),
                                  arg({16, 8}));
  EXPECT_TRUE(failed(verify(op)));
  EXPECT_EQ(message, "'llm.linear' op input feature dimension (9) does not "
                     "match weight in_features (8)");
}

} // namespace
