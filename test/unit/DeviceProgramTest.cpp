//===- DeviceProgramTest.cpp - NPU/PIM device programs: format, execution -===//

#include "runtime/device/DeviceProgram.h"
#include "runtime/Descriptor.h"
#include "runtime/DeviceExecutor.h"
#include "runtime/Status.h"
#include "runtime/mesh/MeshSimulator.h"
#include "runtime/npu/NpuSimulator.h"
#include "runtime/pim/PimSimulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace llmc::device;

namespace {

/// A linear layer [K = 24] -> [N = 40] with a bias, on an 8x8 NPU (so the
/// weight spans 3x5 tiles), a 2x4-bank PIM or a 4x4 mesh sub-grid.
DeviceProgram example(DeviceKind kind) {
  DeviceProgram p;
  p.kind = kind;
  if (kind == DeviceKind::Npu)
    p.timing = {8, 8, 1e9, 50e9, 4096, 64e9, 2e-6, 0};
  else if (kind == DeviceKind::Pim)
    p.timing = {2, 4, 20e9, 16, 1e9, 1, 40e9, 1e-6};
  else
    p.timing = {4, 1e-9, 20e-9, 4.4e9, 3e-6, 0, 0, 0};
  p.inputCols = 24;
  p.outputCols = 40;
  p.arena.resize(24 * 40 + 40);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float &f : p.arena)
    f = dist(rng);
  p.constants = {{24, 40, 0}, {1, 40, 24 * 40}};
  p.instructions = {{Opcode::Matmul, 0}, {Opcode::AddRow, 1}};
  return p;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  DeviceProgram p;
  std::string error;
  EXPECT_FALSE(parseDeviceProgram(bytes.data(), bytes.size(), p, error));
  return error;
}

constexpr DeviceKind kKinds[] = {DeviceKind::Npu, DeviceKind::Pim,
                                 DeviceKind::Mesh};

TEST(DeviceProgram, RunsLikeADenseLinearLayerAfterARoundTrip) {
  for (DeviceKind kind : kKinds) {
    DeviceProgram program = example(kind);
    std::vector<uint8_t> bytes = serializeDeviceProgram(program);
    DeviceProgram loaded;
    std::string error;
    ASSERT_TRUE(parseDeviceProgram(bytes.data(), bytes.size(), loaded, error))
        << error;
    EXPECT_EQ(loaded.arena, program.arena);
    EXPECT_EQ(loaded.timing, program.timing);
    for (int64_t rows : {1, 5}) {
      std::vector<float> x(rows * 24), y(rows * 40, -7.0f);
      std::mt19937 rng(11);
      std::uniform_real_distribution<float> dist(-1, 1);
      for (float &f : x)
        f = dist(rng);
      DeviceRun run = runDeviceProgram(loaded, x.data(), y.data(), rows);
      for (int64_t m = 0; m < rows; ++m)
        for (int n = 0; n < 40; ++n) {
          double ref = program.arena[24 * 40 + n];
          for (int k = 0; k < 24; ++k)
            ref += double(x[m * 24 + k]) * program.arena[k * 40 + n];
          EXPECT_NEAR(y[m * 40 + n], ref, 1e-5)
              << deviceKindName(kind) << " row " << m << " col " << n;
        }
      EXPECT_GT(run.seconds, 0);
    }
  }
}

TEST(DeviceProgram, TimeIsTheSimulatorsPlusTheBiasAndTheLaunch) {
  DeviceProgram npu = example(DeviceKind::Npu);
  std::vector<float> x(3 * 24, 1.0f), y(3 * 40), scratch(3 * 40);
  DeviceRun run = runDeviceProgram(npu, x.data(), y.data(), 3);
  llmc::npu::NpuTiming t;
  t.rows = 8;
  t.cols = 8;
  t.clock = 1e9;
  t.dramBandwidth = 50e9;
  t.bufferBytes = 4096;
  double matmul = llmc::npu::npuMatmul(t, x.data(), npu.arena.data(),
                                       scratch.data(), 3, 24, 40)
                      .seconds;
  // Launch, the array's product, 3x40 adds on the 64 GFLOP/s vector unit.
  EXPECT_DOUBLE_EQ(run.seconds, 2e-6 + matmul + 120 / 64e9);

  DeviceProgram pim = example(DeviceKind::Pim);
  run = runDeviceProgram(pim, x.data(), y.data(), 3);
  llmc::pim::PimTiming p;
  p.channels = 2;
  p.banksPerChannel = 4;
  p.bankBandwidth = 20e9;
  p.macsPerBank = 16;
  p.clock = 1e9;
  p.vectorsPerPass = 1;
  p.dramBandwidth = 40e9;
  llmc::pim::PimRun gemv = llmc::pim::pimGemv(p, x.data(), pim.arena.data(),
                                              scratch.data(), 3, 24, 40);
  EXPECT_EQ(gemv.passes, 3);
  // Command issue, the GEMV, 120 adds on 8 banks x 16 adders at 1 GHz.
  EXPECT_DOUBLE_EQ(run.seconds, 1e-6 + gemv.seconds + 120 / (8 * 16 * 1e9));

  // The mesh: MeshGEMM for 3 rows, MeshGEMV for one, on the 4x4 sub-grid.
  DeviceProgram mesh = example(DeviceKind::Mesh);
  llmc::mesh::MeshTiming m;
  m.hopLatency = 1e-9;
  m.messageOverhead = 20e-9;
  m.coreFlops = 4.4e9;
  run = runDeviceProgram(mesh, x.data(), y.data(), 3);
  double gemm = llmc::mesh::meshGemm(4, llmc::mesh::Ring::Interleaved, m,
                                     x.data(), mesh.arena.data(),
                                     scratch.data(), 3, 24, 40)
                    .seconds;
  EXPECT_DOUBLE_EQ(run.seconds, 3e-6 + gemm + 120 / (16 * 4.4e9));
  run = runDeviceProgram(mesh, x.data(), y.data(), 1);
  double meshGemv = llmc::mesh::meshGemv(4, m, mesh.arena.data(), x.data(),
                                         scratch.data(), 24, 40)
                        .seconds;
  EXPECT_DOUBLE_EQ(run.seconds, 3e-6 + meshGemv + 40 / (16 * 4.4e9));
}

TEST(DeviceProgram, CorruptProgramsAreRejected) {
  std::vector<uint8_t> good = serializeDeviceProgram(example(DeviceKind::Npu));
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  EXPECT_EQ(parseError(bad),
            "device program: bad magic (not an LLMCDEVP program)");
  bad = good;
  bad[8] = 2;
  EXPECT_EQ(parseError(bad), "device program: unsupported version 2 (this "
                             "runtime reads version 1)");
  bad = good;
  bad[12] = 9;
  EXPECT_EQ(parseError(bad),
            "device program: unknown device kind 9 (1 = npu, 2 = pim, 3 = "
            "mesh)");
  EXPECT_EQ(parseError({good.begin(), good.begin() + 30}),
            "device program: truncated header");
  EXPECT_NE(parseError({good.begin(), good.end() - 4}).find("arena"),
            std::string::npos);

  DeviceProgram p = example(DeviceKind::Npu);
  p.timing[0] = 8.5;
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: timing field 'array rows' of the npu is "
            "8.500000, not a count from 1 to 2^20");
  p = example(DeviceKind::Pim);
  p.timing[2] = NAN;
  EXPECT_NE(parseError(serializeDeviceProgram(p))
                .find("timing field 'bank bandwidth' of the pim"),
            std::string::npos);
  p = example(DeviceKind::Pim);
  p.timing[0] = p.timing[1] = 4096;
  EXPECT_NE(parseError(serializeDeviceProgram(p)).find("more than 2^20"),
            std::string::npos);
  p = example(DeviceKind::Mesh);
  p.timing[0] = 2048;
  EXPECT_NE(parseError(serializeDeviceProgram(p))
                .find("the mesh has 4194304.000000 units"),
            std::string::npos);
  p = example(DeviceKind::Npu);
  p.constants[1].offset = p.arena.size();
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: constant 1 does not lie inside the arena of " +
                std::to_string(p.arena.size()) + " floats");
  p = example(DeviceKind::Npu);
  p.instructions[1].opcode = Opcode(7);
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: instruction 1: unknown opcode 7");
  p = example(DeviceKind::Npu);
  p.instructions[1].constant = 2;
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: instruction 1: constant 2 is outside the table "
            "of 2");
  p = example(DeviceKind::Npu);
  std::swap(p.instructions[0], p.instructions[1]);
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: instruction 0: a program is one matmul "
            "followed by row adds");
  p = example(DeviceKind::Npu);
  p.outputCols = 39;
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: instruction 0: the matmul's weight is 24x40, "
            "not 24x39");
  p = example(DeviceKind::Npu);
  p.instructions[1].constant = 0;
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: instruction 1: the added row is 24x40, not "
            "1x40");
  p = example(DeviceKind::Npu);
  p.instructions.clear();
  EXPECT_EQ(parseError(serializeDeviceProgram(p)),
            "device program: no instructions");
}

TEST(DeviceProgram, RandomCorruptionNeverCrashes) {
  for (DeviceKind kind : kKinds) {
    std::vector<uint8_t> good = serializeDeviceProgram(example(kind));
    std::mt19937 rng(5);
    for (int trial = 0; trial < 2000; ++trial) {
      std::vector<uint8_t> bytes = good;
      for (int flips = 0; flips < 3; ++flips)
        bytes[rng() % bytes.size()] = uint8_t(rng());
      bytes.resize(rng() % (bytes.size() + 1));
      DeviceProgram p;
      std::string error;
      if (parseDeviceProgram(bytes.data(), bytes.size(), p, error)) {
        // Whatever loads must run.
        std::vector<float> x(2 * p.inputCols, 1.0f), y(2 * p.outputCols);
        runDeviceProgram(p, x.data(), y.data(), 2);
      } else {
        EXPECT_FALSE(error.empty());
      }
    }
  }
}

/// A device programs section holding `program` once.
std::vector<uint8_t> section(const DeviceProgram &program) {
  std::vector<uint8_t> bytes = serializeDeviceProgram(program);
  std::vector<uint8_t> out(24);
  uint64_t header[3] = {1, 24, bytes.size()};
  std::memcpy(out.data(), header, sizeof(header));
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

TEST(DeviceExecutor, RunsTheHookAndReportsWrongShapes) {
  using llmc::runtime::Descriptor;
  using llmc::runtime::DeviceExecutor;
  DeviceProgram program = example(DeviceKind::Pim);
  std::vector<uint8_t> bytes = section(program);
  llmc::runtime::Manifest manifest;
  manifest.devicePrograms = {{"pim", 0, "llm.linear", "24x40", 1e-6}};
  DeviceExecutor executor;
  ASSERT_EQ(executor.load(bytes.data(), bytes.size(), manifest), LLMC_OK);

  // [1, 2, 24] -> [1, 2, 40]: two rows, as the CPU code passes them.
  std::vector<float> x(2 * 24, 0.5f), y(2 * 40);
  Descriptor in(x.data(), {1, 2, 24}), out(y.data(), {1, 2, 40});
  DeviceExecutor::hook(&executor, 0, 3, in.words.data(), 3, out.words.data());
  EXPECT_EQ(executor.takeError(), "");
  for (int n = 0; n < 40; ++n) {
    double ref = program.arena[24 * 40 + n];
    for (int k = 0; k < 24; ++k)
      ref += 0.5 * program.arena[k * 40 + n];
    EXPECT_NEAR(y[n], ref, 1e-5);
    EXPECT_NEAR(y[40 + n], ref, 1e-5);
  }
  auto times = executor.times();
  ASSERT_EQ(times.size(), 1u);
  EXPECT_EQ(times[0].first, "pim0");
  EXPECT_EQ(times[0].second.calls, 1);
  EXPECT_EQ(times[0].second.rows, 2);
  EXPECT_GT(times[0].second.seconds, 0);
  EXPECT_EQ(times[0].second.singleRowCalls, 0);

  Descriptor narrow(y.data(), {1, 2, 39});
  DeviceExecutor::hook(&executor, 0, 3, in.words.data(), 3,
                       narrow.words.data());
  EXPECT_EQ(executor.takeError(),
            "device program 0: shapes 2x24 -> 2x39 do not fit its 24 -> 40 "
            "columns");
  EXPECT_EQ(executor.takeError(), ""); // taken once
  DeviceExecutor::hook(&executor, 5, 3, in.words.data(), 3, out.words.data());
  EXPECT_EQ(executor.takeError(), "device program 5: the code ran device "
                                  "program 5, the artifact has 1");
  // A strided (transposed) input is not a contiguous buffer.
  Descriptor strided(x.data(), {2, 24});
  std::swap(strided.words[5], strided.words[6]);
  DeviceExecutor::hook(&executor, 0, 2, strided.words.data(), 3,
                       out.words.data());
  EXPECT_EQ(executor.takeError(),
            "device program 0: the input is not a contiguous buffer");
  EXPECT_EQ(executor.times()[0].second.calls, 1);

  // The manifest must list the section's programs, of the same kind.
  manifest.devicePrograms[0].device = "npu";
  DeviceExecutor other;
  EXPECT_EQ(other.load(bytes.data(), bytes.size(), manifest),
            LLMC_ERROR_INVALID_ARTIFACT);
  EXPECT_STREQ(llmc::runtime::lastError().c_str(),
               "device programs: program 0 is a pim program, the manifest "
               "says npu");
  manifest.devicePrograms.push_back(manifest.devicePrograms[0]);
  EXPECT_EQ(other.load(bytes.data(), bytes.size(), manifest),
            LLMC_ERROR_INVALID_ARTIFACT);
}

} // namespace
