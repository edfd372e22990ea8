//===- HostEvalTest.cpp - host evaluation against plain references --------===//

#include "lib/Import/HostEval.h"

#include <gtest/gtest.h>

#include <vector>

using namespace llmc::onnx_import;

namespace {

HostTensor iota(DType dtype, llvm::ArrayRef<int64_t> shape) {
  HostTensor t = HostTensor::zeros(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.setDouble(i, static_cast<double>(i));
  return t;
}

std::vector<double> values(const HostTensor &t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i)
    out.push_back(t.getDouble(i));
  return out;
}

TEST(HostTensor, ConvertsEveryElementType) {
  for (DType dtype :
       {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64, DType::I32,
        DType::I16, DType::I8, DType::U8}) {
    HostTensor t = HostTensor::zeros(dtype, {3});
    t.setDouble(0, 1.0);
    t.setDouble(1, 2.0);
    t.setDouble(2, 100.0);
    EXPECT_EQ(values(t), (std::vector<double>{1.0, 2.0, 100.0}))
        << dtypeName(dtype);
  }
  HostTensor b = HostTensor::zeros(DType::Bool, {2});
  b.setInt(1, 7);
  EXPECT_EQ(b.getInt(0), 0);
  EXPECT_EQ(b.getInt(1), 1);
}

TEST(HostEval, BroadcastVisitsLikeNestedLoops) {
  HostTensor a = iota(DType::F32, {2, 1, 3}), b = iota(DType::F32, {4, 1});
  std::vector<std::pair<int64_t, int64_t>> seen;
  forEachBroadcast({&a, &b}, {2, 4, 3},
                   [&](int64_t o, llvm::ArrayRef<int64_t> in) {
                     seen.push_back({in[0], in[1]});
                     EXPECT_EQ(o, static_cast<int64_t>(seen.size()) - 1);
                   });
  std::vector<std::pair<int64_t, int64_t>> expected;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t k = 0; k < 3; ++k)
        expected.push_back({i * 3 + k, j});
  EXPECT_EQ(seen, expected);
}

TEST(HostEval, GatherAlongAnAxis) {
  HostTensor data = iota(DType::F32, {3, 4});
  HostTensor idx = HostTensor::zeros(DType::I64, {2});
  idx.setInt(0, 2);
  idx.setInt(1, -4 + 4); // 0
  HostTensor rows = gatherHost(data, 0, idx);
  EXPECT_EQ(rows.shape(), (llvm::ArrayRef<int64_t>{2, 4}));
  EXPECT_EQ(values(rows), (std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3}));
  HostTensor cols = gatherHost(data, 1, idx.reshaped({2}));
  EXPECT_EQ(values(cols), (std::vector<double>{2, 0, 6, 4, 10, 8}));
}

TEST(HostEval, SliceWithStepsIncludingNegative) {
  HostTensor data = iota(DType::I64, {2, 6});
  HostTensor s = sliceHost(data, {0, 5}, {1, -2}, {2, 3});
  EXPECT_EQ(values(s), (std::vector<double>{5, 3, 1, 11, 9, 7}));
}

TEST(HostEval, TransposeMatchesIndexArithmetic) {
  HostTensor data = iota(DType::F32, {2, 3, 4});
  HostTensor t = transposeHost(data, {2, 0, 1});
  ASSERT_EQ(t.shape(), (llvm::ArrayRef<int64_t>{4, 2, 3}));
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c)
        EXPECT_EQ(t.getDouble((a * 2 + b) * 3 + c),
                  data.getDouble((b * 3 + c) * 4 + a));
}

TEST(HostEval, ConcatAlongInnerAxis) {
  HostTensor a = iota(DType::F32, {2, 1}), b = iota(DType::F32, {2, 2});
  HostTensor c = concatHost({&a, &b}, 1);
  EXPECT_EQ(values(c), (std::vector<double>{0, 0, 1, 1, 2, 3}));
}

TEST(HostEval, CastTruncatesTowardZeroAndMakesBools) {
  HostTensor f = HostTensor::zeros(DType::F32, {3});
  f.setDouble(0, -1.7);
  f.setDouble(1, 0.0);
  f.setDouble(2, 2.9);
  EXPECT_EQ(values(castHost(f, DType::I64)), (std::vector<double>{-1, 0, 2}));
  EXPECT_EQ(values(castHost(f, DType::Bool)), (std::vector<double>{1, 0, 1}));
}

} // namespace
