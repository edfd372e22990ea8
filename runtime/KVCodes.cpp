//===- KVCodes.cpp - rows of a quantized KV cache -------------------------===//

#include "runtime/KVCodes.h"

#include <algorithm>
#include <cmath>

using namespace llmc::runtime;

void llmc::runtime::quantizeKVRow(const float *x, int64_t headDim, int64_t bits,
                                  int8_t *codes, float *scale) {
  float amax = 0;
  for (int64_t d = 0; d < headDim; ++d)
    amax = std::max(amax, std::fabs(x[d]));
  float qmax = float((1 << (bits - 1)) - 1);
  float s = amax / qmax;
  *scale = s;
  auto code = [&](float v) -> int8_t {
    if (!(s > 0))
      return 0;
    // nearbyint rounds half to even in the default rounding mode, as the
    // compiled math.roundeven does.
    float q = std::nearbyint(v / s);
    return static_cast<int8_t>(std::min(std::max(q, -qmax), qmax));
  };
  if (bits == 8) {
    for (int64_t d = 0; d < headDim; ++d)
      codes[d] = code(x[d]);
    return;
  }
  for (int64_t d = 0; d < headDim; d += 2)
    codes[d / 2] =
        static_cast<int8_t>((code(x[d]) & 15) | ((code(x[d + 1]) & 15) << 4));
}

void llmc::runtime::dequantizeKVRow(const int8_t *codes, float scale,
                                    int64_t headDim, int64_t bits, float *x) {
  if (bits == 8) {
    for (int64_t d = 0; d < headDim; ++d)
      x[d] = scale * float(codes[d]);
    return;
  }
  for (int64_t d = 0; d < headDim; d += 2) {
    auto byte = static_cast<uint8_t>(codes[d / 2]);
    // Sign-extend each nibble.
    x[d] = scale * float(int8_t(uint8_t(byte << 4)) >> 4);
    x[d + 1] = scale * float(int8_t(byte) >> 4);
  }
}
