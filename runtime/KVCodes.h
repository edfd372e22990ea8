//===- KVCodes.h - rows of a quantized KV cache -----------------*- C++ -*-===//
//
// The runtime's side of llm-quantize kv=8/kv=4: one row of head_dim values
// as signed codes with one scale, the same arithmetic the compiled step
// uses (docs/quantization.md), for loading and saving a cache.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_KVCODES_H
#define LLMC_RUNTIME_KVCODES_H

#include <cstdint>

namespace llmc::runtime {

/// Bytes of one row of `headDim` elements of `bits` (8 or 4 for codes, 32
/// for f32).
inline int64_t kvRowBytes(int64_t headDim, int64_t bits) {
  return headDim * bits / 8;
}

/// s = max|x| / (2^(bits-1) - 1); q = clamp(roundeven(x / s)), 0 where
/// s = 0. 4-bit codes go two to a byte, the even element in the low nibble.
void quantizeKVRow(const float *x, int64_t headDim, int64_t bits, int8_t *codes,
                   float *scale);

/// x = s * q.
void dequantizeKVRow(const int8_t *codes, float scale, int64_t headDim,
                     int64_t bits, float *x);

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_KVCODES_H
