//===- NpuSimulator.h - a systolic-array NPU, simulated ---------*- C++ -*-===//
//
// A weight-stationary R×C systolic array with a DRAM interface, computing
// real numbers and counting time, for the NPU target. Simulated: no NPU
// runs it here.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_NPU_NPUSIMULATOR_H
#define LLMC_RUNTIME_NPU_NPUSIMULATOR_H

#include <cstdint>

namespace llmc::npu {

struct NpuTiming {
  int rows = 1, cols = 1;   // processing elements of the array
  double clock = 1;         // Hz
  double dramBandwidth = 1; // bytes/s
  double bufferBytes = 0;   // on-chip buffer
};

struct NpuRun {
  double seconds = 0;       // the whole product
  double arraySeconds = 0;  // the array computing
  double memorySeconds = 0; // the DRAM interface busy
  int64_t weightTiles = 0;
};

/// Y[M,N] = X[M,K] · W[K,N] (row-major, f32). The array holds one R×C tile
/// of W at a time (k-block × n-block, zero-padded at the edges); the M rows
/// of the matching X block stream through it in M + R + C cycles (fill and
/// drain included), adding into Y. The DRAM interface works ahead of the
/// array: weight tiles are double-buffered (a tile loads once the tile two
/// back is done), X is read once when it fits in half the buffer and once
/// per column block of W otherwise, and each finished column block of Y is
/// stored while the array goes on.
NpuRun npuMatmul(const NpuTiming &timing, const float *x, const float *w,
                 float *y, int m, int k, int n);

} // namespace llmc::npu

#endif // LLMC_RUNTIME_NPU_NPUSIMULATOR_H
