//===- MoeBalanceTest.cpp - routing loads and the imbalance score ---------===//

#include "lib/Analysis/MoeBalance.h"

#include <gtest/gtest.h>

#include <random>

using llmc::route;

TEST(MoeBalance, MogeIsBalancedByConstructionTopKIsNot) {
  // 4 experts in 2 groups; every token prefers experts 0 and 1 (group 0).
  int64_t tokens = 6, experts = 4;
  std::vector<float> logits;
  for (int64_t t = 0; t < tokens; ++t)
    for (float v : {3.0f, 2.0f, 1.0f, 0.5f})
      logits.push_back(v + 0.01f * t);
  llmc::Routing topk = route(logits, tokens, experts, 2, 1, 2);
  EXPECT_EQ(topk.expertLoad, (std::vector<int64_t>{6, 6, 0, 0}));
  EXPECT_EQ(topk.groupLoad, (std::vector<int64_t>{12, 0}));
  EXPECT_DOUBLE_EQ(topk.imbalance, 12.0 / 6);
  llmc::Routing moge = route(logits, tokens, experts, 2, 2, 2);
  EXPECT_EQ(moge.expertLoad, (std::vector<int64_t>{6, 0, 6, 0}));
  EXPECT_EQ(moge.groupLoad, (std::vector<int64_t>{6, 6}));
  EXPECT_DOUBLE_EQ(moge.imbalance, 0.0);
}

TEST(MoeBalance, MogeGroupLoadsAreAlwaysTokensTimesK) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  int64_t tokens = 50, experts = 16, groups = 4, kPerGroup = 2;
  std::vector<float> logits(tokens * experts);
  for (float &v : logits)
    v = dist(rng);
  llmc::Routing moge =
      route(logits, tokens, experts, groups * kPerGroup, groups, groups);
  for (int64_t load : moge.groupLoad)
    EXPECT_EQ(load, tokens * kPerGroup);
  EXPECT_DOUBLE_EQ(moge.imbalance, 0.0);
}

TEST(MoeBalance, TiesGoToTheLowerExpert) {
  std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f};
  llmc::Routing r = route(logits, 1, 4, 1, 1, 2);
  EXPECT_EQ(r.expertLoad, (std::vector<int64_t>{1, 0, 0, 0}));
}
