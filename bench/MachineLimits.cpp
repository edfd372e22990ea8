//===- MachineLimits.cpp - FMA peak and DRAM read bandwidth ---------------===//
//
// Compiled for the host (-march=native): the widest vectors the machine
// has are what the generated code uses too.
//
//===----------------------------------------------------------------------===//

#include "MachineLimits.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using Vec = float __attribute__((vector_size(64)));
constexpr int kChains = 16;
constexpr int kLanes = sizeof(Vec) / sizeof(float);

double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Runs `body(thread)` on `threads` threads and returns the wall time.
template <typename F> double timedOnThreads(int threads, F body) {
  std::vector<std::thread> pool;
  double start = seconds();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(body, t);
  for (std::thread &t : pool)
    t.join();
  return seconds() - start;
}

float fmaChains(long iterations, float seed) {
  Vec acc[kChains];
  Vec m, c;
  for (int i = 0; i < kLanes; ++i) {
    m[i] = 0.999f;
    c[i] = seed;
  }
  for (Vec &a : acc)
    a = c;
  for (long n = 0; n < iterations; ++n)
    for (Vec &a : acc)
      a = a * m + c;
  float sum = 0;
  for (Vec &a : acc)
    for (int i = 0; i < kLanes; ++i)
      sum += a[i];
  return sum;
}

float readSum(const float *data, size_t count) {
  Vec acc[8] = {};
  const Vec *v = reinterpret_cast<const Vec *>(data);
  size_t vectors = count / kLanes;
  for (size_t i = 0; i + 8 <= vectors; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += v[i + j];
  float sum = 0;
  for (Vec &a : acc)
    for (int i = 0; i < kLanes; ++i)
      sum += a[i];
  return sum;
}

volatile float sink;

} // namespace

double llmc::bench::measureFmaPeak(int threads) {
  constexpr long kIterations = 1L << 25;
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep)
    best = std::min(best, timedOnThreads(threads, [](int t) {
                      sink = fmaChains(kIterations, 1.0f + t);
                    }));
  double flops = 2.0 * kLanes * kChains * kIterations * threads;
  return flops / best / 1e9;
}

double llmc::bench::measureReadBandwidth(int threads, double bytes) {
  size_t count = static_cast<size_t>(bytes / sizeof(float));
  count -= count % (static_cast<size_t>(threads) * 8 * kLanes);
  auto *data = static_cast<float *>(std::aligned_alloc(64, count * 4));
  if (!data)
    return 0;
  std::memset(data, 0, count * 4);
  size_t slice = count / threads;
  double best = 1e30;
  for (int rep = 0; rep < 4; ++rep)
    best = std::min(best, timedOnThreads(threads, [&](int t) {
                      sink = readSum(data + t * slice, slice);
                    }));
  std::free(data);
  return count * 4.0 / best / 1e9;
}
