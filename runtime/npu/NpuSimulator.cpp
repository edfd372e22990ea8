//===- NpuSimulator.cpp - a systolic-array NPU, simulated -----------------===//

#include "runtime/npu/NpuSimulator.h"

#include <algorithm>
#include <vector>

using namespace llmc::npu;

NpuRun llmc::npu::npuMatmul(const NpuTiming &t, const float *x, const float *w,
                            float *y, int m, int k, int n) {
  NpuRun run;
  std::fill(y, y + size_t(m) * n, 0.0f);
  int kBlocks = (k + t.rows - 1) / t.rows, nBlocks = (n + t.cols - 1) / t.cols;
  double xBytes = 4.0 * m * k;
  bool xResident = xBytes <= t.bufferBytes / 2;
  // Two resources: the array and the DRAM interface, each with a clock.
  // The interface works ahead: a weight tile loads into the free half of
  // the double buffer (once the tile two back has finished), with the X
  // block it needs the first time; a finished column block of Y is stored
  // while the array goes on.
  double tileSeconds = (double(m) + t.rows + t.cols) / t.clock;
  double array = 0, memory = 0, pendingStore = 0;
  std::vector<double> finished; // per tile, when the array was done with it
  std::vector<float> tile(size_t(t.rows) * t.cols);
  for (int nb = 0; nb < nBlocks; ++nb) {
    for (int kb = 0; kb < kBlocks; ++kb) {
      int k0 = kb * t.rows, n0 = nb * t.cols;
      int kt = std::min(t.rows, k - k0), nt = std::min(t.cols, n - n0);
      double bytes = 4.0 * kt * nt;
      if (!xResident || nb == 0)
        bytes += 4.0 * m * kt;
      size_t index = finished.size();
      double slotFree = index >= 2 ? finished[index - 2] : 0.0;
      // Pending stores of Y use the interface while it would wait for the
      // slot; the loads that keep the array busy go first.
      if (slotFree > memory) {
        double drained =
            std::min(pendingStore, (slotFree - memory) * t.dramBandwidth);
        pendingStore -= drained;
        memory += drained / t.dramBandwidth;
      }
      memory = std::max(memory, slotFree) + bytes / t.dramBandwidth;
      run.memorySeconds += bytes / t.dramBandwidth;
      // Load the weight tile into the PEs (zero-padded) and stream the
      // rows through: PE (r, c) multiplies the X value passing along its
      // row by its weight and adds it into the sum flowing down column c.
      std::fill(tile.begin(), tile.end(), 0.0f);
      for (int r = 0; r < kt; ++r)
        for (int c = 0; c < nt; ++c)
          tile[size_t(r) * t.cols + c] = w[size_t(k0 + r) * n + n0 + c];
      for (int i = 0; i < m; ++i) {
        const float *row = x + size_t(i) * k + k0;
        float *out = y + size_t(i) * n + n0;
        for (int c = 0; c < nt; ++c) {
          float sum = 0;
          for (int r = 0; r < kt; ++r)
            sum += row[r] * tile[size_t(r) * t.cols + c];
          out[c] += sum;
        }
      }
      array = std::max(array, memory) + tileSeconds;
      finished.push_back(array);
      run.arraySeconds += tileSeconds;
      ++run.weightTiles;
    }
    // The column block of Y is complete: it is stored when the interface
    // has time.
    double store = 4.0 * m * std::min(t.cols, n - nb * t.cols);
    pendingStore += store;
    run.memorySeconds += store / t.dramBandwidth;
  }
  memory += pendingStore / t.dramBandwidth;
  run.seconds = std::max(array, memory);
  return run;
}
