//===- CostModelTest.cpp - device models, descriptions, the scheduler -----===//

#include "targets/cpu/CostModel.h"
#include "lib/Registration/Registration.h"
#include "passes/Placement.h"
#include "targets/common/TargetDescription.h"
#include "targets/mesh/CostModel.h"
#include "targets/npu/CostModel.h"
#include "targets/pim/CostModel.h"
#include "test/unit/DeviceTestSupport.h"

#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::llm;

namespace {

using llmc_test::linear;

std::string errorOf(llvm::StringRef json) {
  llmc::registerDeviceKinds();
  llvm::Expected<Machine> m = parseMachine(json, "t.json");
  if (m)
    return "";
  return llvm::toString(m.takeError());
}

//===----------------------------------------------------------------------===//
// Device models
//===----------------------------------------------------------------------===//

TEST(CpuModel, RooflineWithCachedActivations) {
  cpu::CpuParameters p;
  p.cores = 2;
  p.simdLanes = 16;
  p.peakFlopsPerCore = 100e9;
  p.dramBandwidth = 50e9;
  p.cacheBytes = 1e6;
  p.cacheBandwidth = 200e9;
  p.matmulEfficiency = 0.5;
  p.opOverhead = 1e-6;
  cpu::CpuModel model(p);
  // 128x512 @ 512x512: 67.1 MFLOP at 100 GFLOP/s = 671 us compute; 1 MiB of
  // weights at 50 GB/s = 21 us; activations 0.5 MiB from cache = 2.6 us.
  OpCost c = linear(128, 512, 512);
  CostEstimate e = model.estimate(c);
  EXPECT_DOUBLE_EQ(e.computeSeconds, 2.0 * 128 * 512 * 512 / 100e9);
  EXPECT_DOUBLE_EQ(e.memorySeconds,
                   512 * 512 * 4 / 50e9 + 2 * 128 * 512 * 4 / 200e9);
  EXPECT_DOUBLE_EQ(e.seconds, e.computeSeconds + 1e-6);
  EXPECT_STREQ(e.bound(), "compute");
  // One row: memory-bound, Op/B ≈ 0.5 for f32.
  EXPECT_STREQ(model.estimate(linear(1, 512, 512)).bound(), "memory");
  // 20 output columns fill two 16-lane registers: 32/20 of the work.
  EXPECT_DOUBLE_EQ(model.estimate(linear(128, 512, 20)).computeSeconds,
                   2.0 * 128 * 512 * 32 / 100e9);
}

TEST(NpuModel, SystolicTilesWasteTheArrayOnSmallM) {
  npu::NpuParameters p;
  p.arrayRows = p.arrayCols = 64;
  p.clock = 1e9;
  p.vectorFlops = 100e9;
  p.bufferBytes = 1 << 20;
  p.dramBandwidth = 1e12;
  npu::NpuModel model(p);
  // k = 128, n = 192: 2·3 tiles, each m + 128 cycles.
  EXPECT_EQ(model.matmulCycles(1, 256, 128, 192), 6 * (256 + 128));
  EXPECT_EQ(model.matmulCycles(1, 1, 128, 192), 6 * (1 + 128));
  CostEstimate big = model.estimate(linear(4096, 128, 192));
  CostEstimate one = model.estimate(linear(1, 128, 192));
  // Per row, one row costs (1 + 128) / (4096 + 128) / (1/4096) ≈ 125x more.
  EXPECT_GT(one.computeSeconds * 4096 / big.computeSeconds, 100);
}

TEST(NpuModel, RowsThatDoNotFitTheBufferAreReadPerColumnBlock) {
  npu::NpuParameters p;
  p.arrayRows = p.arrayCols = 64;
  p.clock = 1e9;
  p.vectorFlops = 100e9;
  p.bufferBytes = 1 << 20;
  p.dramBandwidth = 1e9;
  npu::NpuModel model(p);
  // 256 rows of 512 floats (512 KiB) fit in half the buffer: read once.
  OpCost fits = linear(256, 512, 256);
  EXPECT_DOUBLE_EQ(model.estimate(fits).memorySeconds, fits.bytes() / 1e9);
  // 1024 rows (2 MiB) do not: read again for each of the 4 column blocks.
  OpCost spills = linear(1024, 512, 256);
  EXPECT_DOUBLE_EQ(model.estimate(spills).memorySeconds,
                   (spills.bytes() + 3 * spills.inputBytes) / 1e9);
}

TEST(PimModel, PassesGrowWithRowsSharingTheMatrix) {
  pim::PimParameters p;
  p.channels = 8;
  p.banksPerChannel = 16;
  p.bankBandwidth = 2e9;
  p.macsPerBank = 16;
  p.clock = 1e9;
  p.dramBandwidth = 64e9;
  pim::PimModel model(p);
  OpCost one = linear(1, 1024, 1024), eight = linear(8, 1024, 1024);
  double internal = 8 * 16 * 2e9;
  EXPECT_DOUBLE_EQ(model.estimate(one).memorySeconds,
                   1024 * 1024 * 4 / internal + (1024 + 1024) * 4 / 64e9);
  EXPECT_DOUBLE_EQ(model.estimate(eight).memorySeconds,
                   8 * 1024 * 1024 * 4 / internal +
                       8 * (1024 + 1024) * 4 / 64e9);
  OpCost norm;
  norm.kind = WorkKind::Elementwise;
  EXPECT_FALSE(model.estimate(norm).supported);
}

TEST(MeshModel, CommunicationGrowsLinearlyOnTheInterleavedRing) {
  double a = 1e-9, b = 20e-9;
  // 8 skew shifts and 15 shifts between the 16 steps.
  EXPECT_DOUBLE_EQ(mesh::meshGemmCommunication(16, a, b), 23 * (2 * a + b));
  EXPECT_DOUBLE_EQ(mesh::naiveRingGemmCommunication(16, a, b),
                   23 * (15 * a + b));
  // Doubling P doubles the interleaved ring and about quadruples the plain
  // one's hop term.
  double ratio = mesh::meshGemmCommunication(64, a, 0) /
                 mesh::meshGemmCommunication(32, a, 0);
  EXPECT_NEAR(ratio, 2.0, 0.05);
  double naive = mesh::naiveRingGemmCommunication(64, a, 0) /
                 mesh::naiveRingGemmCommunication(32, a, 0);
  EXPECT_GT(naive, 4.0);
  // p = 16: groups of 4 reduce to their core 2 in 2 steps, the 4 group
  // middles (4 hops apart) to the third in 2 steps, and back.
  EXPECT_DOUBLE_EQ(mesh::treeAllReduce(16, a, b),
                   2 * (2 * (a + b) + 2 * (4 * a + b)));
}

mesh::MeshParameters smallMesh() {
  mesh::MeshParameters p;
  p.grid = 8;
  p.coreMemoryBytes = 48 * 1024;
  p.coreFlops = 4e9;
  p.coreMemoryBandwidth = 20e9;
  p.hopLatency = 1e-9;
  p.messageOverhead = 20e-9;
  p.routingColors = 24;
  return p;
}

TEST(MeshModel, TileThatExceedsCoreMemoryIsRejected) {
  mesh::MeshModel model(smallMesh());
  // 1024x1024 f32 on 8x8 cores: a 128x128 weight tile (64 KiB) per core
  // does not fit in 48 KiB.
  mesh::MeshPlan plan = model.plan(linear(1, 1024, 1024), 8);
  EXPECT_GT(plan.bytesPerCore, 48 * 1024);
  EXPECT_FALSE(plan.estimate.supported);
  EXPECT_NE(plan.estimate.note.find("core memory"), std::string::npos);
  EXPECT_FALSE(model.estimate(linear(1, 1024, 1024)).supported);
  // 256x256 fits (32x32 floats per core) and runs as MeshGEMV.
  CostEstimate fits = model.estimate(linear(1, 256, 256));
  EXPECT_TRUE(fits.supported);
  EXPECT_NE(fits.note.find("MeshGEMV"), std::string::npos);
  // Many rows: MeshGEMM.
  EXPECT_NE(model.estimate(linear(256, 256, 256)).note.find("MeshGEMM"),
            std::string::npos);
}

TEST(MeshModel, TooFewRoutingColorsIsRejected) {
  mesh::MeshParameters p = smallMesh();
  p.routingColors = 5; // MeshGEMM needs 6
  mesh::MeshModel model(p);
  mesh::MeshPlan plan = model.plan(linear(256, 256, 256), 8);
  EXPECT_FALSE(plan.estimate.supported);
  EXPECT_NE(plan.estimate.note.find("routing colors"), std::string::npos);
  // MeshGEMV (4 colors) still runs.
  EXPECT_TRUE(model.plan(linear(1, 256, 256), 8).estimate.supported);
}

//===----------------------------------------------------------------------===//
// Target descriptions
//===----------------------------------------------------------------------===//

TEST(TargetDescription, PresetsParse) {
  llmc::registerDeviceKinds();
  for (const std::string &name : presetNames()) {
    llvm::Expected<Machine> m = loadMachine(name);
    ASSERT_TRUE(bool(m)) << name << ": " << llvm::toString(m.takeError());
    EXPECT_EQ(m->name, name);
  }
  llvm::Expected<Machine> edge = loadMachine("edge-npu-pim");
  ASSERT_TRUE(bool(edge));
  ASSERT_EQ(edge->devices.size(), 3u);
  EXPECT_EQ(edge->devices[edge->host].kind, "cpu");
  EXPECT_TRUE(edge->find("pim", 0).has_value());
  EXPECT_FALSE(edge->find("pim", 1).has_value());
}

TEST(TargetDescription, ErrorsNameTheField) {
  EXPECT_EQ(errorOf("{\"devices\": [{\"name\": \"n\", \"kind\": \"npu\", "
                    "\"array_rows\": 8, \"array_cols\": 8, \"clock_ghz\": -1, "
                    "\"vector_gflops\": 1, \"buffer_bytes\": 1, "
                    "\"dram_bandwidth_gbps\": 1}]}"),
            "t.json: devices[0] 'n': field 'clock_ghz' must be a positive "
            "number");
  EXPECT_EQ(errorOf("{\"devices\": [{\"name\": \"n\", \"kind\": \"pim\"}]}"),
            "t.json: devices[0] 'n': field 'channels' is missing");
  EXPECT_NE(errorOf("{\"devices\": [{\"name\": \"n\", \"kind\": \"gpu\"}]}")
                .find("field 'kind' names unknown target 'gpu'"),
            std::string::npos);
  EXPECT_EQ(errorOf("{\"devices\": []}"),
            "t.json: field 'devices' must be a non-empty array");
  EXPECT_NE(errorOf("{\"devices\": [").find("not valid JSON"),
            std::string::npos);
  std::string cpu = "{\"name\": \"c\", \"kind\": \"cpu\", \"cores\": 1, "
                    "\"simd_lanes\": 1, \"peak_gflops_per_core\": 1, "
                    "\"dram_bandwidth_gbps\": 1, "
                    "\"cache_bytes\": 1, \"cache_bandwidth_gbps\": 1}";
  EXPECT_EQ(errorOf("{\"devices\": [" + cpu + "], \"host\": \"x\"}"),
            "t.json: field 'host' names no device ('x')");
  EXPECT_EQ(errorOf("{\"devices\": [" + cpu +
                    "], \"links\": [{\"from\": \"c\", \"to\": \"d\", "
                    "\"bandwidth_gbps\": 1}]}"),
            "t.json: links[0]: field 'to' names no device ('d')");
  EXPECT_EQ(errorOf("{\"devices\": [" + cpu + ", " + cpu + "]}"),
            "t.json: devices[1] 'c': field 'name' repeats an earlier device");
}

//===----------------------------------------------------------------------===//
// The step scheduler and the search
//===----------------------------------------------------------------------===//

/// Two devices with a free link, and `n` ops with fixed times.
struct Toy {
  Machine machine;
  PlacementProblem problem;
  /// With `pool`, both devices share one memory.
  explicit Toy(bool pool = false) {
    llmc::registerDeviceKinds();
    std::string shared = pool ? "\"memory_pool\": \"dram\", " : "";
    llvm::Expected<Machine> m = parseMachine(R"json({
      "devices": [
        {"name": "a", "kind": "cpu", )json" + shared +
                                                 R"json("cores": 1,
         "simd_lanes": 1, "peak_gflops_per_core": 1, "dram_bandwidth_gbps": 1,
         "cache_bytes": 1, "cache_bandwidth_gbps": 1},
        {"name": "b", "kind": "cpu", )json" + shared +
                                                 R"json("cores": 1,
         "simd_lanes": 1, "peak_gflops_per_core": 1, "dram_bandwidth_gbps": 1,
         "cache_bytes": 1, "cache_bandwidth_gbps": 1}],
      "links": [{"from": "a", "to": "b", "bandwidth_gbps": 1, "latency_us": 0}]
    })json",
                                             "toy");
    EXPECT_TRUE(bool(m));
    machine = std::move(*m);
    problem.machine = &machine;
  }
  void add(double onA, double onB, std::vector<PlacementInput> inputs = {},
           double sharedMemory = 0) {
    PlacementNode node;
    node.name = "op" + std::to_string(problem.nodes.size());
    for (double t : {onA, onB}) {
      CostEstimate e;
      e.seconds = t;
      e.sharedMemorySeconds = sharedMemory;
      node.estimates.push_back(e);
      node.halfEstimates.push_back(e);
    }
    node.inputs = std::move(inputs);
    problem.nodes.push_back(node);
  }
};

TEST(Placement, IndependentStreamsOverlap) {
  Toy toy;
  toy.add(3, 3);
  toy.add(2, 2);
  toy.add(1, 1);
  toy.add(4, 4);
  // Balanced streams {0,2} on a and {1,3} on b: max(3+1, 2+4) = 6.
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 1, 0, 1}), 6.0);
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 0, 0, 0}), 10.0);
  std::string error;
  auto best = solvePlacement(toy.problem, error);
  ASSERT_TRUE(best.has_value());
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, *best), 5.0); // {3,2}, {1,4}
}

TEST(Placement, DevicesSharingMemoryDoNotStreamAtOnce) {
  // Two memory-bound ops: on separate memories they overlap, on one
  // shared memory they queue for it.
  Toy separate, shared(/*pool=*/true);
  for (Toy *toy : {&separate, &shared}) {
    toy->add(2, 2, {}, 2);
    toy->add(2, 2, {}, 2);
  }
  EXPECT_DOUBLE_EQ(scheduleStep(separate.problem, {0, 1}), 2.0);
  EXPECT_DOUBLE_EQ(scheduleStep(shared.problem, {0, 1}), 4.0);
  EXPECT_EQ(shared.machine.pools.size(), 1u);
  EXPECT_EQ(shared.machine.devices[1].pool, 0);
}

TEST(Placement, TransfersQueueOnALinkThatCopies) {
  // Two values cross the same 1 GB/s link at once: the second waits.
  Toy toy;
  toy.add(0, 0);
  toy.add(0, 0);
  toy.add(0, 0, {{0, 1e9, 5e8}, {1, 1e9, 5e8}});
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 0, 1}), 2.0);
}

TEST(Placement, WeightsMustFitADeviceThatHoldsThem) {
  llmc::registerDeviceKinds();
  llvm::Expected<Machine> m = parseMachine(R"json({
    "devices": [
      {"name": "host", "kind": "cpu", "cores": 1, "simd_lanes": 1,
       "peak_gflops_per_core": 1, "dram_bandwidth_gbps": 1, "cache_bytes": 1,
       "cache_bandwidth_gbps": 1},
      {"name": "wafer", "kind": "mesh", "grid": 2, "core_memory_bytes": 100,
       "core_gflops": 1, "core_memory_bandwidth_gbps": 1, "hop_latency_ns": 1,
       "message_overhead_ns": 1, "routing_colors": 8}],
    "links": [{"from": "host", "to": "wafer", "bandwidth_gbps": 1}]
  })json",
                                           "cap");
  ASSERT_TRUE(bool(m)) << llvm::toString(m.takeError());
  PlacementProblem problem;
  problem.machine = &*m;
  for (int i = 0; i < 2; ++i) {
    PlacementNode node;
    node.name = "op" + std::to_string(i);
    node.residentBytes = 300; // the wafer holds 2x2x100 = 400 bytes
    for (double t : {10.0, 1.0}) {
      CostEstimate e;
      e.seconds = t;
      node.estimates.push_back(e);
      node.halfEstimates.push_back(e);
    }
    problem.nodes.push_back(node);
  }
  EXPECT_TRUE(std::isinf(scheduleStep(problem, {1, 1})));
  EXPECT_DOUBLE_EQ(scheduleStep(problem, {1, 0}), 10.0);
  std::string error;
  auto best = solvePlacement(problem, error);
  ASSERT_TRUE(best.has_value());
  EXPECT_NE((*best)[0], (*best)[1]); // only one of them fits on the wafer
}

TEST(Placement, TransfersCostBandwidth) {
  Toy toy;
  toy.add(1, 1);
  toy.add(1, 1, {{0, 1e9, 5e8}}); // receives 1 GB from op0: 1 s to cross
  Schedule schedule;
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 1}, &schedule), 3.0);
  ASSERT_EQ(schedule.transfers.size(), 1u);
  EXPECT_DOUBLE_EQ(schedule.transfers[0].end - schedule.transfers[0].start,
                   1.0);
  std::string error;
  auto best = solvePlacement(toy.problem, error);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ((*best)[0], (*best)[1]); // stays together
}

TEST(Placement, UnsupportedEverywhereIsAnError) {
  Toy toy;
  toy.add(1, 1);
  toy.problem.nodes[0].estimates[0] = CostEstimate::unsupported("no a");
  toy.problem.nodes[0].estimates[1] = CostEstimate::unsupported("no b");
  std::string error;
  EXPECT_FALSE(solvePlacement(toy.problem, error).has_value());
  EXPECT_NE(error.find("'op0'"), std::string::npos);
  EXPECT_NE(error.find("a: no a; b: no b"), std::string::npos);
}

TEST(Placement, PinsAreKept) {
  Toy toy;
  toy.add(1, 10);
  toy.problem.nodes[0].pinned = 1;
  std::string error;
  auto best = solvePlacement(toy.problem, error);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ((*best)[0], 1u);
}

TEST(Placement, InterleavedSubBatchesPipeline) {
  // Projection (fast on a) then attention (fast on b), each half as long
  // per sub-batch: interleaving overlaps sub-batch 1's attention with
  // sub-batch 2's projection.
  Toy toy;
  toy.add(2, 100);
  toy.add(100, 2, {{0, 0, 0}});
  for (PlacementNode &node : toy.problem.nodes)
    for (CostEstimate &e : node.halfEstimates)
      e.seconds /= 2;
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 1}), 4.0);
  toy.problem.interleave = true;
  EXPECT_DOUBLE_EQ(scheduleStep(toy.problem, {0, 1}), 3.0);
}

} // namespace
