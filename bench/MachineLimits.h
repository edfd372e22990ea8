//===- MachineLimits.h - FMA peak and DRAM read bandwidth -------*- C++ -*-===//
//
// The two limits the benchmark quotes its figures against, measured in the
// same run as the model (the machine is shared: limits measured at another
// time would flatter or insult the figures).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_BENCH_MACHINELIMITS_H
#define LLMC_BENCH_MACHINELIMITS_H

namespace llmc::bench {

/// f32 FMA throughput of `threads` threads, GFLOP/s (2 FLOP per lane):
/// independent accumulator chains, no memory traffic.
double measureFmaPeak(int threads);

/// Read bandwidth of `threads` threads streaming `bytes` of memory, GB/s
/// (10^9 bytes): best of a few passes over a buffer much larger than the
/// caches.
double measureReadBandwidth(int threads, double bytes);

} // namespace llmc::bench

#endif // LLMC_BENCH_MACHINELIMITS_H
