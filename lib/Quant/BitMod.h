//===- BitMod.h - BitMoD mixture-of-datatypes weight quantization -*- C++
//-*-===//
//
// BitMoD (HPCA'25, techniques.md §6.5): per group of weights, pick the
// 4-bit datatype with the least squared error among four grids, the FP4
// (E2M1 ×2) base values {0, ±1, ±2, ±3, ±4, ±6, ±8, ±12} each extended by
// one special value in place of −0: +10 or −10 (extra resolution), +16 or
// −16 (extra asymmetry). A weight is scale · grid[datatype][code].
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_QUANT_BITMOD_H
#define LLMC_LIB_QUANT_BITMOD_H

#include "lib/Quant/GroupQuant.h"

#include <array>
#include <cstdint>
#include <vector>

namespace llmc::quant {

/// The datatypes, in their id order: er_pos, er_neg, ea_pos, ea_neg.
constexpr int kBitModDatatypes = 4;

/// Each datatype's 16 values, ascending: a code is an index into its row.
const std::array<std::array<float, 16>, kBitModDatatypes> &bitModGrids();

/// A [rows, cols] matrix as 4-bit codes and scales in GroupQuantized's
/// layout (no zero points), and one datatype id per group: a weight is
/// scale · grid[datatype][code].
struct BitModQuantized : GroupQuantized {
  std::vector<uint8_t> datatypes; // [rows, cols / G]

  float dequantized(int64_t n, int64_t k) const;
};

/// Mean squared error of `size` weights quantized with `datatype`'s grid
/// (scale = max|w| / max|grid|, the nearest grid value, ties to the lower),
/// writing the scale and, when `codes` is not null, the codes.
double bitModGroupError(const float *group, int64_t size, int datatype,
                        float &scale, uint8_t *codes = nullptr);

/// BitMoD quantization of a row-major [rows, cols] matrix in groups of
/// `groupSize` (which must divide an even cols): each group takes the
/// datatype with the least error (the first on ties).
BitModQuantized quantizeBitMod(const float *w, int64_t rows, int64_t cols,
                               int64_t groupSize);

} // namespace llmc::quant

#endif // LLMC_LIB_QUANT_BITMOD_H
