//===- CostModel.cpp - PLMR cost model of a wafer-scale mesh --------------===//

#include "targets/mesh/CostModel.h"
#include "targets/common/Roofline.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir::llm;
using namespace mlir::llm::mesh;

double mlir::llm::mesh::meshGemmCommunication(int64_t p, double alpha,
                                              double beta) {
  double steps = std::floor(p / 2.0) + p - 1;
  return steps * (2 * alpha + beta);
}

double mlir::llm::mesh::naiveRingGemmCommunication(int64_t p, double alpha,
                                                   double beta) {
  double steps = std::floor(p / 2.0) + p - 1;
  return steps * (std::max<int64_t>(p - 1, 1) * alpha + beta);
}

double mlir::llm::mesh::treeAllReduce(int64_t p, double alpha, double beta,
                                      double addSeconds) {
  int64_t g = 1;
  while (g * g < p)
    ++g;
  int64_t groups = (p + g - 1) / g;
  int64_t root = g / 2, top = groups / 2;
  double inGroup = std::max(root, g - 1 - root);
  double acrossGroups = std::max(top, groups - 1 - top);
  return 2 * (inGroup * (alpha + beta) + acrossGroups * (g * alpha + beta)) +
         (inGroup + acrossGroups) * addSeconds;
}

static double ceilDiv(double a, double b) { return std::ceil(a / b); }

MeshPlan MeshModel::plan(const OpCost &cost, int64_t cores) const {
  MeshPlan plan;
  plan.cores = cores;
  double q = cores, cells = q * q;
  double alpha = p.hopLatency, beta = p.messageOverhead;
  CostEstimate &e = plan.estimate;
  // Bytes per element of the matrix operands (f32 when nothing says).
  double matrixElements = double(cost.batch) * cost.k * cost.n;
  double element = 4;
  if (matrixElements > 0 && cost.weightBytes + cost.kvReadBytes > 0)
    element = (cost.weightBytes + cost.kvReadBytes) /
              (matrixElements * (cost.kind == WorkKind::Attention ? 2 : 1));
  e.memorySeconds = cost.bytes() / (cells * p.coreMemoryBandwidth);

  // Independent products (batch items, KV heads) run side by side on
  // disjoint p×p sub-grids of the P×P mesh; `rounds` of them in sequence.
  double subGrids = std::max(1.0, std::floor(double(p.grid) / q) *
                                      std::floor(double(p.grid) / q));
  double rounds =
      std::ceil(double(std::max<int64_t>(cost.batch, 1)) /
                std::min(subGrids, double(std::max<int64_t>(cost.batch, 1))));
  switch (cost.kind) {
  case WorkKind::Matmul:
  case WorkKind::Attention: {
    bool attention = cost.kind == WorkKind::Attention;
    double kt = ceilDiv(cost.k, q), nt = ceilDiv(cost.n, q);
    // Attention is two products per item: Q·Kᵀ ([m,d]x[d,S]) and P·V.
    double products = attention ? 2 : 1;
    if (cost.m >= cores) {
      double mt = ceilDiv(cost.m, q);
      plan.algorithm = attention ? "MeshGEMM attention" : "MeshGEMM";
      plan.colors = kMeshGemmColors;
      plan.bytesPerCore =
          rounds * element * (2 * (mt * kt + kt * nt) + mt * nt) * products;
      e.computeSeconds =
          rounds * products * q * 2 * mt * kt * nt / p.coreFlops +
          (attention ? rounds * 5 * mt * nt / p.coreFlops : 0);
      e.communicationSeconds =
          rounds * products * meshGemmCommunication(cores, alpha, beta) +
          (attention ? rounds * 2 * treeAllReduce(cores, alpha, beta) : 0);
    } else {
      // GEMV per input row against the matrix resident in the cores (the
      // weights, or K and V split over hidden and sequence axes), then the
      // partial sums all-reduced; attention reduces three times (max, sum,
      // output). Rows pipeline behind the first reduction.
      plan.algorithm = attention ? "MeshGEMV attention" : "MeshGEMV";
      plan.colors = kMeshGemvColors;
      double rows = std::max<int64_t>(cost.m, 1);
      plan.bytesPerCore =
          rounds * element * products * kt * nt + element * (kt + nt) * rows;
      e.computeSeconds = rounds * cost.flops /
                         std::max(1.0, double(cost.batch)) * (kt * nt) /
                         (std::max(1.0, double(cost.k) * cost.n) * p.coreFlops);
      double reductions = attention ? 3 : 1;
      e.communicationSeconds =
          rounds * reductions *
              treeAllReduce(cores, alpha, beta, nt / p.coreFlops) +
          std::max(0.0, rounds * rows - 1) * beta;
    }
    break;
  }
  case WorkKind::Elementwise:
    plan.algorithm = cost.rowReduction ? "distributed row reduction"
                                       : "distributed elementwise";
    plan.colors = cost.rowReduction ? kMeshGemvColors : 2;
    plan.bytesPerCore = cost.bytes() / cells;
    e.computeSeconds = cost.flops / (cells * p.coreFlops);
    e.communicationSeconds =
        (cost.rowReduction ? treeAllReduce(cores, alpha, beta) : 0) + beta;
    break;
  case WorkKind::Gather:
  case WorkKind::DataMovement:
    plan.algorithm = cost.kind == WorkKind::Gather ? "row gather" : "re-layout";
    plan.colors = 2;
    plan.bytesPerCore = cost.bytes() / cells;
    e.communicationSeconds = 2 * q * alpha + beta;
    break;
  }
  e.overheadSeconds = p.launchOverhead;
  finishEstimate(e);
  if (plan.bytesPerCore > p.coreMemoryBytes) {
    e = CostEstimate::unsupported(
        llvm::formatv("{0} on {1}x{1} cores needs {2} bytes per core, more "
                      "than the core memory M = {3}",
                      plan.algorithm, cores, plan.bytesPerCore,
                      p.coreMemoryBytes)
            .str());
  } else if (plan.colors > p.routingColors) {
    e = CostEstimate::unsupported(
        llvm::formatv("{0} needs {1} routing colors per core, more than R = "
                      "{2}",
                      plan.algorithm, plan.colors, p.routingColors)
            .str());
  } else {
    e.note = llvm::formatv("{0} on {1}x{1} cores", plan.algorithm, cores).str();
  }
  return plan;
}

std::optional<MeshPlan> MeshModel::bestPlan(const OpCost &cost,
                                            std::string &firstFailure) const {
  std::optional<MeshPlan> best;
  for (int64_t cores = p.grid; cores >= 1; cores /= 2) {
    MeshPlan candidate = plan(cost, cores);
    if (!candidate.estimate.supported) {
      if (firstFailure.empty())
        firstFailure = candidate.estimate.note;
      // A smaller grid only puts more bytes on each core.
      if (candidate.bytesPerCore > p.coreMemoryBytes)
        break;
      continue;
    }
    if (!best || candidate.estimate.seconds < best->estimate.seconds)
      best = candidate;
  }
  return best;
}

CostEstimate MeshModel::estimate(const OpCost &cost) const {
  std::string firstFailure;
  std::optional<MeshPlan> best = bestPlan(cost, firstFailure);
  if (!best)
    return CostEstimate::unsupported(firstFailure);
  return best->estimate;
}

std::optional<llmc::device::DeviceProgram>
MeshModel::programTemplate(const OpCost &cost) const {
  std::string failure;
  std::optional<MeshPlan> best = bestPlan(cost, failure);
  if (!best)
    return std::nullopt;
  llmc::device::DeviceProgram program;
  program.kind = llmc::device::DeviceKind::Mesh;
  // The program runs on the plan's sub-grid.
  program.timing = {double(best->cores),
                    p.hopLatency,
                    p.messageOverhead,
                    p.coreFlops,
                    p.launchOverhead,
                    p.coreMemoryBytes,
                    0,
                    0};
  return program;
}

std::unique_ptr<DeviceModel> MeshModel::fromDescription(DescriptionReader &r) {
  MeshParameters p;
  p.grid = r.count("grid");
  p.coreMemoryBytes = r.positive("core_memory_bytes");
  p.coreFlops = r.positive("core_gflops") * 1e9;
  p.coreMemoryBandwidth = r.positive("core_memory_bandwidth_gbps") * 1e9;
  p.hopLatency = r.positive("hop_latency_ns") * 1e-9;
  p.messageOverhead = r.positive("message_overhead_ns") * 1e-9;
  p.routingColors = r.count("routing_colors");
  p.launchOverhead = r.nonNegative("launch_overhead_us", 0) * 1e-6;
  return std::make_unique<MeshModel>(p);
}

void mlir::llm::mesh::registerMeshDeviceKind() {
  registerDeviceKind("mesh", MeshModel::fromDescription);
}
