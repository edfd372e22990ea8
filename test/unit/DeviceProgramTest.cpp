//===- DeviceProgramTest.cpp - device programs: format and execution ------===//

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

constexpr int kK = 24, kN = 40;
constexpr DeviceKind kKinds[] = {DeviceKind::Npu, DeviceKind::Pim,
                                 DeviceKind::Mesh};

Timing timingOf(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Npu: // 8x8 array: the weight spans 3x5 tiles
    return {8, 8, 1e9, 50e9, 4096, 64e9, 2e-6, 0};
  case DeviceKind::Pim: // 2 channels x 4 banks
    return {2, 4, 20e9, 16, 1e9, 1, 40e9, 1e-6};
  case DeviceKind::Mesh: // a 4x4 sub-grid
    return {4, 1e-9, 20e-9, 4.4e9, 3e-6, 0, 0, 0};
  }
  return {};
}

/// What each device's units allow of a feed-forward step with inputs x
/// [24] and r [40] and output y [40]:
///   NPU:  y = silu(h) ⊙ h + r,  h = rmsnorm(x)·W + b
///   PIM:  y = x·W + b
///   mesh: y = silu(h) ⊙ h + r,  h = x·W + b
DeviceProgram example(DeviceKind kind) {
  DeviceProgram p;
  p.kind = kind;
  p.timing = timingOf(kind);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto constant = [&](uint64_t rows, uint64_t cols) {
    p.constants.push_back({rows, cols, p.arena.size()});
    for (uint64_t i = 0; i < rows * cols; ++i)
      p.arena.push_back(dist(rng));
    return uint32_t(p.constants.size() - 1);
  };
  uint32_t w = constant(kK, kN), b = constant(1, kN);
  if (kind == DeviceKind::Pim) {
    p.inputs = p.outputs = 1;
    p.valueCols = {kK, kN};
    p.instructions = {{Opcode::Matmul, 1, 0, 0, w, 0},
                      {Opcode::AddRow, 1, 1, 0, b, 0}};
    return p;
  }
  // Values: x, r | y | normed x, h, silu(h), silu(h) ⊙ h.
  p.inputs = 2;
  p.outputs = 1;
  p.valueCols = {kK, kN, kN, kK, kN, kN, kN};
  if (kind == DeviceKind::Npu) {
    uint32_t gamma = constant(1, kK);
    p.instructions.push_back({Opcode::RmsNorm, 3, 0, 0, gamma, 1e-5f});
    p.instructions.push_back({Opcode::Matmul, 4, 3, 0, w, 0});
  } else {
    p.instructions.push_back({Opcode::Matmul, 4, 0, 0, w, 0});
  }
  p.instructions.push_back({Opcode::AddRow, 4, 4, 0, b, 0});
  p.instructions.push_back({Opcode::Silu, 5, 4, 0, 0, 0});
  p.instructions.push_back({Opcode::Mul, 6, 5, 4, 0, 0});
  p.instructions.push_back({Opcode::Add, 2, 6, 1, 0, 0});
  return p;
}

/// The same step in doubles, straight from the definitions.
std::vector<double> reference(const DeviceProgram &p, const float *x,
                              const float *r, int rows) {
  const float *w = p.arena.data() + p.constants[0].offset;
  const float *b = p.arena.data() + p.constants[1].offset;
  std::vector<double> y(size_t(rows) * kN);
  for (int m = 0; m < rows; ++m) {
    std::vector<double> in(x + m * kK, x + (m + 1) * kK);
    if (p.kind == DeviceKind::Npu) {
      const float *gamma = p.arena.data() + p.constants[2].offset;
      double squares = 0;
      for (double v : in)
        squares += v * v;
      for (int k = 0; k < kK; ++k)
        in[k] = in[k] / std::sqrt(squares / kK + 1e-5) * gamma[k];
    }
    for (int n = 0; n < kN; ++n) {
      double h = b[n];
      for (int k = 0; k < kK; ++k)
        h += in[k] * w[k * kN + n];
      y[m * kN + n] = p.kind == DeviceKind::Pim
                          ? h
                          : h / (1 + std::exp(-h)) * h + r[m * kN + n];
    }
  }
  return y;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  DeviceProgram p;
  std::string error;
  EXPECT_FALSE(parseDeviceProgram(bytes.data(), bytes.size(), p, error));
  return error;
}

TEST(DeviceProgram, RunsLikeThePlainStepAfterARoundTrip) {
  for (DeviceKind kind : kKinds) {
    DeviceProgram program = example(kind);
    std::vector<uint8_t> bytes = serializeDeviceProgram(program);
    DeviceProgram loaded;
    std::string error;
    ASSERT_TRUE(parseDeviceProgram(bytes.data(), bytes.size(), loaded, error))
        << deviceKindName(kind) << ": " << error;
    EXPECT_EQ(loaded.arena, program.arena);
    EXPECT_EQ(loaded.timing, program.timing);
    EXPECT_EQ(loaded.valueCols, program.valueCols);
    // One row (the mesh's MeshGEMV) and five (MeshGEMM).
    for (int rows : {1, 5}) {
      std::vector<float> x(rows * kK), r(rows * kN), y(rows * kN, -7.0f);
      std::mt19937 rng(11);
      std::uniform_real_distribution<float> dist(-1, 1);
      for (float &f : x)
        f = dist(rng);
      for (float &f : r)
        f = dist(rng);
      const float *inputs[] = {x.data(), r.data()};
      float *outputs[] = {y.data()};
      DeviceRun run = runDeviceProgram(loaded, inputs, outputs, rows);
      std::vector<double> want = reference(program, x.data(), r.data(), rows);
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(y[i], want[i], 1e-5) << deviceKindName(kind) << " " << i;
      EXPECT_GT(run.seconds, 0);
    }
  }
}

TEST(DeviceProgram, TimeIsTheSimulatorsPlusTheVectorUnitsAndTheLaunch) {
  std::vector<float> x(3 * kK, 1.0f), r(3 * kN), y(3 * kN), scratch(3 * kN);
  const float *inputs[] = {x.data(), r.data()};
  float *outputs[] = {y.data()};
  DeviceProgram pim = example(DeviceKind::Pim);
  DeviceRun run = runDeviceProgram(pim, inputs, outputs, 3);
  llmc::pim::PimTiming p;
  p.channels = 2;
  p.banksPerChannel = 4;
  p.bankBandwidth = 20e9;
  p.macsPerBank = 16;
  p.clock = 1e9;
  p.vectorsPerPass = 1;
  p.dramBandwidth = 40e9;
  llmc::pim::PimRun gemv = llmc::pim::pimGemv(p, x.data(), pim.arena.data(),
                                              scratch.data(), 3, kK, kN);
  EXPECT_EQ(gemv.passes, 3);
  // Command issue, the GEMV, 120 adds on 8 banks x 16 adders at 1 GHz.
  EXPECT_DOUBLE_EQ(run.seconds, 1e-6 + gemv.seconds + 120 / (8 * 16 * 1e9));

  // The NPU: launch, the array's product and 5 vector instructions, each
  // the slower of its FLOPs on the 64 GFLOP/s unit and its operands and
  // result through 50 GB/s DRAM.
  DeviceProgram npu = example(DeviceKind::Npu);
  run = runDeviceProgram(npu, inputs, outputs, 3);
  llmc::npu::NpuTiming t;
  t.rows = 8;
  t.cols = 8;
  t.clock = 1e9;
  t.dramBandwidth = 50e9;
  t.bufferBytes = 4096;
  double matmul = llmc::npu::npuMatmul(t, x.data(), npu.arena.data(),
                                       scratch.data(), 3, kK, kN)
                      .seconds;
  auto vector = [](double elements, double flops, double operands) {
    return std::max(elements * flops / 64e9,
                    4 * elements * (operands + 1) / 50e9);
  };
  double vectors = vector(3 * kK, 7, 1) + vector(3 * kN, 1, 1) +
                   vector(3 * kN, 4, 1) + vector(3 * kN, 1, 2) +
                   vector(3 * kN, 1, 2);
  EXPECT_NEAR(run.seconds, 2e-6 + matmul + vectors, 1e-15);

  // The mesh: MeshGEMM for 3 rows, MeshGEMV for one, on the 4x4 sub-grid,
  // vector work spread over its 16 cores.
  DeviceProgram mesh = example(DeviceKind::Mesh);
  llmc::mesh::MeshTiming m;
  m.hopLatency = 1e-9;
  m.messageOverhead = 20e-9;
  m.coreFlops = 4.4e9;
  double cores = 16 * 4.4e9;
  run = runDeviceProgram(mesh, inputs, outputs, 3);
  double gemm =
      llmc::mesh::meshGemm(4, llmc::mesh::Ring::Interleaved, m, x.data(),
                           mesh.arena.data(), scratch.data(), 3, kK, kN)
          .seconds;
  EXPECT_NEAR(run.seconds, 3e-6 + gemm + 3 * kN * (1 + 4 + 1 + 1) / cores,
              1e-15);
  run = runDeviceProgram(mesh, inputs, outputs, 1);
  double gemv1 = llmc::mesh::meshGemv(4, m, mesh.arena.data(), x.data(),
                                      scratch.data(), kK, kN)
                     .seconds;
  EXPECT_NEAR(run.seconds, 3e-6 + gemv1 + kN * (1 + 4 + 1 + 1) / cores, 1e-15);
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
  EXPECT_EQ(parseError(bad), "device program: unknown device kind 9 (1 = npu, "
                             "2 = pim, 3 = mesh)");
  EXPECT_EQ(parseError({good.begin(), good.begin() + 30}),
            "device program: truncated header");
  EXPECT_NE(parseError({good.begin(), good.end() - 4}).find("arena"),
            std::string::npos);

  auto error = [](const DeviceProgram &p) {
    return parseError(serializeDeviceProgram(p));
  };
  DeviceProgram p = example(DeviceKind::Npu);
  p.timing[0] = 8.5;
  EXPECT_EQ(error(p), "device program: timing field 'array rows' of the npu "
                      "is 8.500000, not a count from 1 to 2^20");
  p = example(DeviceKind::Pim);
  p.timing[2] = NAN;
  EXPECT_NE(error(p).find("timing field 'bank bandwidth' of the pim"),
            std::string::npos);
  p = example(DeviceKind::Pim);
  p.timing[0] = p.timing[1] = 4096;
  EXPECT_NE(error(p).find("more than 2^20"), std::string::npos);
  p = example(DeviceKind::Mesh);
  p.timing[0] = 2048;
  EXPECT_NE(error(p).find("the mesh has 4194304.000000 units"),
            std::string::npos);
  p = example(DeviceKind::Npu);
  p.inputs = 8;
  EXPECT_EQ(error(p), "device program: 8 inputs and 1 outputs: 1 to 8 "
                      "buffers, at least one of each");
  p = example(DeviceKind::Npu);
  p.valueCols[4] = 0;
  EXPECT_EQ(error(p), "device program: value 4 has 0 columns, not 1..2^24");
  p = example(DeviceKind::Npu);
  p.constants[1].offset = p.arena.size();
  EXPECT_EQ(error(p),
            "device program: constant 1 does not lie inside the arena of " +
                std::to_string(p.arena.size()) + " floats");
  p = example(DeviceKind::Npu);
  p.instructions[1].opcode = Opcode(7);
  EXPECT_EQ(error(p), "device program: instruction 1: unknown opcode 7");
  p = example(DeviceKind::Pim);
  p.instructions[1].opcode = Opcode::Silu;
  EXPECT_EQ(error(p),
            "device program: instruction 1: the pim has no unit for silu");
  p = example(DeviceKind::Npu);
  p.instructions[1].constant = 9;
  EXPECT_EQ(error(p), "device program: instruction 1: constant 9 is outside "
                      "the table of 3");
  p = example(DeviceKind::Npu);
  p.instructions[0].dst = 1;
  EXPECT_EQ(error(p), "device program: instruction 0: destination 1 is not an "
                      "output or a temporary");
  p = example(DeviceKind::Npu);
  p.instructions[4].b = 12;
  EXPECT_EQ(error(p), "device program: instruction 4: operand 12 is outside "
                      "the 7 values");
  p = example(DeviceKind::Npu);
  std::swap(p.instructions[0], p.instructions[1]);
  EXPECT_EQ(error(p), "device program: instruction 0: value 3 is read before "
                      "it is written");
  p = example(DeviceKind::Npu);
  p.instructions[1].constant = 1;
  EXPECT_EQ(error(p), "device program: instruction 1: the matmul's weight is "
                      "1x40, not 24x40");
  p = example(DeviceKind::Npu);
  p.instructions[2].constant = 0;
  EXPECT_EQ(error(p), "device program: instruction 2: the add_row's row is "
                      "24x40, not 1x40");
  p = example(DeviceKind::Npu);
  p.instructions[5].b = 0;
  EXPECT_EQ(error(p), "device program: instruction 5: the add's operands and "
                      "destination differ in columns");
  p = example(DeviceKind::Npu);
  p.instructions[0].imm = -1;
  EXPECT_EQ(error(p), "device program: instruction 0: the rms_norm's epsilon "
                      "is not a finite non-negative number");
  p = example(DeviceKind::Npu);
  p.instructions.pop_back();
  EXPECT_EQ(error(p), "device program: output 0 is never written");
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
      if (!parseDeviceProgram(bytes.data(), bytes.size(), p, error)) {
        EXPECT_FALSE(error.empty());
        continue;
      }
      // Whatever loads must run.
      std::vector<std::vector<float>> buffers;
      for (uint32_t v = 0; v < p.inputs + p.outputs; ++v)
        buffers.emplace_back(2 * p.valueCols[v], 1.0f);
      std::vector<const float *> in;
      std::vector<float *> out;
      for (uint32_t v = 0; v < p.inputs + p.outputs; ++v)
        (v < p.inputs ? in.push_back(buffers[v].data())
                      : out.push_back(buffers[v].data()));
      runDeviceProgram(p, in.data(), out.data(), 2);
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

/// The hook's eight (rank, descriptor) slots, as the CPU code passes them.
void callHook(llmc::runtime::DeviceExecutor &executor, int64_t program,
              std::vector<const llmc::runtime::Descriptor *> buffers) {
  int64_t ranks[8];
  const void *d[8];
  for (int i = 0; i < 8; ++i) {
    const auto *b = buffers[size_t(i) < buffers.size() ? i : 0];
    ranks[i] = int64_t(b->words.size() - 3) / 2;
    d[i] = b->words.data();
  }
  llmc::runtime::DeviceExecutor::hook(&executor, program, ranks[0], d[0],
                                      ranks[1], d[1], ranks[2], d[2], ranks[3],
                                      d[3], ranks[4], d[4], ranks[5], d[5],
                                      ranks[6], d[6], ranks[7], d[7]);
}

TEST(DeviceExecutor, RunsTheHookAndReportsWrongShapes) {
  using llmc::runtime::Descriptor;
  using llmc::runtime::DeviceExecutor;
  DeviceProgram program = example(DeviceKind::Npu);
  std::vector<uint8_t> bytes = section(program);
  llmc::runtime::Manifest manifest;
  manifest.devicePrograms = {{"npu", 0, "llm.linear", "24,40 -> 40", 1e-6}};
  DeviceExecutor executor;
  ASSERT_EQ(executor.load(bytes.data(), bytes.size(), manifest), LLMC_OK);

  // [1, 2, 24] and [1, 2, 40] -> [1, 2, 40]: two rows.
  std::vector<float> x(2 * kK, 0.5f), r(2 * kN, 0.25f), y(2 * kN);
  Descriptor dx(x.data(), {1, 2, kK}), dr(r.data(), {1, 2, kN}),
      dy(y.data(), {1, 2, kN});
  callHook(executor, 0, {&dx, &dr, &dy});
  EXPECT_EQ(executor.takeError(), "");
  std::vector<double> want = reference(program, x.data(), r.data(), 2);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(y[i], want[i], 1e-5);
  auto times = executor.times();
  ASSERT_EQ(times.size(), 1u);
  EXPECT_EQ(times[0].first, "npu0");
  EXPECT_EQ(times[0].second.calls, 1);
  EXPECT_EQ(times[0].second.rows, 2);
  EXPECT_GT(times[0].second.seconds, 0);
  EXPECT_EQ(times[0].second.singleRowCalls, 0);

  // No rows (an expert no token chose): nothing runs, nothing is counted.
  Descriptor nx(x.data(), {1, 0, kK}), nr(r.data(), {1, 0, kN}),
      ny(y.data(), {1, 0, kN});
  callHook(executor, 0, {&nx, &nr, &ny});
  EXPECT_EQ(executor.takeError(), "");
  EXPECT_EQ(executor.times()[0].second.calls, 1);

  Descriptor narrow(y.data(), {1, 2, 39});
  callHook(executor, 0, {&dx, &dr, &narrow});
  EXPECT_EQ(executor.takeError(), "device program 0: output 0 is 2x39, the "
                                  "program takes 2x40");
  EXPECT_EQ(executor.takeError(), ""); // taken once
  Descriptor oneRow(r.data(), {1, 1, kN});
  callHook(executor, 0, {&dx, &oneRow, &dy});
  EXPECT_EQ(executor.takeError(), "device program 0: input 1 is 1x40, the "
                                  "program takes 2x40");
  callHook(executor, 5, {&dx, &dr, &dy});
  EXPECT_EQ(executor.takeError(), "device program 5: the code ran device "
                                  "program 5, the artifact has 1");
  // A strided (transposed) input is not a contiguous buffer.
  Descriptor strided(x.data(), {2, kK});
  std::swap(strided.words[5], strided.words[6]);
  callHook(executor, 0, {&strided, &dr, &dy});
  EXPECT_EQ(executor.takeError(),
            "device program 0: input 0 is not a contiguous buffer");
  EXPECT_EQ(executor.times()[0].second.calls, 1);

  // The manifest must list the section's programs, of the same kind.
  manifest.devicePrograms[0].device = "pim";
  DeviceExecutor other;
  EXPECT_EQ(other.load(bytes.data(), bytes.size(), manifest),
            LLMC_ERROR_INVALID_ARTIFACT);
  EXPECT_EQ(llmc::runtime::lastError(), "device programs: program 0 is a npu "
                                        "program, the manifest says pim");
  manifest.devicePrograms.push_back(manifest.devicePrograms[0]);
  EXPECT_EQ(other.load(bytes.data(), bytes.size(), manifest),
            LLMC_ERROR_INVALID_ARTIFACT);
}

} // namespace
