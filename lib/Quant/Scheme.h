//===- Scheme.h - quantization scheme names ---------------------*- C++ -*-===//
//
// The names llm-compile --quantize takes: int8, int4, int2, each with an
// optional group (-g<N>, or -pc for per-channel), -asym and -a8 (int8
// activations per token), e.g. int4-g128-asym; w8a8 and w4a8 are int8-a8
// and int4-a8; ternary is BitNet b1.58 weights (absmean per tensor) with
// int8 activations; bitmod4[-g<N>] and bitmod3[-g<N>] BitMoD 4- and 3-bit
// weights (a datatype per group) with int8 activations. A -lut part (2- and
// 4-bit weights and ternary; implies int8 activations) makes the CPU kernels
// T-MAC lookup tables. A -kv8 or -kv4 part (or kv8/kv4 alone, with f32 weights)
// also quantizes the KV cache.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_QUANT_SCHEME_H
#define LLMC_LIB_QUANT_SCHEME_H

#include "lib/Quant/GroupQuant.h"

#include <string>

namespace llmc::quant {

/// A weight scheme and whether the group size was given (else automatic:
/// 128, or the largest multiple of 8 below it that divides K).
struct NamedScheme {
  /// How weights become codes: group-wise round to nearest, or ternary.
  enum class Format { Integer, Ternary, BitMod };
  Format format = Format::Integer;
  GroupScheme weights;
  bool explicitGroup = false;
  /// Bits of the run-time activation quantization, 0 for none.
  int activationBits = 0;
  /// -lut: the CPU target runs the layers with T-MAC lookup-table kernels
  /// (llm-lower-to-linalg's lookup-tables); the weights are the same.
  bool lookupTables = false;
  /// Bits of the KV cache codes (a -kv8 or -kv4 part, or kv8/kv4 alone),
  /// 0 for an f32 cache.
  int kvBits = 0;
  /// kv8/kv4 alone: the weights stay f32.
  bool weightsF32 = false;
};

/// Parses `name`; on failure returns false with `error` saying why.
bool parseScheme(const std::string &name, NamedScheme &scheme,
                 std::string &error);

/// The llm-quantize options for `scheme` ("bits=4 group-size=-1 ...").
std::string passOptions(const NamedScheme &scheme);

} // namespace llmc::quant

#endif // LLMC_LIB_QUANT_SCHEME_H
