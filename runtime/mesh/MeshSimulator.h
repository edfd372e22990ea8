//===- MeshSimulator.h - a wafer-scale mesh, simulated ----------*- C++ -*-===//
//
// A P×P grid of cores that computes real numbers and counts time, for the
// mesh target's collectives (WaferLLM's MeshGEMM and MeshGEMV). Every core
// has a clock: computing advances it at the core's FLOP rate; a message to
// another core arrives hops·α + β after it was sent (α per hop of Manhattan
// distance, β per message), and the receiver's clock moves up to the
// arrival. The step's time is the largest clock: the critical path. The
// mesh has no wrap-around links. Simulated: no hardware here runs it.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_MESH_MESHSIMULATOR_H
#define LLMC_RUNTIME_MESH_MESHSIMULATOR_H

#include <cstdint>
#include <vector>

namespace llmc::mesh {

struct MeshTiming {
  double hopLatency = 0;      // α, seconds per hop
  double messageOverhead = 0; // β, seconds per message
  double coreFlops = 1;       // FLOP/s of one core
};

/// How a row (or column) of P cores is closed into a logical ring.
enum class Ring {
  /// WaferLLM's interleaving: positions 0, 2, 4, ..., then the odd ones
  /// backwards, so that logical neighbours are at most 2 hops apart.
  Interleaved,
  /// Physical order: the link that closes the ring crosses P − 1 hops.
  Plain,
};

/// Physical index of each logical ring position.
std::vector<int> ringOrder(int p, Ring ring);

struct MeshRun {
  /// The critical path (largest core clock), seconds.
  double seconds = 0;
  /// Of which arithmetic on one core, seconds.
  double computeSeconds = 0;
  int64_t messages = 0;
  /// The longest single message, in hops.
  int maxHops = 0;
};

/// C[M,N] = A[M,K] · B[K,N] (row-major) by Cannon's algorithm on p×p
/// cores: tiles of ⌈M/p⌉×⌈K/p⌉ and ⌈K/p⌉×⌈N/p⌉ (zero-padded), the skew
/// (row i's A tiles shifted i positions along the ring, column j's B tiles
/// j positions, each ring shift going the shorter way, so at most p/2
/// steps), then p multiply-accumulate steps with one ring shift of A along
/// the rows and B along the columns between them. A ring shift is
/// bulk-synchronous (the ring's next step waits for its slowest message),
/// so the link that closes a plain ring costs p − 1 hops on every step.
MeshRun meshGemm(int p, Ring ring, const MeshTiming &timing, const float *a,
                 const float *b, float *c, int m, int k, int n);

/// y[N] = x[K] · W[K,N]: core (i, j) holds W's tile (i, j) and x's slice
/// i. Each computes its partial y_j; every column of cores all-reduces them
/// with WaferLLM's two-level tree (groups of g = ⌈√p⌉ cores reduce towards
/// their middle core, the group middles towards the middle group, then the
/// sum is broadcast back the same way). `y` is read from the core farthest
/// from the root after the broadcast.
MeshRun meshGemv(int p, const MeshTiming &timing, const float *w,
                 const float *x, float *y, int k, int n);

} // namespace llmc::mesh

#endif // LLMC_RUNTIME_MESH_MESHSIMULATOR_H
