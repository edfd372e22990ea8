//===- CostModel.h - PLMR cost model of a wafer-scale mesh ------*- C++ -*-===//
//
// WaferLLM's PLMR view of a P×P mesh (techniques.md §2): massive
// Parallelism, non-uniform Latency (α per hop, β per message), small
// per-core Memory M, few Routing resources R (colors) per core.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_MESH_COSTMODEL_H
#define LLMC_TARGETS_MESH_COSTMODEL_H

#include "targets/common/TargetDescription.h"

namespace mlir::llm::mesh {

struct MeshParameters {
  int64_t grid = 1;               // P: the mesh is P×P cores
  double coreMemoryBytes = 0;     // M
  double coreFlops = 0;           // FLOP/s per core
  double coreMemoryBandwidth = 0; // bytes/s per core (local SRAM)
  double hopLatency = 0;          // α, seconds
  double messageOverhead = 0;     // β, seconds
  int64_t routingColors = 1;      // R
  double launchOverhead = 0;      // seconds per op
};

/// Critical-path communication of MeshGEMM on p×p cores: the Cannon skew
/// (⌊p/2⌋ ring shifts, each going the shorter way) and the p − 1 shifts
/// between the p multiply steps, every logical neighbour ≤ 2 hops away on
/// the interleaved ring: (⌊p/2⌋ + p − 1)·(2α + β), O(p).
double meshGemmCommunication(int64_t p, double alpha, double beta);
/// The same schedule on a plain ring without wrap-around links: the shift
/// that closes the ring crosses p − 1 hops every step, O(p²).
double naiveRingGemmCommunication(int64_t p, double alpha, double beta);
/// WaferLLM's two-level tree all-reduce over a line of p cores (the K = 2
/// case of O(α·N + (K·N^{1/K}/2)·β)): groups of g = ⌈√p⌉ reduce towards
/// their middle core in c₁ steps of one hop, the G = ⌈p/g⌉ group middles
/// towards the middle group in c₂ steps of g hops, then the sum goes back
/// the same way: 2·(c₁·(α + β) + c₂·(g·α + β)) + (c₁ + c₂)·add, `add`
/// being the time to add one received partial.
double treeAllReduce(int64_t p, double alpha, double beta,
                     double addSeconds = 0);

/// Colors one core needs: MeshGEMM 3 per axis (send, receive, transit),
/// MeshGEMV's two-level tree 2 per level.
constexpr int64_t kMeshGemmColors = 6;
constexpr int64_t kMeshGemvColors = 4;

/// One way to run an op on a p×p sub-grid, checked against M and R.
struct MeshPlan {
  const char *algorithm = "";
  int64_t cores = 1; // p
  double bytesPerCore = 0;
  int64_t colors = 0;
  CostEstimate estimate;
};

class MeshModel : public DeviceModel {
public:
  explicit MeshModel(MeshParameters p) : p(p) {}
  llvm::StringRef kind() const override { return "mesh"; }
  /// The fastest legal plan over sub-grids p = P, P/2, ..., 1; unsupported
  /// (saying which limit) when no plan fits.
  CostEstimate estimate(const OpCost &cost) const override;
  double memoryBandwidth() const override {
    return p.coreMemoryBandwidth * p.grid * p.grid;
  }
  double peakOpsPerSecond() const override {
    return p.coreFlops * p.grid * p.grid;
  }
  /// Weights and KV stay in the cores' SRAM: P²·M.
  double residentCapacity() const override {
    return p.coreMemoryBytes * p.grid * p.grid;
  }
  /// The plan on a p×p sub-grid; its estimate is unsupported when the tile
  /// exceeds M or the colors exceed R.
  MeshPlan plan(const OpCost &cost, int64_t cores) const;
  /// The fastest legal plan, or nothing with the first limit it broke.
  std::optional<MeshPlan> bestPlan(const OpCost &cost,
                                   std::string &firstFailure) const;
  /// A program on the sub-grid of the best plan for `cost`.
  std::optional<llmc::device::DeviceProgram>
  programTemplate(const OpCost &cost) const override;
  static std::unique_ptr<DeviceModel> fromDescription(DescriptionReader &r);

private:
  MeshParameters p;
};

void registerMeshDeviceKind();

} // namespace mlir::llm::mesh

#endif // LLMC_TARGETS_MESH_COSTMODEL_H
