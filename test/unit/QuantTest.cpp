//===- QuantTest.cpp - quantization arithmetic and scheme names -----------===//

#include "lib/Quant/BitMod.h"
#include "lib/Quant/GroupQuant.h"
#include "lib/Quant/Scheme.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace llmc::quant;

namespace {

// Weights of several shapes of distribution: uniform, Gaussian, Gaussian
// with outliers, and skewed to one side (where the asymmetric grids win).
std::vector<float> weights(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> w(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float &x = w[r * cols + c];
      switch (r % 4) {
      case 0:
        x = uniform(gen);
        break;
      case 1:
        x = normal(gen);
        break;
      case 2:
        x = normal(gen) * (c % 37 == 0 ? 8.0f : 1.0f);
        break;
      default:
        x = std::fabs(normal(gen)) * (r % 8 == 3 ? 1.0f : -1.0f) + 0.3f;
      }
    }
  return w;
}

TEST(BitMod, GridsAreSixteenSortedValuesWithOneSpecialValue) {
  const float specials[] = {10, -10, 16, -16};
  for (int d = 0; d < kBitModDatatypes; ++d) {
    const auto &grid = bitModGrids(4)[d];
    EXPECT_TRUE(std::is_sorted(grid.begin(), grid.end()));
    EXPECT_EQ(grid.size(), 16u);
    EXPECT_EQ(std::set<float>(grid.begin(), grid.end()).size(), 16u);
    EXPECT_NE(std::find(grid.begin(), grid.end(), specials[d]), grid.end());
    for (float base : {0.0f, 1.0f, -3.0f, 6.0f, -8.0f, 12.0f, -12.0f})
      EXPECT_NE(std::find(grid.begin(), grid.end(), base), grid.end());
  }
}

// FP3: {0, ±1, ±2, ±4} and one of +3, −3, +6, −6.
TEST(BitMod, ThreeBitGridsAreEightSortedValuesWithOneSpecialValue) {
  const float specials[] = {3, -3, 6, -6};
  for (int d = 0; d < kBitModDatatypes; ++d) {
    const auto &grid = bitModGrids(3)[d];
    EXPECT_TRUE(std::is_sorted(grid.begin(), grid.end()));
    EXPECT_EQ(grid.size(), 8u);
    EXPECT_EQ(std::set<float>(grid.begin(), grid.end()).size(), 8u);
    EXPECT_NE(std::find(grid.begin(), grid.end(), specials[d]), grid.end());
    for (float base : {0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 4.0f, -4.0f})
      EXPECT_NE(std::find(grid.begin(), grid.end(), base), grid.end());
  }
}

// The requirement: per group, the chosen datatype's error (of the
// codes and scale actually stored) is at most that of every single one.
void checkChoiceNeverWorse(int bits) {
  constexpr int64_t rows = 32, cols = 256, group = 64;
  std::vector<float> w = weights(rows, cols, 1);
  BitModQuantized q = quantizeBitMod(w.data(), rows, cols, group, bits);
  ASSERT_EQ(q.codes.size(), static_cast<size_t>(rows * cols * bits / 8));
  std::set<int> chosen;
  for (int64_t n = 0; n < rows; ++n)
    for (int64_t g = 0; g < cols / group; ++g) {
      double stored = 0.0;
      for (int64_t i = 0; i < group; ++i) {
        double d = static_cast<double>(q.dequantized(n, g * group + i)) -
                   w[n * cols + g * group + i];
        stored += d * d;
      }
      stored /= group;
      for (int d = 0; d < kBitModDatatypes; ++d) {
        float scale;
        double single =
            bitModGroupError(&w[n * cols + g * group], group, bits, d, scale);
        EXPECT_LE(stored, single)
            << bits << "-bit row " << n << " group " << g << " datatype " << d;
      }
      chosen.insert(q.datatypes[n * (cols / group) + g]);
    }
  // The distributions above make more than one datatype win somewhere.
  EXPECT_GE(chosen.size(), 2u);
}

TEST(BitMod, PerGroupChoiceIsNeverWorseThanAnySingleDatatype) {
  checkChoiceNeverWorse(4);
}

TEST(BitMod, ThreeBitPerGroupChoiceIsNeverWorseThanAnySingleDatatype) {
  checkChoiceNeverWorse(3);
}

// 3-bit codes are a bit stream: code k at bit 3k of its row, 8 codes in 3
// bytes, some running across a byte boundary.
TEST(BitMod, ThreeBitCodesFormABitStream) {
  GroupQuantized q;
  q.rows = 2;
  q.cols = 8;
  q.bits = 3;
  q.groupSize = 8;
  q.codes.assign(2 * 3, 0);
  for (int64_t k = 0; k < 8; ++k)
    q.putCode(1, k, static_cast<uint8_t>(7 - k));
  // Σ (7 − k)·8^k = 0x053977, little-endian; codes 2 and 5 cross bytes.
  EXPECT_EQ(q.codes[0], 0);
  EXPECT_EQ(q.codes[3], 0x77);
  EXPECT_EQ(q.codes[4], 0x39);
  EXPECT_EQ(q.codes[5], 0x05);
  for (int64_t k = 0; k < 8; ++k)
    EXPECT_EQ(q.code(1, k), 7 - k) << k;
}

TEST(BitMod, CodesIndexTheGridAndTheScaleFitsTheLargestWeight) {
  const float w[8] = {0.5f, -1.0f, 2.0f, -4.0f, 6.0f, 0.0f, 12.0f, -3.0f};
  float scale;
  uint8_t codes[8];
  bitModGroupError(w, 8, 4, 0, scale, codes); // er_pos: max |grid| = 12
  EXPECT_EQ(scale, 1.0f);
  const auto &grid = bitModGrids(4)[0];
  // 0.5 is the midpoint of 0 and 1: ties go to the lower value.
  const float expected[8] = {0, -1, 2, -4, 6, 0, 12, -3};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(grid[codes[i]], expected[i]) << i;
}

TEST(Ternary, CodesAreMinusOneZeroOneAroundTwoWithTheAbsMeanScale) {
  std::vector<float> w = weights(8, 64, 2);
  GroupQuantized q = quantizeTernary(w.data(), 8, 64);
  double sum = 0.0;
  for (float x : w)
    sum += std::fabs(x);
  float gamma = static_cast<float>(sum / w.size());
  for (int64_t n = 0; n < 8; ++n) {
    EXPECT_EQ(q.scales[n], gamma);
    for (int64_t k = 0; k < 64; ++k) {
      int t = q.code(n, k) - 2;
      EXPECT_EQ(t, std::clamp<long>(std::lround(w[n * 64 + k] / gamma), -1, 1));
    }
  }
}

TEST(Scheme, NamesMapToPassOptions) {
  NamedScheme s;
  std::string error;
  ASSERT_TRUE(parseScheme("w8a8", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=8 group-size=-1 asymmetric=false "
                            "activations=8");
  ASSERT_TRUE(parseScheme("w4a8-g64-asym", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=4 group-size=64 asymmetric=true "
                            "activations=8");
  ASSERT_TRUE(parseScheme("int2-pc-a8", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=2 group-size=0 asymmetric=false "
                            "activations=8");
  ASSERT_TRUE(parseScheme("ternary", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=ternary activations=8");
  ASSERT_TRUE(parseScheme("bitmod4-g32", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=bitmod bits=4 group-size=32 "
                            "activations=8");
  ASSERT_TRUE(parseScheme("bitmod3", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=bitmod bits=3 group-size=-1 "
                            "activations=8");
  EXPECT_FALSE(parseScheme("bitmod4-asym", s, error));
  EXPECT_NE(error.find("unknown part 'asym'"), std::string::npos) << error;
  EXPECT_FALSE(parseScheme("bitmod2", s, error));
  EXPECT_FALSE(parseScheme("int3", s, error));
  EXPECT_NE(error.find("int3-a8"), std::string::npos) << error;
  ASSERT_TRUE(parseScheme("int3-g64-asym-a8", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=3 group-size=64 asymmetric=true "
                            "activations=8");
  EXPECT_FALSE(parseScheme("int3-lut", s, error));
  EXPECT_NE(error.find("not 3-bit"), std::string::npos) << error;
  EXPECT_FALSE(parseScheme("ternary-g64", s, error));
}

TEST(Scheme, KVCachePartsMapToPassOptions) {
  NamedScheme s;
  std::string error;
  ASSERT_TRUE(parseScheme("kv8", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=none kv=8");
  ASSERT_TRUE(parseScheme("kv4", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=none kv=4");
  ASSERT_TRUE(parseScheme("w4a8-kv8", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=4 group-size=-1 asymmetric=false "
                            "activations=8 kv=8");
  ASSERT_TRUE(parseScheme("ternary-kv4", s, error)) << error;
  EXPECT_EQ(passOptions(s), "weights=ternary activations=8 kv=4");
  ASSERT_TRUE(parseScheme("int4-g64-asym-kv4", s, error)) << error;
  EXPECT_EQ(passOptions(s), "bits=4 group-size=64 asymmetric=true "
                            "activations=0 kv=4");
  EXPECT_FALSE(parseScheme("kv2", s, error));
  EXPECT_FALSE(parseScheme("int8-kv2", s, error));
  EXPECT_NE(error.find("unknown part 'kv2'"), std::string::npos) << error;
  EXPECT_FALSE(parseScheme("kv8-int8", s, error));
}

// -lut selects the lookup-table kernels: int8 activations, the same
// weights (pass options) as -a8.
TEST(Scheme, LookupTablePartSelectsKernels) {
  NamedScheme s;
  std::string error;
  ASSERT_TRUE(parseScheme("int2-lut", s, error)) << error;
  EXPECT_TRUE(s.lookupTables);
  EXPECT_EQ(passOptions(s), "bits=2 group-size=-1 asymmetric=false "
                            "activations=8");
  ASSERT_TRUE(parseScheme("ternary-lut-kv8", s, error)) << error;
  EXPECT_TRUE(s.lookupTables);
  EXPECT_EQ(passOptions(s), "weights=ternary activations=8 kv=8");
  ASSERT_TRUE(parseScheme("w4a8-g32-lut", s, error)) << error;
  EXPECT_TRUE(s.lookupTables);
  ASSERT_TRUE(parseScheme("int2-a8", s, error)) << error;
  EXPECT_FALSE(s.lookupTables);
  EXPECT_FALSE(parseScheme("int8-lut", s, error));
  EXPECT_NE(error.find("2- or 4-bit"), std::string::npos) << error;
  EXPECT_FALSE(parseScheme("int4-g8-lut", s, error));
  EXPECT_NE(error.find("multiple of 16"), std::string::npos) << error;
  EXPECT_FALSE(parseScheme("bitmod4-lut", s, error));
}

} // namespace
