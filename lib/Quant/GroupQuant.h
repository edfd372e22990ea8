//===- GroupQuant.h - group-wise integer weight quantization ----*- C++ -*-===//
//
// The numbers behind llm-quantize and llm.quantized_linear, in plain C++ so
// that the pass, the accuracy report and the tests share one definition:
// a weight W[N, K] becomes unsigned b-bit codes q with a scale s and a zero
// point z per group of G consecutive inputs of a row, W ≈ s·(q − z).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_QUANT_GROUPQUANT_H
#define LLMC_LIB_QUANT_GROUPQUANT_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::quant {

/// Code `k` of a row of `bits`-bit codes that fill each byte from its low
/// bits (a bit stream: a 3-bit code may run into the next byte).
inline unsigned codeInRow(const uint8_t *row, int64_t k, int bits) {
  int64_t bit = k * bits;
  unsigned word = row[bit / 8] | unsigned{row[(bit + bits - 1) / 8]} << 8;
  return (word >> (bit % 8)) & ((1u << bits) - 1);
}

struct GroupScheme {
  int bits = 8;            // 2, 4 or 8 (3 for BitMoD)
  int64_t groupSize = 0;   // inputs per group; K (per-channel) when 0
  bool asymmetric = false; // a zero point per group, else 2^(bits-1)
};

/// A quantized [N, K] matrix in llm.quantized_linear's layout.
struct GroupQuantized {
  int64_t rows = 0, cols = 0, groupSize = 0;
  int bits = 8;
  /// [N, K·bits/8]: codes row-major; sub-byte codes fill a byte from its
  /// low bits (the even k of 4-bit codes in the low nibble); 3-bit codes
  /// are a bit stream, code k at bit 3k of its row (8 codes in 3 bytes).
  std::vector<uint8_t> codes;
  std::vector<float> scales;       // [N, K / G]
  std::vector<uint8_t> zeroPoints; // [N, K / G]; empty when symmetric

  int64_t groups() const { return cols / groupSize; }
  int64_t rowBytes() const { return cols * bits / 8; }
  uint8_t code(int64_t n, int64_t k) const;
  /// ORs `code` into the (zeroed) codes at row n, input k.
  void putCode(int64_t n, int64_t k, uint8_t code);
  uint8_t zeroPoint(int64_t n, int64_t group) const;
  float dequantized(int64_t n, int64_t k) const;
};

/// Why `scheme` cannot quantize a [rows, cols] matrix, or empty.
std::string checkScheme(const GroupScheme &scheme, int64_t rows, int64_t cols);

/// Round-to-nearest quantization of a row-major [rows, cols] matrix.
/// Symmetric: s = max|w| / (2^(b-1) − 1), z = 2^(b-1). Asymmetric: the
/// group's range widened to hold 0, s = range / (2^b − 1), z = round(−min/s).
/// The scheme must pass checkScheme.
GroupQuantized quantizeGroupwise(const float *w, int64_t rows, int64_t cols,
                                 const GroupScheme &scheme);

/// Ternary (BitNet b1.58) quantization of a row-major [rows, cols] matrix:
/// one scale for the whole tensor, γ = mean|w|, and q = clamp(round(w/γ),
/// −1, 1) stored as 2-bit codes q + 2 with the symmetric zero point 2, one
/// group per row (every row's scale γ).
GroupQuantized quantizeTernary(const float *w, int64_t rows, int64_t cols);

/// Σ(w − ŵ)² / Σw² of a quantized matrix (anything with rows, cols and
/// dequantized(n, k)) against the original.
template <typename Quantized>
double weightNmse(const float *w, const Quantized &q) {
  double error = 0.0, energy = 0.0;
  for (int64_t n = 0; n < q.rows; ++n)
    for (int64_t k = 0; k < q.cols; ++k) {
      double x = w[n * q.cols + k];
      double d = x - q.dequantized(n, k);
      error += d * d;
      energy += x * x;
    }
  return energy > 0.0 ? error / energy : error;
}

} // namespace llmc::quant

#endif // LLMC_LIB_QUANT_GROUPQUANT_H
