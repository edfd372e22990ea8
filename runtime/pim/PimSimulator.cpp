//===- PimSimulator.cpp - bank-level PIM, simulated -----------------------===//

#include "runtime/pim/PimSimulator.h"

#include <algorithm>
#include <vector>

using namespace llmc::pim;

PimRun llmc::pim::pimGemv(const PimTiming &t, const float *x, const float *w,
                          float *y, int m, int k, int n) {
  PimRun run;
  int banks = t.channels * t.banksPerChannel;
  // Columns per bank: round-robin, so banks differ by at most one column.
  std::vector<int> columns(banks, 0);
  for (int c = 0; c < n; ++c)
    ++columns[c % banks];
  int busiest = *std::max_element(columns.begin(), columns.end());
  run.passes = (m + t.vectorsPerPass - 1) / t.vectorsPerPass;
  for (int64_t pass = 0; pass < run.passes; ++pass) {
    int first = int(pass) * t.vectorsPerPass;
    int count = std::min(t.vectorsPerPass, m - first);
    // Every bank: its columns against this pass's vectors.
    for (int bank = 0; bank < banks; ++bank)
      for (int c = bank; c < n; c += banks)
        for (int v = first; v < first + count; ++v) {
          float sum = 0;
          for (int r = 0; r < k; ++r)
            sum += x[size_t(v) * k + r] * w[size_t(r) * n + c];
          y[size_t(v) * n + c] = sum;
        }
    double read = 4.0 * k * busiest / t.bankBandwidth;
    double macs = double(k) * busiest * count / (t.macsPerBank * t.clock);
    run.bankSeconds += std::max(read, macs);
  }
  run.externalSeconds = 4.0 * m * (k + n) / t.dramBandwidth;
  run.seconds = run.bankSeconds + run.externalSeconds;
  return run;
}

PimRun llmc::pim::pimGemvRowsOverBanks(const PimTiming &t, const float *x,
                                       const float *w, float *y, int m, int k,
                                       int n) {
  PimRun run;
  int banks = t.channels * t.banksPerChannel;
  int rowsPerBank = (k + banks - 1) / banks;
  int used = (k + rowsPerBank - 1) / rowsPerBank;
  std::fill(y, y + size_t(m) * n, 0.0f);
  run.passes = (m + t.vectorsPerPass - 1) / t.vectorsPerPass;
  for (int64_t pass = 0; pass < run.passes; ++pass) {
    int first = int(pass) * t.vectorsPerPass;
    int count = std::min(t.vectorsPerPass, m - first);
    // Every bank: its rows against this pass's vectors, a partial sum of
    // every output, added outside in bank order.
    for (int bank = 0; bank < used; ++bank) {
      int begin = bank * rowsPerBank, end = std::min(k, begin + rowsPerBank);
      for (int v = first; v < first + count; ++v)
        for (int c = 0; c < n; ++c) {
          float partial = 0;
          for (int r = begin; r < end; ++r)
            partial += x[size_t(v) * k + r] * w[size_t(r) * n + c];
          y[size_t(v) * n + c] += partial;
        }
    }
    double read = 4.0 * rowsPerBank * n / t.bankBandwidth;
    double macs = double(rowsPerBank) * n * count / (t.macsPerBank * t.clock);
    run.bankSeconds += std::max(read, macs);
  }
  // Inputs in; every used bank's partial sums out.
  run.externalSeconds = 4.0 * m * (k + double(used) * n) / t.dramBandwidth;
  run.seconds = run.bankSeconds + run.externalSeconds;
  return run;
}
