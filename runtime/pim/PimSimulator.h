//===- PimSimulator.h - bank-level PIM, simulated ---------------*- C++ -*-===//
//
// GEMV units beside the DRAM banks (Newton/AiM/HBM-PIM style), computing
// real numbers and counting time, for the PIM target. Simulated: no PIM
// device runs it here.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_PIM_PIMSIMULATOR_H
#define LLMC_RUNTIME_PIM_PIMSIMULATOR_H

#include <cstdint>

namespace llmc::pim {

struct PimTiming {
  int channels = 1, banksPerChannel = 1;
  double bankBandwidth = 1; // bytes/s each bank's MAC units read
  int macsPerBank = 1;
  double clock = 1;         // Hz of the MAC units
  int vectorsPerPass = 1;   // input vectors applied per pass over a slice
  double dramBandwidth = 1; // bytes/s of the external interface
};

struct PimRun {
  double seconds = 0;
  int64_t passes = 0;
  double bankSeconds = 0;     // the slowest bank, all passes
  double externalSeconds = 0; // inputs in, outputs out
};

/// Y[M,N] = X[M,K] · W[K,N] (f32) with W in the banks: its N columns are
/// dealt round-robin to the channels × banks, each bank holding whole
/// columns. The M input vectors cross the external interface and are
/// broadcast to every bank; each pass applies up to `vectorsPerPass` of
/// them while the bank reads its columns once (at the bank bandwidth; the
/// MACs run at the same time, the slower of the two counts). Outputs go
/// back over the interface.
PimRun pimGemv(const PimTiming &timing, const float *x, const float *w,
               float *y, int m, int k, int n);

/// The same product with W's K rows dealt to the banks in contiguous
/// blocks instead of its columns: each bank reads its rows once per pass
/// and produces partial sums of all N outputs, which cross the external
/// interface and are added there. For a matrix with few columns (attention's
/// ·V, N = head_dim) this keeps every bank busy.
PimRun pimGemvRowsOverBanks(const PimTiming &timing, const float *x,
                            const float *w, float *y, int m, int k, int n);

} // namespace llmc::pim

#endif // LLMC_RUNTIME_PIM_PIMSIMULATOR_H
