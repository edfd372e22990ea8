//===- Sampler.cpp - next-token selection from logits ---------------------===//

#include "runtime/Sampler.h"

#include "runtime/Status.h"

#include <algorithm>
#include <cmath>

using namespace llmc::runtime;

llmc_status Sampler::checkSampling(const llmc_sampling &s) {
  if (!(s.temperature >= 0.0f) || std::isinf(s.temperature))
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "temperature must be finite and >= 0");
  if (s.top_k < 0)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "top_k must be >= 0");
  if (!(s.top_p > 0.0f && s.top_p <= 1.0f))
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "top_p must be in (0, 1]");
  return LLMC_OK;
}

double Sampler::uniform() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

int64_t Sampler::sample(const float *logits, int64_t vocab,
                        const llmc_sampling &s) {
  if (s.temperature == 0.0f) {
    // Greedy; NaN never wins, ties go to the lowest id.
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (logits[i] > logits[best] || std::isnan(logits[best]))
        best = i;
    return best;
  }
  scratch_.clear();
  for (int64_t i = 0; i < vocab; ++i)
    if (!std::isnan(logits[i]))
      scratch_.emplace_back(logits[i], i);
  if (scratch_.empty())
    return 0;
  // Highest first, ids breaking ties, so the order is deterministic.
  auto higher = [](const std::pair<float, int64_t> &a,
                   const std::pair<float, int64_t> &b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = scratch_.size();
  if (s.top_k > 0 && static_cast<size_t>(s.top_k) < keep) {
    keep = static_cast<size_t>(s.top_k);
    std::partial_sort(scratch_.begin(), scratch_.begin() + keep, scratch_.end(),
                      higher);
    scratch_.resize(keep);
  } else {
    std::sort(scratch_.begin(), scratch_.end(), higher);
  }
  // Softmax at the temperature, max subtracted.
  double top = scratch_.front().first;
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i)
    sum += p[i] = std::exp((scratch_[i].first - top) / s.temperature);
  // Nucleus: the smallest prefix whose mass reaches top_p.
  if (s.top_p < 1.0f) {
    double mass = 0;
    size_t n = 0;
    while (n < keep) {
      mass += p[n++] / sum;
      if (mass >= s.top_p)
        break;
    }
    keep = n;
    sum = 0;
    for (size_t i = 0; i < keep; ++i)
      sum += p[i];
  }
  double u = uniform() * sum;
  for (size_t i = 0; i < keep; ++i) {
    u -= p[i];
    if (u < 0)
      return scratch_[i].second;
  }
  return scratch_[keep - 1].second;
}
