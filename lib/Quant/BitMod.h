//===- BitMod.h - BitMoD mixture-of-datatypes weight quantization -*- C++
//-*-===//
//
// BitMoD (HPCA'25, techniques.md §6.5): per group of weights, pick the
// datatype with the least squared error among four grids, a base grid
// extended by one special value in place of −0. 4-bit: the FP4 (E2M1 ×2)
// values {0, ±1, ±2, ±3, ±4, ±6, ±8, ±12} with +10 or −10 (extra
// resolution), +16 or −16 (extra asymmetry). 3-bit: the FP3 values
// {0, ±1, ±2, ±4} with +3 or −3, +6 or −6. A weight is
// scale · grid[datatype][code].
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_QUANT_BITMOD_H
#define LLMC_LIB_QUANT_BITMOD_H

#include "lib/Quant/GroupQuant.h"

#include <cstdint>
#include <vector>

namespace llmc::quant {

/// The datatypes, in their id order: er_pos, er_neg, ea_pos, ea_neg.
constexpr int kBitModDatatypes = 4;

/// Whether BitMoD has grids of `bits` bits (3 or 4).
inline bool bitModSupports(int bits) { return bits == 3 || bits == 4; }

/// Each datatype's 2^bits values, ascending: a code is an index into its
/// row. `bits` is 3 or 4.
const std::vector<std::vector<float>> &bitModGrids(int bits);

/// A [rows, cols] matrix as `bits`-bit codes and scales in GroupQuantized's
/// layout (no zero points), and one datatype id per group: a weight is
/// scale · grid[datatype][code].
struct BitModQuantized : GroupQuantized {
  std::vector<uint8_t> datatypes; // [rows, cols / G]

  float dequantized(int64_t n, int64_t k) const;
};

/// Mean squared error of `size` weights quantized with `datatype`'s
/// `bits`-bit grid (scale = max|w| / max|grid|, the nearest grid value,
/// ties to the lower), writing the scale and, when `codes` is not null,
/// the codes.
double bitModGroupError(const float *group, int64_t size, int bits,
                        int datatype, float &scale, uint8_t *codes = nullptr);

/// BitMoD quantization of a row-major [rows, cols] matrix to `bits`-bit
/// codes (3 or 4) in groups of `groupSize` (which must divide cols, with
/// cols·bits a multiple of 8): each group takes the datatype with the least
/// error (the first on ties).
BitModQuantized quantizeBitMod(const float *w, int64_t rows, int64_t cols,
                               int64_t groupSize, int bits = 4);

} // namespace llmc::quant

#endif // LLMC_LIB_QUANT_BITMOD_H
