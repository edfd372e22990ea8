//===- Sampler.h - next-token selection from logits -------------*- C++ -*-===//

#ifndef LLMC_RUNTIME_SAMPLER_H
#define LLMC_RUNTIME_SAMPLER_H

#include "llmc/runtime.h"

#include <cstdint>
#include <vector>

namespace llmc::runtime {

/// Greedy, temperature, top-k and top-p (nucleus) sampling. The generator
/// is SplitMix64, written out so that a seed gives the same tokens with
/// any standard library.
class Sampler {
public:
  void seed(uint64_t seed) { state_ = seed; }
  /// The next token from `logits[0..vocab)`. `sampling` must be valid
  /// (checkSampling).
  int64_t sample(const float *logits, int64_t vocab,
                 const llmc_sampling &sampling);
  /// LLMC_OK, or why the parameters are invalid.
  static llmc_status checkSampling(const llmc_sampling &sampling);

private:
  /// Uniform in [0, 1).
  double uniform();
  uint64_t state_ = 0;
  std::vector<std::pair<float, int64_t>> scratch_;
};

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_SAMPLER_H
