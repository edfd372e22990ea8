//===- CpuKernelsTest.cpp - compiled CPU kernels against plain references ===//
//
// Compiles small llm-dialect functions through the whole CPU pipeline
// (function mode), runs them through the runtime and compares with plain
// C++ loops: the fused attention (grouped-query heads, causal, sliding
// window, an additive mask that hides a whole row) and the register-tiled
// linear layer (row counts that leave a partial tile, several panels).
//
//===----------------------------------------------------------------------===//

#include "lib/Quant/BitMod.h"
#include "lib/Quant/GroupQuant.h"
#include "llmc-c/Compiler.h"
#include "llmc/runtime.h"
#include "runtime/KVCodes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// Compiles `source` (a module with @main) in function mode, with
/// `--quantize=quantize` and `--mattr=features` when given, into an open
/// artifact (null after a test failure).
llmc_artifact *compileArtifact(const std::string &source,
                               const char *quantize = nullptr,
                               const char *features = nullptr) {
  LlmcCompileOptions options;
  llmcCompileOptionsInit(&options);
  options.mode = "function";
  options.quantize = quantize;
  options.features = features;
  void *bytes = nullptr;
  size_t size = 0;
  char *diagnostics = nullptr;
  int rc = llmcCompileBuffer(source.data(), source.size(), "kernel.mlir",
                             nullptr, &options, &bytes, &size, &diagnostics);
  EXPECT_EQ(rc, 0) << (diagnostics ? diagnostics : "");
  llmcFree(diagnostics);
  llmc_artifact *artifact = nullptr;
  if (rc == 0)
    EXPECT_EQ(llmc_artifact_open_buffer(bytes, size, &artifact), LLMC_OK)
        << llmc_last_error();
  llmcFree(bytes);
  return artifact;
}

/// Compiles `source` and runs its @main on `buffers` (inputs, then
/// outputs) with `shapes`.
void compileAndCall(const std::string &source,
                    const std::vector<void *> &buffers,
                    const std::vector<std::vector<int64_t>> &shapes,
                    const char *quantize = nullptr,
                    const char *features = nullptr) {
  llmc_artifact *artifact = compileArtifact(source, quantize, features);
  ASSERT_TRUE(artifact);
  std::vector<const int64_t *> shapePointers;
  for (const auto &s : shapes)
    shapePointers.push_back(s.data());
  EXPECT_EQ(llmc_artifact_call(artifact, "main", buffers.data(),
                               shapePointers.data()),
            LLMC_OK)
      << llmc_last_error();
  llmc_artifact_close(artifact);
}

// Two artifacts open at once each run their own code: the runtime loads
// each one's code under its own name (a reused /proc/self/fd path made
// dlopen hand the second artifact the first one's code).
TEST(CpuKernels, TwoArtifactsOpenAtOnceRunTheirOwnCode) {
  auto scaled = [](int factor) {
    return "func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
           "  %c = arith.constant dense<" +
           std::to_string(factor) +
           ".0> : tensor<4xf32>\n"
           "  %y = arith.mulf %x, %c : tensor<4xf32>\n"
           "  return %y : tensor<4xf32>\n}\n";
  };
  llmc_artifact *twice = compileArtifact(scaled(2));
  llmc_artifact *thrice = compileArtifact(scaled(3));
  ASSERT_TRUE(twice && thrice);
  std::vector<float> x = {1, 2, 3, 4}, y2(4), y3(4);
  std::vector<int64_t> shape = {4};
  const int64_t *shapes[] = {shape.data(), shape.data()};
  void *buffers2[] = {x.data(), y2.data()};
  void *buffers3[] = {x.data(), y3.data()};
  EXPECT_EQ(llmc_artifact_call(thrice, "main", buffers3, shapes), LLMC_OK);
  EXPECT_EQ(llmc_artifact_call(twice, "main", buffers2, shapes), LLMC_OK);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(y2[i], 2 * x[i]);
    EXPECT_EQ(y3[i], 3 * x[i]);
  }
  llmc_artifact_close(twice);
  llmc_artifact_close(thrice);
}

/// Deterministic values in [-1, 1).
std::vector<float> values(size_t n, unsigned seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (float &x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / static_cast<float>(1 << 23) - 1.0f;
  }
  return v;
}

/// An f32 tensor type, "tensor<AxBxf32>".
std::string tensorType(std::initializer_list<int64_t> dims) {
  std::string t = "tensor<";
  for (int64_t d : dims)
    t += std::to_string(d) + "x";
  return t + "f32>";
}

/// A tensor type of `element`, "tensor<AxBx{element}>".
std::string tensorType(std::initializer_list<int64_t> dims,
                       const char *element) {
  std::string t = tensorType(dims);
  return t.substr(0, t.size() - 4) + element + ">";
}

/// Compiles llm.attention (2 sequences, Hq query heads on Hkv KV heads, head
/// dim 16, causal with a sliding window, scale 0.3, an additive mask of
/// shape [2, 1, maskRows, S]) and compares it with plain loops. `hide`
/// sets mask entries (b, row, j) to -inf. With `kvBits` 8 or 4 the keys
/// and values come in as codes and scales through llm.kv_dequantize (the
/// fused attention reads the codes), quantized here by the runtime's
/// codec, and the reference uses the dequantized values.
void checkAttention(int64_t T, int64_t S, int64_t W, int64_t maskRows,
                    const std::vector<std::array<int64_t, 3>> &hide,
                    int64_t kvBits = 32, int64_t Hq = 4, int64_t Hkv = 2,
                    bool transposeOut = false) {
  constexpr int64_t B = 2, D = 16;
  const float scale = 0.3f;
  bool quantized = kvBits != 32;
  std::string qt = tensorType({B, Hq, T, D}), kt = tensorType({B, Hkv, S, D}),
              mt = tensorType({B, 1, maskRows, S}),
              ct = tensorType({B, Hkv, S, D * kvBits / 8}, "i8"),
              st = tensorType({B, Hkv, S});
  std::string bits = std::to_string(kvBits);
  // With transposeOut the output is returned as [B, T, Hq, D] through a
  // transpose, which the fused attention writes directly.
  std::string ot = transposeOut ? tensorType({B, T, Hq, D}) : qt;
  std::string source =
      quantized
          ? "func.func @main(%q: " + qt + ", %kc: " + ct + ", %ks: " + st +
                ", %vc: " + ct + ", %vs: " + st + ", %m: " + mt + ") -> " + ot +
                " {\n  %k = llm.kv_dequantize %kc, %ks bits(" + bits + ") : (" +
                ct + ", " + st + ") -> " + kt +
                "\n  %v = llm.kv_dequantize %vc, %vs bits(" + bits + ") : (" +
                ct + ", " + st + ") -> " + kt + "\n"
          : "func.func @main(%q: " + qt + ", %k: " + kt + ", %v: " + kt +
                ", %m: " + mt + ") -> " + ot + " {\n";
  source += "  %o = llm.attention %q, %k, %v mask(%m) {causal, "
            "num_heads = " +
            std::to_string(Hq) +
            " : i64, num_kv_heads = " + std::to_string(Hkv) +
            " : i64, scale = "
            "0.3 : f32, sliding_window = " +
            std::to_string(W) + " : i64} : (" + qt + ", " + kt + ", " + kt +
            ", " + mt + ") -> " + qt + "\n";
  if (transposeOut)
    source += "  %e = tensor.empty() : " + ot +
              "\n  %t = linalg.transpose ins(%o : " + qt + ") outs(%e : " + ot +
              ") permutation = [0, 2, 1, 3]\n  return %t : " + ot + "\n}\n";
  else
    source += "  return %o : " + qt + "\n}\n";
  std::vector<int64_t> outShape = transposeOut
                                      ? std::vector<int64_t>{B, T, Hq, D}
                                      : std::vector<int64_t>{B, Hq, T, D};
  std::vector<float> q = values(B * Hq * T * D, 1),
                     k = values(B * Hkv * S * D, 2),
                     v = values(B * Hkv * S * D, 3),
                     mask = values(B * maskRows * S, 4);
  const float inf = std::numeric_limits<float>::infinity();
  for (auto [b, row, j] : hide)
    mask[(b * maskRows + row) * S + j] = -inf;
  std::vector<float> out(B * Hq * T * D, 42.0f);
  if (!quantized) {
    ASSERT_NO_FATAL_FAILURE(compileAndCall(
        source, {q.data(), k.data(), v.data(), mask.data(), out.data()},
        {{B, Hq, T, D},
         {B, Hkv, S, D},
         {B, Hkv, S, D},
         {B, 1, maskRows, S},
         outShape}));
  } else {
    int64_t rowBytes = D * kvBits / 8;
    std::vector<int8_t> kc(B * Hkv * S * rowBytes), vc(kc.size());
    std::vector<float> ks(B * Hkv * S), vs(ks.size());
    for (int64_t r = 0; r < B * Hkv * S; ++r) {
      llmc::runtime::quantizeKVRow(&k[r * D], D, kvBits, &kc[r * rowBytes],
                                   &ks[r]);
      llmc::runtime::quantizeKVRow(&v[r * D], D, kvBits, &vc[r * rowBytes],
                                   &vs[r]);
      // The reference attends to what the cache holds.
      llmc::runtime::dequantizeKVRow(&kc[r * rowBytes], ks[r], D, kvBits,
                                     &k[r * D]);
      llmc::runtime::dequantizeKVRow(&vc[r * rowBytes], vs[r], D, kvBits,
                                     &v[r * D]);
    }
    ASSERT_NO_FATAL_FAILURE(
        compileAndCall(source,
                       {q.data(), kc.data(), ks.data(), vc.data(), vs.data(),
                        mask.data(), out.data()},
                       {{B, Hq, T, D},
                        {B, Hkv, S, rowBytes},
                        {B, Hkv, S},
                        {B, Hkv, S, rowBytes},
                        {B, Hkv, S},
                        {B, 1, maskRows, S},
                        outShape}));
  }

  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < T; ++i) {
        int64_t kh = h / (Hq / Hkv), last = i + (S - T);
        int64_t maskRow = maskRows == 1 ? 0 : i;
        std::vector<double> s(S, -inf);
        double max = -inf;
        for (int64_t j = 0; j < S; ++j) {
          if (j > last || j <= last - W)
            continue;
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += q[((b * Hq + h) * T + i) * D + d] *
                   k[((b * Hkv + kh) * S + j) * D + d];
          s[j] = dot * scale + mask[(b * maskRows + maskRow) * S + j];
          max = std::max(max, s[j]);
        }
        for (int64_t e = 0; e < D; ++e) {
          double num = 0, den = 0;
          for (int64_t j = 0; j < S; ++j) {
            if (s[j] == -inf)
              continue;
            double p = std::exp(s[j] - max);
            den += p;
            num += p * v[((b * Hkv + kh) * S + j) * D + e];
          }
          double expected = den > 0 ? num / den : 0.0;
          int64_t at = transposeOut ? ((b * T + i) * Hq + h) * D + e
                                    : ((b * Hq + h) * T + i) * D + e;
          ASSERT_NEAR(out[at], expected, 1e-5)
              << "T=" << T << " b=" << b << " h=" << h << " i=" << i
              << " e=" << e;
        }
      }
}

// A mask per query row: the one-row-at-a-time kernel. Batch 1, row 2 has
// every key hidden (zeros); batch 0, row 4 loses one visible key.
TEST(CpuKernels, AttentionWithPerRowMaskMatchesReference) {
  std::vector<std::array<int64_t, 3>> hide = {{0, 4, 7}};
  for (int64_t j = 0; j < 9; ++j)
    hide.push_back({1, 2, j});
  checkAttention(/*T=*/5, /*S=*/9, /*W=*/4, /*maskRows=*/5, hide);
}

// A mask shared by the rows: 37 rows are two blocks of 16 (vectorised
// across rows) and 5 single rows; the window (9) and causality cut inside
// blocks. Batch 1 has every key hidden (all rows zeros).
TEST(CpuKernels, AttentionBlocksMatchReference) {
  std::vector<std::array<int64_t, 3>> hide = {{0, 0, 20}, {0, 0, 39}};
  for (int64_t j = 0; j < 41; ++j)
    hide.push_back({1, 0, j});
  checkAttention(/*T=*/37, /*S=*/41, /*W=*/9, /*maskRows=*/1, hide);
}

// The fused attention reading int8 / int4 KV cache codes directly (rows
// one at a time with a per-row mask; blocks of 16 rows with a shared one)
// against attention over the dequantized values.
TEST(CpuKernels, AttentionOverInt8KVCodesMatchesReference) {
  checkAttention(/*T=*/5, /*S=*/9, /*W=*/4, /*maskRows=*/5, {{1, 2, 3}}, 8);
  checkAttention(/*T=*/37, /*S=*/41, /*W=*/9, /*maskRows=*/1, {{0, 0, 20}}, 8);
}

TEST(CpuKernels, AttentionOverInt4KVCodesMatchesReference) {
  checkAttention(/*T=*/5, /*S=*/9, /*W=*/4, /*maskRows=*/5, {{1, 2, 3}}, 4);
  checkAttention(/*T=*/37, /*S=*/41, /*W=*/9, /*maskRows=*/1, {{0, 0, 20}}, 4);
}

// Query heads sharing a KV head go through the one-row kernel together,
// up to four at a time: 8 heads on one KV head (two chunks of four), 6 on
// two (three per chunk), with f32 and int4 keys and values.
TEST(CpuKernels, AttentionSharingKVHeadsMatchesReference) {
  for (int64_t bits : {32, 4}) {
    checkAttention(/*T=*/3, /*S=*/9, /*W=*/5, /*maskRows=*/3, {{1, 2, 8}}, bits,
                   /*Hq=*/8, /*Hkv=*/1);
    checkAttention(/*T=*/2, /*S=*/7, /*W=*/7, /*maskRows=*/1, {{0, 0, 6}}, bits,
                   /*Hq=*/6, /*Hkv=*/2);
  }
}

// The output read back through a [B, H, T, D] -> [B, T, H, D] transpose
// (as before an output projection) is written in that layout by the fused
// kernel: blocks of rows, single rows, heads sharing a KV head, int8 codes.
TEST(CpuKernels, AttentionWrittenTransposedMatchesReference) {
  checkAttention(/*T=*/37, /*S=*/41, /*W=*/9, /*maskRows=*/1, {{0, 0, 20}}, 32,
                 4, 2, /*transposeOut=*/true);
  checkAttention(/*T=*/5, /*S=*/9, /*W=*/4, /*maskRows=*/5, {{1, 2, 3}}, 8, 4,
                 2, /*transposeOut=*/true);
  checkAttention(/*T=*/3, /*S=*/9, /*W=*/5, /*maskRows=*/3, {{1, 2, 8}}, 32, 8,
                 1, /*transposeOut=*/true);
}

/// The types of rows [B, H, T, D] f32, their `bits`-bit codes and their
/// scales [B, H, T].
std::array<std::string, 3> kvTypes(int64_t B, int64_t H, int64_t T, int64_t D,
                                   int64_t bits) {
  return {tensorType({B, H, T, D}), tensorType({B, H, T, D * bits / 8}, "i8"),
          tensorType({B, H, T})};
}

/// llm.kv_quantize compiled for the CPU against the runtime's codec (which
/// load_kv uses), bit for bit: codes and scales. Rows include an all-zero
/// one (scale 0, codes 0) and exact halves (ties round to even).
void checkKVQuantize(int64_t bits) {
  constexpr int64_t B = 1, H = 2, T = 3, D = 16;
  int64_t rowBytes = D * bits / 8;
  auto [xt, ct, st] = kvTypes(B, H, T, D, bits);
  std::string source = "func.func @main(%x: " + xt + ") -> (" + ct + ", " + st +
                       ") {\n  %c, %s = llm.kv_quantize %x bits(" +
                       std::to_string(bits) + ") : " + xt + " -> " + ct + ", " +
                       st + "\n  return %c, %s : " + ct + ", " + st + "\n}\n";
  std::vector<float> x = values(B * H * T * D, 7);
  std::fill(x.begin() + D, x.begin() + 2 * D, 0.0f);
  // Row 2: max 1, so s = 1/qmax and x = (k + 0.5)·s are ties.
  float qmax = float((1 << (bits - 1)) - 1);
  for (int64_t d = 0; d < D; ++d)
    x[2 * D + d] = d == 0 ? 1.0f : (float(d % 5) - 2.5f) / qmax;
  std::vector<int8_t> codes(B * H * T * rowBytes, 99),
      expectedCodes(codes.size());
  std::vector<float> scales(B * H * T, 42.0f), expectedScales(scales.size());
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), codes.data(), scales.data()},
                     {{B, H, T, D}, {B, H, T, rowBytes}, {B, H, T}}));
  for (int64_t r = 0; r < B * H * T; ++r)
    llmc::runtime::quantizeKVRow(
        &x[r * D], D, bits, &expectedCodes[r * rowBytes], &expectedScales[r]);
  EXPECT_EQ(codes, expectedCodes);
  EXPECT_EQ(scales, expectedScales);
  EXPECT_EQ(scales[1], 0.0f);
}

/// llm.kv_dequantize on its own (the generic, not folded into attention)
/// against the runtime's codec, bit for bit.
void checkKVDequantize(int64_t bits) {
  constexpr int64_t B = 2, H = 1, T = 3, D = 8;
  int64_t rowBytes = D * bits / 8;
  auto [xt, ct, st] = kvTypes(B, H, T, D, bits);
  std::string source = "func.func @main(%c: " + ct + ", %s: " + st + ") -> " +
                       xt +
                       " {\n  %x = llm.kv_dequantize %c, %s "
                       "bits(" +
                       std::to_string(bits) + ") : (" + ct + ", " + st +
                       ") -> " + xt + "\n  return %x : " + xt + "\n}\n";
  std::vector<int8_t> codes(B * H * T * rowBytes);
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<int8_t>(i * 37 + 11); // every nibble, both signs
  std::vector<float> scales = values(B * H * T, 9), out(B * H * T * D, 42.0f),
                     expected(out.size());
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {codes.data(), scales.data(), out.data()},
                     {{B, H, T, rowBytes}, {B, H, T}, {B, H, T, D}}));
  for (int64_t r = 0; r < B * H * T; ++r)
    llmc::runtime::dequantizeKVRow(&codes[r * rowBytes], scales[r], D, bits,
                                   &expected[r * D]);
  EXPECT_EQ(out, expected);
}

TEST(CpuKernels, KVDequantizeMatchesRuntimeCodecBitForBit) {
  checkKVDequantize(8);
  checkKVDequantize(4);
}

TEST(CpuKernels, Int8KVQuantizeMatchesRuntimeCodecBitForBit) {
  checkKVQuantize(8);
}

TEST(CpuKernels, Int4KVQuantizeMatchesRuntimeCodecBitForBit) {
  checkKVQuantize(4);
}

/// "%name = arith.constant dense<...> : type" for a [rows] or [rows, cols]
/// tensor (cols = 0: one dimension).
std::string constant(const char *name, const std::vector<float> &data,
                     int64_t rows, int64_t cols = 0) {
  std::ostringstream os;
  os.precision(9);
  os << "  %" << name << " = arith.constant dense<[";
  for (int64_t r = 0; r < rows; ++r) {
    if (cols == 0) {
      os << (r ? ", " : "") << data[r];
      continue;
    }
    os << (r ? ", [" : "[");
    for (int64_t c = 0; c < cols; ++c)
      os << (c ? ", " : "") << data[r * cols + c];
    os << "]";
  }
  os << "]> : " << (cols ? tensorType({rows, cols}) : tensorType({rows}))
     << "\n";
  return os.str();
}

/// y [M, N] against x [M, K] W^T [K, N] + b, in double precision.
void expectLinear(const std::vector<float> &y, const std::vector<float> &x,
                  const std::vector<float> &w, const std::vector<float> &b,
                  int64_t M, int64_t K, int64_t N) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double expected = b[n];
      for (int64_t k = 0; k < K; ++k)
        expected += static_cast<double>(x[m * K + k]) * w[n * K + k];
      ASSERT_NEAR(y[m * N + n], expected, 1e-5)
          << "M=" << M << " K=" << K << " N=" << N << " m=" << m << " n=" << n;
    }
}

/// A linear layer y = x W^T + b with a constant W [N, K], its inputs and
/// its compiled output.
struct LinearRun {
  std::vector<float> w, bias, x, y;
};

/// Compiles y = x W^T + b (weights quantized with `--quantize=scheme` when
/// given) and runs it on deterministic values.
void runLinear(int64_t M, int64_t K, int64_t N, const char *scheme,
               LinearRun &run, const char *features = nullptr) {
  run.w = values(N * K, 5);
  run.bias = values(N, 6);
  run.x = values(M * K, 7);
  std::string xt = tensorType({M, K}), wt = tensorType({N, K}),
              bt = tensorType({N}), yt = tensorType({M, N});
  std::string source = "func.func @main(%x: " + xt + ") -> " + yt + " {\n" +
                       constant("w", run.w, N, K) + constant("b", run.bias, N) +
                       "  %y = llm.linear %x, %w, %b : (" + xt + ", " + wt +
                       ", " + bt + ") -> " + yt + "\n  return %y : " + yt +
                       "\n}\n";
  run.y.assign(M * N, 42.0f);
  ASSERT_NO_FATAL_FAILURE(compileAndCall(source, {run.x.data(), run.y.data()},
                                         {{M, K}, {M, N}}, scheme, features));
}

/// y = x W^T + b with W a constant [N, K], compiled, against plain loops.
void checkLinear(int64_t M, int64_t K, int64_t N) {
  LinearRun run;
  ASSERT_NO_FATAL_FAILURE(runLinear(M, K, N, nullptr, run));
  expectLinear(run.y, run.x, run.w, run.bias, M, K, N);
}

// 11 rows: one full tile of 8 and 3 single rows; N = 96: 3 panels of 32.
TEST(CpuKernels, LinearWithConstantWeightMatchesReference) {
  checkLinear(11, 19, 96);
}

// N = 100 has no panel width: 4 panels of 32, zero weights past 100, the
// padded output sliced back.
TEST(CpuKernels, LinearWithPaddedPanelsMatchesReference) {
  checkLinear(11, 19, 100);
}

// Single rows with K a multiple of 4 split k over independent accumulator
// chains; N = 48: panels of 16.
TEST(CpuKernels, LinearRowsWithSplitKMatchReference) { checkLinear(3, 24, 48); }

/// r + x W^T (or x W^T + r) with W a constant [N, K] and the residual r an
/// argument also returned as is, compiled (the kernel's accumulators start
/// from r), against plain loops; r must be unchanged.
void checkLinearPlusResidual(int64_t M, int64_t K, int64_t N,
                             bool residualFirst) {
  std::vector<float> w = values(N * K, 5), x = values(M * K, 7),
                     r = values(M * N, 8);
  std::string xt = tensorType({M, K}), wt = tensorType({N, K}),
              yt = tensorType({M, N});
  std::string sum = residualFirst ? "%r, %l" : "%l, %r";
  std::string source = "func.func @main(%x: " + xt + ", %r: " + yt + ") -> (" +
                       yt + ", " + yt + ") {\n" + constant("w", w, N, K) +
                       "  %l = llm.linear %x, %w : (" + xt + ", " + wt +
                       ") -> " + yt + "\n  %y = arith.addf " + sum + " : " +
                       yt + "\n  return %y, %r : " + yt + ", " + yt + "\n}\n";
  std::vector<float> y(M * N, 42.0f), rOut(M * N, 42.0f);
  const std::vector<float> rIn = r;
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), r.data(), y.data(), rOut.data()},
                     {{M, K}, {M, N}, {M, N}, {M, N}}));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<double>(x[m * K + k]) * w[n * K + k];
      double expected = acc + rIn[m * N + n];
      EXPECT_NEAR(y[m * N + n], expected, 1e-5 * (1 + std::fabs(expected)))
          << m << "," << n;
      EXPECT_EQ(rOut[m * N + n], rIn[m * N + n]) << m << "," << n;
      EXPECT_EQ(r[m * N + n], rIn[m * N + n]) << m << "," << n;
    }
}

TEST(CpuKernels, LinearPlusResidualMatchesReference) {
  checkLinearPlusResidual(11, 19, 96, false);
  checkLinearPlusResidual(11, 19, 96, true);
}

// N = 100: the residual is padded into panels of 32 like a zero start.
TEST(CpuKernels, LinearPlusResidualWithPaddedPanelsMatchesReference) {
  checkLinearPlusResidual(11, 19, 100, true);
}

/// y = x Ŵ^T + b compiled with `--quantize=scheme`, against plain loops over
/// the dequantized weight Ŵ of the same scheme (lib/Quant): the kernels
/// apply scales and zero points per group, in another order, so not bit
/// for bit.
void checkQuantizedLinear(int64_t M, int64_t K, int64_t N, const char *scheme,
                          llmc::quant::GroupScheme expected) {
  LinearRun run;
  ASSERT_NO_FATAL_FAILURE(runLinear(M, K, N, scheme, run));
  const std::vector<float> &w = run.w;
  llmc::quant::GroupQuantized q =
      llmc::quant::quantizeGroupwise(w.data(), N, K, expected);
  std::vector<float> dequantized(N * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      dequantized[n * K + k] = q.dequantized(n, k);
  // The quantized weights differ from w: a check that cannot pass by
  // accident with the f32 kernel.
  ASSERT_GT(llmc::quant::weightNmse(w.data(), q), 1e-7);
  expectLinear(run.y, run.x, dequantized, run.bias, M, K, N);
}

// 11 rows (a tile of 8 dequantizing each code row once, then single rows
// with per-group partial sums), groups of 32, 3 panels of 32.
TEST(CpuKernels, Int8GroupLinearMatchesDequantizedReference) {
  checkQuantizedLinear(11, 64, 96, "int8-g32", {8, 32, false});
}

// 4-bit codes two per byte, zero points, N = 100 padded to panels of 32.
TEST(CpuKernels, Int4AsymmetricLinearMatchesDequantizedReference) {
  checkQuantizedLinear(11, 64, 100, "int4-g16-asym", {4, 16, true});
}

// 2-bit codes four per byte, per-channel; single rows only.
TEST(CpuKernels, Int2PerChannelLinearMatchesDequantizedReference) {
  checkQuantizedLinear(3, 48, 48, "int2-pc", {2, 0, false});
}

/// A row of K activations quantized to int8 as activations(8) does:
/// a = max|x|, x_q = clamp(roundeven(x·127/a), −127, 127); returns a.
float int8Row(const float *x, int64_t K, std::vector<int> &xq) {
  float a = 0.0f;
  for (int64_t k = 0; k < K; ++k)
    a = std::max(a, std::fabs(x[k]));
  float inverse = a > 0.0f ? 127.0f / a : 0.0f;
  xq.resize(K);
  for (int64_t k = 0; k < K; ++k) {
    float v = std::nearbyint(x[k] * inverse);
    xq[k] = static_cast<int>(std::min(127.0f, std::max(-127.0f, v)));
  }
  return a;
}

/// The compiled y = x Ŵ^T + b with int8 activations (`scheme` ends in -a8)
/// against the same arithmetic in plain C++, bit for bit: each row of x
/// quantized to int8 (a = max|x|, x_q = clamp(roundeven(x·127/a))), per
/// group the exact integer sums Σq·x_q and Σx_q applied as
/// y_g = fma(Σx_q, m, fma(Σq·x_q, s, y_g−1)) with m = −s·z, and
/// y = fma(a/127, y_G, b). `features` "-avx512vnni" takes the widened
/// products instead of vpdpbusd.
void checkIntegerDotLinear(int64_t M, int64_t K, int64_t N, const char *scheme,
                           llmc::quant::GroupScheme expected,
                           const char *features = nullptr) {
  LinearRun run;
  ASSERT_NO_FATAL_FAILURE(runLinear(M, K, N, scheme, run, features));
  // Per weight the unsigned integer the kernel multiplies and per group
  // its zero point and scale: codes, or with BitMoD the grid value + 128.
  std::string name = scheme;
  llmc::quant::GroupQuantized q;
  llmc::quant::BitModQuantized mod;
  std::function<int(int64_t, int64_t)> code;
  std::function<int(int64_t, int64_t)> zero;
  std::function<float(int64_t, int64_t)> scale;
  int64_t G;
  if (name.rfind("bitmod", 0) == 0) {
    mod = llmc::quant::quantizeBitMod(run.w.data(), N, K, expected.groupSize,
                                      expected.bits);
    G = mod.groupSize;
    code = [&](int64_t n, int64_t k) {
      int64_t g = n * mod.groups() + k / G;
      return static_cast<int>(llmc::quant::bitModGrids(
                 mod.bits)[mod.datatypes[g]][mod.code(n, k)]) +
             128;
    };
    zero = [](int64_t, int64_t) { return 128; };
    scale = [&](int64_t n, int64_t g) {
      return mod.scales[n * mod.groups() + g];
    };
  } else {
    q = name.rfind("ternary", 0) == 0
            ? llmc::quant::quantizeTernary(run.w.data(), N, K)
            : llmc::quant::quantizeGroupwise(run.w.data(), N, K, expected);
    G = q.groupSize;
    code = [&](int64_t n, int64_t k) { return int{q.code(n, k)}; };
    zero = [&](int64_t n, int64_t g) { return int{q.zeroPoint(n, g)}; };
    scale = [&](int64_t n, int64_t g) { return q.scales[n * q.groups() + g]; };
  }
  std::vector<int> xq;
  int64_t clamped = 0;
  for (int64_t m = 0; m < M; ++m) {
    float a = int8Row(&run.x[m * K], K, xq);
    clamped += std::count(xq.begin(), xq.end(), 127) +
               std::count(xq.begin(), xq.end(), -127);
    for (int64_t n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int64_t g = 0; g < K / G; ++g) {
        int32_t dot = 0, sum = 0;
        for (int64_t k = g * G; k < (g + 1) * G; ++k) {
          dot += code(n, k) * xq[k];
          sum += xq[k];
        }
        float s = scale(n, g);
        float offset = -s * static_cast<float>(zero(n, g));
        acc = std::fma(static_cast<float>(dot), s, acc);
        acc = std::fma(static_cast<float>(sum), offset, acc);
      }
      float y = std::fma(a / 127.0f, acc, run.bias[n]);
      ASSERT_EQ(run.y[m * N + n], y) << scheme << " m=" << m << " n=" << n;
    }
  }
  // Every row's largest element maps to ±127.
  EXPECT_GE(clamped, M);
}

// 11 rows: a tile of 8, then single rows (their groups split over dot
// product chains); groups of 32; N = 40 padded to 3 panels of 16.
TEST(CpuKernels, W8A8LinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 40, "w8a8-g32", {8, 32, false});
}

TEST(CpuKernels, W8A8LinearWithoutVnniMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 40, "w8a8-g32", {8, 32, false}, "-avx512vnni");
}

// Two 4-bit codes per byte (two dot products per byte row), zero points.
TEST(CpuKernels, W4A8AsymmetricLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 100, "w4a8-g16-asym", {4, 16, true});
  checkIntegerDotLinear(3, 64, 100, "w4a8-g16-asym", {4, 16, true},
                        "-avx512vnni");
}

// Four 2-bit codes per byte, per-channel (one group of 48).
TEST(CpuKernels, W2A8PerChannelLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(9, 48, 32, "int2-pc-a8", {2, 0, false});
}

// Ternary (b1.58): codes 1, 2, 3 around the zero point 2, one scale for
// the whole weight.
TEST(CpuKernels, TernaryLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 48, "ternary", {});
  checkIntegerDotLinear(2, 64, 48, "ternary", {}, "-avx512vnni");
}

// BitMoD: 4-bit codes looked up in the group's grid (vpermb with
// AVX512-VBMI, else a gather), then the same integer dot products.
TEST(CpuKernels, BitModLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 128, 40, "bitmod4-g32", {4, 32, false});
  checkIntegerDotLinear(3, 128, 40, "bitmod4-g32", {4, 32, false},
                        "-avx512vbmi");
  checkIntegerDotLinear(3, 128, 40, "bitmod4-g32", {4, 32, false},
                        "-avx512vbmi,-avx512vnni");
}

// T-MAC lookup tables (-lut): bit planes of the codes index 16-entry tables
// of 4 activations (vpermb, else a gather), summed with 4-way dot
// products: the same integers as the dot-product kernel, so the same
// result bit for bit. 11 rows: a tile of 8 sharing each index vector, then
// single rows (groups over chains); N = 40 padded to 3 panels of 16.
TEST(CpuKernels, Int2LookupTableLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 40, "int2-g32-lut", {2, 32, false});
  checkIntegerDotLinear(3, 128, 40, "int2-g64-lut", {2, 64, false},
                        "-avx512vbmi");
  checkIntegerDotLinear(3, 64, 40, "int2-g16-lut", {2, 16, false},
                        "-avx512vbmi,-avx512vnni");
}

// Four planes in two rows per chunk, zero points.
TEST(CpuKernels,
     Int4AsymmetricLookupTableLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 64, 100, "int4-g16-asym-lut", {4, 16, true});
  checkIntegerDotLinear(2, 64, 100, "int4-g32-asym-lut", {4, 32, true},
                        "-avx512vnni");
}

// Ternary codes 1, 2, 3 around the zero point 2, one group per row.
TEST(CpuKernels, TernaryLookupTableLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 128, 48, "ternary-lut", {});
  checkIntegerDotLinear(1, 48, 48, "ternary-lut", {}, "-avx512vbmi");
}

// 3-bit BitMoD: the codes' low two bits and high bit in separate panels
// (one high row per two steps), the FP3 grids looked up like 4-bit ones.
TEST(CpuKernels, BitMod3LinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 128, 40, "bitmod3-g32", {3, 32, false});
  checkIntegerDotLinear(3, 96, 40, "bitmod3-g16", {3, 16, false},
                        "-avx512vbmi");
  checkIntegerDotLinear(3, 128, 40, "bitmod3-g64", {3, 64, false},
                        "-avx512vbmi,-avx512vnni");
}

// Group-wise 3-bit codes with zero points: the same split panels as
// bitmod3, the codes used as they are.
TEST(CpuKernels, W3A8AsymmetricLinearMatchesIntegerReferenceBitForBit) {
  checkIntegerDotLinear(11, 128, 40, "int3-g32-asym-a8", {3, 32, true});
  checkIntegerDotLinear(2, 64, 40, "int3-g16-a8", {3, 16, false},
                        "-avx512vnni");
}

/// Codes and scales that are not constants (arguments) take the generic
/// path that dequantizes each weight: 4-bit codes, two groups of 4; with
/// `int8Activations` the rows of x are quantized first (the reference
/// takes x as a/127·x_q).
void checkQuantizedLinearOfArguments(bool int8Activations) {
  constexpr int64_t M = 3, K = 8, N = 5;
  std::vector<float> x = values(M * K, 14), scales = values(N * 2, 15);
  std::vector<int8_t> codes(N * K / 2), zeros(N * 2);
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<int8_t>(i * 37 + 11);
  for (size_t i = 0; i < zeros.size(); ++i)
    zeros[i] = static_cast<int8_t>(i % 16);
  std::string source =
      "func.func @main(%x: tensor<3x8xf32>, %c: tensor<5x4xi8>, %s: "
      "tensor<5x2xf32>, %z: tensor<5x2xi8>) -> tensor<3x5xf32> {\n"
      "  %y = llm.quantized_linear %x, %c, %s zero_points(%z) bits(4) "
      "group(4) " +
      std::string(int8Activations ? "activations(8) " : "") +
      ": (tensor<3x8xf32>, tensor<5x4xi8>, tensor<5x2xf32>, "
      "tensor<5x2xi8>) -> tensor<3x5xf32>\n"
      "  return %y : tensor<3x5xf32>\n}\n";
  std::vector<float> y(M * N, 42.0f);
  ASSERT_NO_FATAL_FAILURE(compileAndCall(
      source, {x.data(), codes.data(), scales.data(), zeros.data(), y.data()},
      {{M, K}, {N, K / 2}, {N, 2}, {N, 2}, {M, N}}));
  std::vector<float> w(N * K), noBias(N, 0.0f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      uint8_t byte = static_cast<uint8_t>(codes[n * K / 2 + k / 2]);
      int code = k % 2 ? byte >> 4 : byte & 15;
      w[n * K + k] = scales[n * 2 + k / 4] *
                     (code - static_cast<uint8_t>(zeros[n * 2 + k / 4]));
    }
  if (int8Activations) {
    std::vector<int> xq;
    for (int64_t m = 0; m < M; ++m) {
      float a = int8Row(&x[m * K], K, xq);
      for (int64_t k = 0; k < K; ++k)
        x[m * K + k] = a / 127.0f * static_cast<float>(xq[k]);
    }
  }
  expectLinear(y, x, w, noBias, M, K, N);
}

TEST(CpuKernels, QuantizedLinearOfArgumentsMatchesReference) {
  checkQuantizedLinearOfArguments(false);
}

TEST(CpuKernels,
     QuantizedLinearOfArgumentsWithInt8ActivationsMatchesReference) {
  checkQuantizedLinearOfArguments(true);
}

// 3-bit codes from an argument: a bit stream whose codes 2, 5, 10 and 13
// of each row run across a byte boundary, dequantized by the generic.
TEST(CpuKernels, ThreeBitCodesOfArgumentsMatchReference) {
  constexpr int64_t M = 3, K = 16, N = 5, rowBytes = K * 3 / 8;
  std::vector<float> x = values(M * K, 16), scales = values(N * 2, 17);
  std::vector<int8_t> codes(N * rowBytes), zeros(N * 2);
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<int8_t>(i * 53 + 7);
  for (size_t i = 0; i < zeros.size(); ++i)
    zeros[i] = static_cast<int8_t>(i % 8);
  std::string source =
      "func.func @main(%x: tensor<3x16xf32>, %c: tensor<5x6xi8>, %s: "
      "tensor<5x2xf32>, %z: tensor<5x2xi8>) -> tensor<3x5xf32> {\n"
      "  %y = llm.quantized_linear %x, %c, %s zero_points(%z) bits(3) "
      "group(8) : (tensor<3x16xf32>, tensor<5x6xi8>, tensor<5x2xf32>, "
      "tensor<5x2xi8>) -> tensor<3x5xf32>\n"
      "  return %y : tensor<3x5xf32>\n}\n";
  std::vector<float> y(M * N, 42.0f);
  ASSERT_NO_FATAL_FAILURE(compileAndCall(
      source, {x.data(), codes.data(), scales.data(), zeros.data(), y.data()},
      {{M, K}, {N, rowBytes}, {N, 2}, {N, 2}, {M, N}}));
  std::vector<float> w(N * K), noBias(N, 0.0f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      // Each 8 codes are 3 bytes, a little-endian 24-bit number with code
      // k at bit 3·(k % 8).
      uint32_t part = 0;
      for (int64_t b = 0; b < 3; ++b)
        part |= uint32_t{static_cast<uint8_t>(
                    codes[n * rowBytes + (k / 8) * 3 + b])}
                << (8 * b);
      int code = (part >> (3 * (k % 8))) & 7;
      w[n * K + k] = scales[n * 2 + k / 8] *
                     (code - static_cast<uint8_t>(zeros[n * 2 + k / 8]));
    }
  expectLinear(y, x, w, noBias, M, K, N);
}

// Two linear layers with biases on one input (fused into one GEMM by
// llm-fuse-linears, the results sliced apart) against plain loops.
TEST(CpuKernels, SiblingLinearsWithBiasesMatchReference) {
  constexpr int64_t M = 5, K = 8, N1 = 16, N2 = 40;
  std::vector<float> x = values(M * K, 9), w1 = values(N1 * K, 10),
                     w2 = values(N2 * K, 11), b1 = values(N1, 12),
                     b2 = values(N2, 13);
  std::string source =
      "func.func @main(%x: tensor<5x8xf32>) -> (tensor<5x16xf32>, "
      "tensor<5x40xf32>) {\n" +
      constant("w1", w1, N1, K) + constant("w2", w2, N2, K) +
      constant("b1", b1, N1) + constant("b2", b2, N2) +
      "  %y1 = llm.linear %x, %w1, %b1 : (tensor<5x8xf32>, "
      "tensor<16x8xf32>, tensor<16xf32>) -> tensor<5x16xf32>\n"
      "  %y2 = llm.linear %x, %w2, %b2 : (tensor<5x8xf32>, "
      "tensor<40x8xf32>, tensor<40xf32>) -> tensor<5x40xf32>\n"
      "  return %y1, %y2 : tensor<5x16xf32>, tensor<5x40xf32>\n}\n";
  std::vector<float> y1(M * N1, 42.0f), y2(M * N2, 42.0f);
  ASSERT_NO_FATAL_FAILURE(compileAndCall(
      source, {x.data(), y1.data(), y2.data()}, {{M, K}, {M, N1}, {M, N2}}));
  expectLinear(y1, x, w1, b1, M, K, N1);
  expectLinear(y2, x, w2, b2, M, K, N2);
}

/// A SwiGLU MLP's h = silu(x Wg^T) · (x Wu^T), Wg and Wu constants [F, K]
/// (llm-fuse-linears makes them one linear; llm-lower-to-linalg packs
/// panels of 16 gate and 16 up columns and the kernel computes the product
/// in registers), with M rows of x, against plain loops.
void checkGatedSilu(int64_t M, int64_t K, int64_t F) {
  std::vector<float> x = values(M * K, 14), wg = values(F * K, 15),
                     wu = values(F * K, 16);
  std::string xt = tensorType({M, K}), wt = tensorType({F, K}),
              ht = tensorType({M, F});
  std::string source =
      "func.func @main(%x: " + xt + ") -> " + ht + " {\n" +
      constant("wg", wg, F, K) + constant("wu", wu, F, K) +
      "  %g = llm.linear %x, %wg : (" + xt + ", " + wt + ") -> " + ht +
      "\n  %u = llm.linear %x, %wu : (" + xt + ", " + wt + ") -> " + ht +
      "\n  %s = llm.silu %g : " + ht + "\n  %h = arith.mulf %s, %u : " + ht +
      "\n  return %h : " + ht + "\n}\n";
  std::vector<float> h(M * F, 42.0f);
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), h.data()}, {{M, K}, {M, F}}));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t f = 0; f < F; ++f) {
      double g = 0, u = 0;
      for (int64_t k = 0; k < K; ++k) {
        g += static_cast<double>(x[m * K + k]) * wg[f * K + k];
        u += static_cast<double>(x[m * K + k]) * wu[f * K + k];
      }
      double expected = g / (1 + std::exp(-g)) * u;
      ASSERT_NEAR(h[m * F + f], expected, 1e-5 * (1 + std::fabs(expected)))
          << "M=" << M << " m=" << m << " f=" << f;
    }
}

// 11 rows: a tile of 8 and 3 single rows; F = 48: 3 panels of 16 gate and
// 16 up columns. One row: decode's GEMV.
TEST(CpuKernels, GatedSiluOfSiblingLinearsMatchesReference) {
  checkGatedSilu(11, 19, 48);
  checkGatedSilu(1, 24, 32);
}

TEST(CpuKernels, SoftmaxAndSiluMatchReference) {
  // exp is a polynomial approximation in compiled code: check it over a
  // wide range, including arguments where exp underflows and overflows.
  constexpr int64_t R = 3, C = 37;
  std::string source = R"(
func.func @main(%x: tensor<3x37xf32>) -> (tensor<3x37xf32>, tensor<3x37xf32>) {
  %s = llm.softmax %x : tensor<3x37xf32>
  %a = llm.silu %x : tensor<3x37xf32>
  return %s, %a : tensor<3x37xf32>, tensor<3x37xf32>
}
)";
  std::vector<float> x = values(R * C, 8);
  for (float &v : x)
    v *= 30.0f;
  x[0] = -120.0f; // exp(x) underflows in SiLU's sigmoid
  x[1] = 100.0f;  // and overflows
  std::vector<float> softmax(R * C, 42.0f), silu(R * C, 42.0f);
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), softmax.data(), silu.data()},
                     {{R, C}, {R, C}, {R, C}}));
  for (int64_t r = 0; r < R; ++r) {
    double max = -1e30, sum = 0;
    for (int64_t c = 0; c < C; ++c)
      max = std::max(max, static_cast<double>(x[r * C + c]));
    for (int64_t c = 0; c < C; ++c)
      sum += std::exp(x[r * C + c] - max);
    for (int64_t c = 0; c < C; ++c) {
      double p = std::exp(x[r * C + c] - max) / sum;
      EXPECT_NEAR(softmax[r * C + c], p, 1e-6 + 1e-5 * p) << r << "," << c;
      double xv = x[r * C + c], a = xv / (1.0 + std::exp(-xv));
      EXPECT_NEAR(silu[r * C + c], a, 1e-6 + 1e-5 * std::fabs(a))
          << r << "," << c;
    }
  }
}

/// llm.rope compiled, against plain loops: x is [1, T, H, D] in memory and
/// transposed to [1, H, T, D] before the rotation (as the importer writes
/// attention's inputs; the lowering reads x through the transpose instead
/// of copying it), with a rotary width R of D or less, and cos/sin tables
/// of static or dynamic shape. From 32768 elements on (llm-cpu-parallelize's
/// min-work) the op runs in chunks across threads.
void checkRope(bool interleaved, int64_t R, bool staticTable, int64_t T = 5,
               int64_t H = 3, int64_t D = 12) {
  std::vector<float> x = values(T * H * D, 21), cos = values(T * R, 22),
                     sin = values(T * R, 23);
  std::string xt = tensorType({1, T, H, D}), yt = tensorType({1, H, T, D});
  std::string table = staticTable ? tensorType({T, R}) : "tensor<?x?xf32>";
  std::string source =
      "func.func @main(%x: " + xt + ", %c: " + table + ", %s: " + table +
      ") -> " + yt + " {\n  %e = tensor.empty() : " + yt +
      "\n  %q = linalg.transpose ins(%x : " + xt + ") outs(%e : " + yt +
      ") permutation = [0, 2, 1, 3]\n  %y = llm.rope %q, %c, %s" +
      (interleaved ? " {interleaved}" : "") + " : (" + yt + ", " + table +
      ", " + table + ") -> " + yt + "\n  return %y : " + yt + "\n}\n";
  std::vector<float> y(H * T * D, 42.0f);
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), cos.data(), sin.data(), y.data()},
                     {{1, T, H, D}, {T, R}, {T, R}, {1, H, T, D}}));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < D; ++d) {
        auto at = [&](int64_t f) { return x[(t * H + h) * D + f]; };
        double expected = at(d);
        if (d < R) {
          bool first = interleaved ? d % 2 == 0 : d < R / 2;
          int64_t partner = interleaved ? (first ? d + 1 : d - 1)
                                        : (first ? d + R / 2 : d - R / 2);
          double rotated = first ? -at(partner) : at(partner);
          expected = at(d) * static_cast<double>(cos[t * R + d]) +
                     rotated * static_cast<double>(sin[t * R + d]);
        }
        EXPECT_NEAR(y[(h * T + t) * D + d], expected, 1e-6)
            << "h=" << h << " t=" << t << " d=" << d;
      }
}

TEST(CpuKernels, RopeRotateHalfMatchesReference) { checkRope(false, 12, true); }
TEST(CpuKernels, RopeInterleavedMatchesReference) { checkRope(true, 12, true); }
TEST(CpuKernels, RopePartialRotaryMatchesReference) {
  checkRope(false, 8, true);
  checkRope(true, 8, true);
}
TEST(CpuKernels, RopeWithDynamicTablesMatchesReference) {
  checkRope(false, 8, false);
  checkRope(true, 12, false);
}
TEST(CpuKernels, RopeSplitAcrossThreadsMatchesReference) {
  checkRope(false, 64, true, 70, 8, 64);
  checkRope(true, 32, true, 70, 8, 64);
}

/// A transformer block's elementwise tail compiled, against plain loops:
/// h = x + r (the residual add), n = rms_norm(h) · g, and silu(n) · h (a
/// SiLU product). With T rows of 512 from 64 rows on, each op runs in
/// chunks across threads, the norm's sum of squares and scale inside the
/// same chunks as the scaled rows (llm-cpu-parallelize); below, on one
/// thread.
void checkNormBlock(int64_t T) {
  constexpr int64_t D = 512;
  std::vector<float> x = values(T * D, 31), r = values(T * D, 32),
                     g = values(D, 33);
  std::string t = tensorType({1, T, D}), gt = tensorType({D});
  std::string source =
      "func.func @main(%x: " + t + ", %r: " + t + ", %g: " + gt + ") -> (" + t +
      ", " + t + ") {\n  %h = arith.addf %x, %r : " + t +
      "\n  %n = llm.rms_norm %h, %g {epsilon = 1.0e-05 : f32} : (" + t + ", " +
      gt + ") -> " + t + "\n  %a = llm.silu %n : " + t +
      "\n  %p = arith.mulf %a, %h : " + t + "\n  return %n, %p : " + t + ", " +
      t + "\n}\n";
  std::vector<float> n(T * D, 42.0f), p(T * D, 42.0f);
  ASSERT_NO_FATAL_FAILURE(
      compileAndCall(source, {x.data(), r.data(), g.data(), n.data(), p.data()},
                     {{1, T, D}, {1, T, D}, {D}, {1, T, D}, {1, T, D}}));
  for (int64_t row = 0; row < T; ++row) {
    double sum = 0;
    for (int64_t d = 0; d < D; ++d) {
      double h = static_cast<double>(x[row * D + d]) + r[row * D + d];
      sum += h * h;
    }
    double scale = 1.0 / std::sqrt(sum / D + 1e-5);
    for (int64_t d = 0; d < D; ++d) {
      double h = static_cast<double>(x[row * D + d]) + r[row * D + d];
      double norm = h * scale * g[d];
      double silu = norm / (1.0 + std::exp(-norm));
      EXPECT_NEAR(n[row * D + d], norm, 1e-5 * (1 + std::fabs(norm)))
          << row << "," << d;
      EXPECT_NEAR(p[row * D + d], silu * h, 1e-5 * (1 + std::fabs(silu * h)))
          << row << "," << d;
    }
  }
}

TEST(CpuKernels, NormBlockOnOneThreadMatchesReference) { checkNormBlock(3); }
TEST(CpuKernels, NormBlockSplitAcrossThreadsMatchesReference) {
  checkNormBlock(77);
}

/// llm.moe (SwiGLU experts, normalised weights) compiled, against a
/// brute-force reference: softmax over all E experts, then the top k (or,
/// with G groups, the top k/G of each group of E/G).
void checkMoe(int64_t groups, int64_t topK) {
  constexpr int64_t T = 5, D = 8, F = 12, E = 8;
  std::vector<float> x = values(T * D, 11), logits = values(T * E, 12),
                     gate = values(E * F * D, 13), up = values(E * F * D, 14),
                     down = values(E * D * F, 15);
  std::string xt = tensorType({T, D}), lt = tensorType({T, E}),
              wt = tensorType({E, F, D}), dt = tensorType({E, D, F});
  std::string source =
      "func.func @main(%x: " + xt + ", %l: " + lt + ", %g: " + wt +
      ", %u: " + wt + ", %d: " + dt + ") -> " + xt +
      " {\n  %y = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = " +
      std::to_string(topK) +
      " : i64, normalize_top_k, groups = " + std::to_string(groups) +
      " : i64} : (" + xt + ", " + lt + ", " + wt + ", " + wt + ", " + dt +
      ") -> " + xt + "\n  return %y : " + xt + "\n}\n";
  std::vector<float> y(T * D, 42.0f);
  ASSERT_NO_FATAL_FAILURE(compileAndCall(
      source,
      {x.data(), logits.data(), gate.data(), up.data(), down.data(), y.data()},
      {{T, D}, {T, E}, {E, F, D}, {E, F, D}, {E, D, F}, {T, D}}));
  int64_t width = E / groups, perGroup = topK / groups;
  for (int64_t t = 0; t < T; ++t) {
    double max = -1e30, sum = 0;
    for (int64_t e = 0; e < E; ++e)
      max = std::max(max, double(logits[t * E + e]));
    std::vector<double> p(E);
    for (int64_t e = 0; e < E; ++e)
      sum += p[e] = std::exp(logits[t * E + e] - max);
    std::vector<int64_t> chosen;
    for (int64_t g = 0; g < groups; ++g) {
      std::vector<int64_t> order;
      for (int64_t e = g * width; e < (g + 1) * width; ++e)
        order.push_back(e);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return p[a] > p[b]; });
      chosen.insert(chosen.end(), order.begin(), order.begin() + perGroup);
    }
    double total = 0;
    for (int64_t e : chosen)
      total += p[e] / sum;
    for (int64_t d = 0; d < D; ++d) {
      double expected = 0;
      for (int64_t e : chosen) {
        double out = 0;
        for (int64_t f = 0; f < F; ++f) {
          double a = 0, b = 0;
          for (int64_t i = 0; i < D; ++i) {
            a += double(x[t * D + i]) * gate[(e * F + f) * D + i];
            b += double(x[t * D + i]) * up[(e * F + f) * D + i];
          }
          double h = a / (1 + std::exp(-a)) * b;
          out += h * down[(e * D + d) * F + f];
        }
        expected += (p[e] / sum) / total * out;
      }
      ASSERT_NEAR(y[t * D + d], expected, 1e-4)
          << "groups=" << groups << " t=" << t << " d=" << d;
    }
  }
}

TEST(CpuKernels, MoeTopKMatchesReference) { checkMoe(1, 2); }

// MoGE: 4 groups of 2 experts, one chosen in each.
TEST(CpuKernels, GroupedMoeMatchesReference) { checkMoe(4, 4); }

} // namespace
