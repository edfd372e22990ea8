//===- MeshSimulator.cpp - a wafer-scale mesh, simulated ------------------===//

#include "runtime/mesh/MeshSimulator.h"

#include <algorithm>
#include <cstdlib>

using namespace llmc::mesh;

namespace {

int ceilDiv(int a, int b) { return (a + b - 1) / b; }

/// Clocks of a p×p grid and the cost of messages between its cores.
class Clocks {
public:
  Clocks(int p, const MeshTiming &timing)
      : p(p), timing(timing), clocks(size_t(p) * p, 0.0) {}

  double &at(int row, int col) { return clocks[size_t(row) * p + col]; }

  void compute(int row, int col, double flops) {
    at(row, col) += flops / timing.coreFlops;
  }

  /// When a message sent at `sent` from one core arrives at another.
  double arrival(double sent, int fromRow, int fromCol, int toRow, int toCol) {
    int hops = std::abs(fromRow - toRow) + std::abs(fromCol - toCol);
    ++run.messages;
    run.maxHops = std::max(run.maxHops, hops);
    return sent + hops * timing.hopLatency + timing.messageOverhead;
  }

  /// One message, the receiver waiting for it.
  void send(int fromRow, int fromCol, int toRow, int toCol) {
    double &receiver = at(toRow, toCol);
    receiver = std::max(receiver, arrival(at(fromRow, fromCol), fromRow,
                                          fromCol, toRow, toCol));
  }

  MeshRun finish(double computeSeconds) {
    run.seconds = *std::max_element(clocks.begin(), clocks.end());
    run.computeSeconds = computeSeconds;
    return run;
  }

private:
  int p;
  MeshTiming timing;
  std::vector<double> clocks;
  MeshRun run;
};

} // namespace

std::vector<int> llmc::mesh::ringOrder(int p, Ring ring) {
  std::vector<int> order;
  if (ring == Ring::Plain) {
    for (int i = 0; i < p; ++i)
      order.push_back(i);
    return order;
  }
  for (int i = 0; i < p; i += 2)
    order.push_back(i);
  for (int i = p - 1 - (p % 2 == 0 ? 0 : 1); i >= 1; i -= 2)
    order.push_back(i);
  return order;
}

MeshRun llmc::mesh::meshGemm(int p, Ring ring, const MeshTiming &timing,
                             const float *a, const float *b, float *c, int m,
                             int k, int n) {
  int mt = ceilDiv(m, p), kt = ceilDiv(k, p), nt = ceilDiv(n, p);
  std::vector<int> order = ringOrder(p, ring);
  // Tiles by logical position (li, lj); core (li, lj) sits at physical
  // (order[li], order[lj]).
  using Tile = std::vector<float>;
  std::vector<Tile> ta(size_t(p) * p), tb(size_t(p) * p),
      tc(size_t(p) * p, Tile(size_t(mt) * nt, 0.0f));
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      Tile &x = ta[size_t(i) * p + j], &y = tb[size_t(i) * p + j];
      x.assign(size_t(mt) * kt, 0.0f);
      y.assign(size_t(kt) * nt, 0.0f);
      for (int r = 0; r < mt; ++r)
        for (int q = 0; q < kt; ++q)
          if (i * mt + r < m && j * kt + q < k)
            x[size_t(r) * kt + q] = a[size_t(i * mt + r) * k + j * kt + q];
      for (int r = 0; r < kt; ++r)
        for (int q = 0; q < nt; ++q)
          if (i * kt + r < k && j * nt + q < n)
            y[size_t(r) * nt + q] = b[size_t(i * kt + r) * n + j * nt + q];
    }
  Clocks clocks(p, timing);
  auto phys = [&](int logical) { return order[logical]; };

  // One ring step of every A tile along its row (towards the lower logical
  // column when `left`) for the rows in `rowsA`, and of every B tile along
  // its column for the columns in `colsB`, all at once. A ring shift is
  // bulk-synchronous, as in Cannon's algorithm: the next step on a ring
  // starts when its slowest message has arrived.
  auto shift = [&](const std::vector<int> &rowsA, const std::vector<bool> &left,
                   const std::vector<int> &colsB, const std::vector<bool> &up) {
    std::vector<double> before(size_t(p) * p);
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j)
        before[size_t(i) * p + j] = clocks.at(phys(i), phys(j));
    std::vector<double> rowDone(p, 0.0), colDone(p, 0.0);
    for (size_t r = 0; r < rowsA.size(); ++r) {
      int i = rowsA[r];
      std::vector<Tile> row(p);
      for (int j = 0; j < p; ++j) {
        int from = left[r] ? (j + 1) % p : (j + p - 1) % p;
        row[j] = std::move(ta[size_t(i) * p + from]);
        double t = clocks.arrival(before[size_t(i) * p + from], phys(i),
                                  phys(from), phys(i), phys(j));
        rowDone[i] = std::max({rowDone[i], t, before[size_t(i) * p + j]});
      }
      for (int j = 0; j < p; ++j)
        ta[size_t(i) * p + j] = std::move(row[j]);
    }
    for (size_t q = 0; q < colsB.size(); ++q) {
      int j = colsB[q];
      std::vector<Tile> col(p);
      for (int i = 0; i < p; ++i) {
        int from = up[q] ? (i + 1) % p : (i + p - 1) % p;
        col[i] = std::move(tb[size_t(from) * p + j]);
        double t = clocks.arrival(before[size_t(from) * p + j], phys(from),
                                  phys(j), phys(i), phys(j));
        colDone[j] = std::max({colDone[j], t, before[size_t(i) * p + j]});
      }
      for (int i = 0; i < p; ++i)
        tb[size_t(i) * p + j] = std::move(col[i]);
    }
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) {
        double &clock = clocks.at(phys(i), phys(j));
        clock = std::max({clock, rowDone[i], colDone[j]});
      }
  };

  // Skew: row i moves its A tiles i positions to the left (or p − i to the
  // right, whichever is shorter), column j its B tiles j positions up.
  for (int step = 0; step < p / 2 + 1; ++step) {
    std::vector<int> rows, cols;
    std::vector<bool> left, up;
    for (int i = 0; i < p; ++i) {
      int s = i, shorter = std::min(s, p - s);
      if (step < shorter) {
        rows.push_back(i);
        left.push_back(s <= p - s);
        cols.push_back(i);
        up.push_back(s <= p - s);
      }
    }
    if (rows.empty())
      break;
    shift(rows, left, cols, up);
  }

  std::vector<int> all(p);
  for (int i = 0; i < p; ++i)
    all[i] = i;
  std::vector<bool> forward(p, true);
  double flops = 2.0 * mt * kt * nt;
  for (int step = 0; step < p; ++step) {
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) {
        const Tile &x = ta[size_t(i) * p + j], &y = tb[size_t(i) * p + j];
        Tile &z = tc[size_t(i) * p + j];
        for (int r = 0; r < mt; ++r)
          for (int q = 0; q < kt; ++q) {
            float v = x[size_t(r) * kt + q];
            for (int s = 0; s < nt; ++s)
              z[size_t(r) * nt + s] += v * y[size_t(q) * nt + s];
          }
        clocks.compute(phys(i), phys(j), flops);
      }
    if (step + 1 < p)
      shift(all, forward, all, forward);
  }
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j)
      for (int r = 0; r < mt; ++r)
        for (int s = 0; s < nt; ++s)
          if (i * mt + r < m && j * nt + s < n)
            c[size_t(i * mt + r) * n + j * nt + s] =
                tc[size_t(i) * p + j][size_t(r) * nt + s];
  return clocks.finish(p * flops / timing.coreFlops);
}

MeshRun llmc::mesh::meshGemv(int p, const MeshTiming &timing, const float *w,
                             const float *x, float *y, int k, int n) {
  int kt = ceilDiv(k, p), nt = ceilDiv(n, p);
  Clocks clocks(p, timing);
  // partial[i][j]: core (i, j)'s Nt values.
  std::vector<std::vector<float>> partial(size_t(p) * p,
                                          std::vector<float>(nt, 0.0f));
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      std::vector<float> &out = partial[size_t(i) * p + j];
      for (int r = 0; r < kt; ++r) {
        int row = i * kt + r;
        if (row >= k)
          break;
        for (int s = 0; s < nt; ++s)
          if (j * nt + s < n)
            out[s] += x[row] * w[size_t(row) * n + j * nt + s];
      }
      clocks.compute(i, j, 2.0 * kt * nt);
    }

  // Down every column: the two-level tree over rows 0..p-1.
  int g = 1;
  while (g * g < p)
    ++g;
  std::vector<int> roots;
  for (int start = 0; start < p; start += g)
    roots.push_back(start + std::min(g, p - start) / 2);
  int top = roots.size() / 2;
  for (int j = 0; j < p; ++j) {
    auto add = [&](int from, int to) {
      clocks.send(from, j, to, j);
      std::vector<float> &dst = partial[size_t(to) * p + j];
      const std::vector<float> &src = partial[size_t(from) * p + j];
      for (int s = 0; s < nt; ++s)
        dst[s] += src[s];
      clocks.compute(to, j, nt);
    };
    auto copy = [&](int from, int to) {
      clocks.send(from, j, to, j);
      partial[size_t(to) * p + j] = partial[size_t(from) * p + j];
    };
    // Phase 1: each group towards its middle, from both ends.
    for (size_t group = 0; group < roots.size(); ++group) {
      int start = group * g, end = std::min(p, start + g) - 1;
      for (int q = start; q < roots[group]; ++q)
        add(q, q + 1);
      for (int q = end; q > roots[group]; --q)
        add(q, q - 1);
    }
    // Phase 2: the group middles towards the middle group's.
    for (int r = 0; r < top; ++r)
      add(roots[r], roots[r + 1]);
    for (int r = roots.size() - 1; r > top; --r)
      add(roots[r], roots[r - 1]);
    // Phase 3: back out, the same way.
    for (int r = top; r > 0; --r)
      copy(roots[r], roots[r - 1]);
    for (int r = top; r + 1 < int(roots.size()); ++r)
      copy(roots[r], roots[r + 1]);
    for (size_t group = 0; group < roots.size(); ++group) {
      int start = group * g, end = std::min(p, start + g) - 1;
      for (int q = roots[group]; q > start; --q)
        copy(q, q - 1);
      for (int q = roots[group]; q < end; ++q)
        copy(q, q + 1);
    }
  }
  // Read from the last row, the farthest from the root after the broadcast.
  for (int j = 0; j < p; ++j)
    for (int s = 0; s < nt; ++s)
      if (j * nt + s < n)
        y[j * nt + s] = partial[size_t(p - 1) * p + j][s];
  return clocks.finish(2.0 * kt * nt / timing.coreFlops);
}
