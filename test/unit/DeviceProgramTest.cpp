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
    return {4, 1e-9, 20e-9, 4.4e9, 3e-6, 48e3, 0, 0};
  }
  return {};
}

Instruction op(Opcode opcode, uint32_t dst, uint32_t a, uint32_t b = 0,
               uint32_t constant = 0, float imm = 0) {
  Instruction i;
  i.opcode = opcode;
  i.dst = dst;
  i.a = a;
  i.b = b;
  i.constant = constant;
  i.imm = imm;
  return i;
}

/// Runs a program of matrices on row-major [rows, cols] buffers.
DeviceRun runMatrices(const DeviceProgram &p,
                      std::vector<const float *> buffers, int64_t rows) {
  std::vector<Buffer> b(buffers.size());
  for (size_t i = 0; i < b.size(); ++i) {
    b[i].data = const_cast<float *>(buffers[i]);
    b[i].rank = 2;
    b[i].shape[0] = rows;
    b[i].shape[1] = int64_t(p.valueCols[i]);
  }
  std::string error;
  EXPECT_EQ(checkLaunch(p, b.data(), error), rows) << error;
  return runDeviceProgram(p, b.data(), rows);
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
    p.instructions = {op(Opcode::Matmul, 1, 0, 0, w),
                      op(Opcode::AddRow, 1, 1, 0, b)};
    return p;
  }
  // Values: x, r | y | normed x, h, silu(h), silu(h) ⊙ h.
  p.inputs = 2;
  p.outputs = 1;
  p.valueCols = {kK, kN, kN, kK, kN, kN, kN};
  if (kind == DeviceKind::Npu) {
    uint32_t gamma = constant(1, kK);
    p.instructions.push_back(op(Opcode::RmsNorm, 3, 0, 0, gamma, 1e-5f));
    p.instructions.push_back(op(Opcode::Matmul, 4, 3, 0, w));
  } else {
    p.instructions.push_back(op(Opcode::Matmul, 4, 0, 0, w));
  }
  p.instructions.push_back(op(Opcode::AddRow, 4, 4, 0, b));
  p.instructions.push_back(op(Opcode::Silu, 5, 4));
  p.instructions.push_back(op(Opcode::Mul, 6, 5, 4));
  p.instructions.push_back(op(Opcode::Add, 2, 6, 1));
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
      DeviceRun run =
          kind == DeviceKind::Pim
              ? runMatrices(loaded, {x.data(), y.data()}, rows)
              : runMatrices(loaded, {x.data(), r.data(), y.data()}, rows);
      std::vector<double> want = reference(program, x.data(), r.data(), rows);
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(y[i], want[i], 1e-5) << deviceKindName(kind) << " " << i;
      EXPECT_GT(run.seconds, 0);
    }
  }
}

TEST(DeviceProgram, TimeIsTheSimulatorsPlusTheVectorUnitsAndTheLaunch) {
  std::vector<float> x(3 * kK, 1.0f), r(3 * kN), y(3 * kN), scratch(3 * kN);
  DeviceProgram pim = example(DeviceKind::Pim);
  DeviceRun run = runMatrices(pim, {x.data(), y.data()}, 3);
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
  run = runMatrices(npu, {x.data(), r.data(), y.data()}, 3);
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
  run = runMatrices(mesh, {x.data(), r.data(), y.data()}, 3);
  double gemm =
      llmc::mesh::meshGemm(4, llmc::mesh::Ring::Interleaved, m, x.data(),
                           mesh.arena.data(), scratch.data(), 3, kK, kN)
          .seconds;
  EXPECT_NEAR(run.seconds, 3e-6 + gemm + 3 * kN * (1 + 4 + 1 + 1) / cores,
              1e-15);
  run = runMatrices(mesh, {x.data(), r.data(), y.data()}, 1);
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
  p.instructions[1].opcode = Opcode(9);
  EXPECT_EQ(error(p), "device program: instruction 1: unknown opcode 9");
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
      // Whatever loads and accepts the launch must run.
      std::vector<std::vector<float>> data;
      std::vector<Buffer> buffers(p.inputs + p.outputs);
      for (uint32_t v = 0; v < p.inputs + p.outputs; ++v) {
        bool tensor = p.valueCols[v] == 0;
        data.emplace_back(tensor ? 2 * 2 * 3 * 4 : 2 * p.valueCols[v], 1.0f);
        buffers[v].data = data.back().data();
        buffers[v].rank = tensor ? 4 : 2;
        buffers[v].shape =
            tensor ? std::array<int64_t, 8>{2, 2, 3, 4}
                   : std::array<int64_t, 8>{2, int64_t(p.valueCols[v])};
      }
      std::string launchError;
      int64_t rows = checkLaunch(p, buffers.data(), launchError);
      if (rows >= 0)
        runDeviceProgram(p, buffers.data(), rows);
    }
  }
}

/// A device programs section holding `programs`.
std::vector<uint8_t> section(std::vector<DeviceProgram> programs) {
  std::vector<uint64_t> table = {programs.size()};
  std::vector<uint8_t> body;
  uint64_t start = 8 + 16 * programs.size();
  for (const DeviceProgram &p : programs) {
    std::vector<uint8_t> bytes = serializeDeviceProgram(p);
    table.push_back(start + body.size());
    table.push_back(bytes.size());
    body.insert(body.end(), bytes.begin(), bytes.end());
    body.resize((body.size() + 7) / 8 * 8);
  }
  std::vector<uint8_t> out(table.size() * 8);
  std::memcpy(out.data(), table.data(), out.size());
  out.insert(out.end(), body.begin(), body.end());
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
  std::vector<uint8_t> bytes = section({program});
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

/// Attention over [B=2, Hq=4, T=3, D=8] queries and [B, Hkv=2, S=5, D]
/// keys, [.., Dv=6] values, an additive [B, 1, 1, S] mask.
struct AttentionCase {
  std::vector<float> q, k, v, mask, out;
  std::vector<Buffer> buffers;
  AttentionCase() {
    std::mt19937 rng(17);
    std::uniform_real_distribution<float> dist(-1, 1);
    for (auto [vec, n] :
         {std::pair{&q, 2 * 4 * 3 * 8}, std::pair{&k, 2 * 2 * 5 * 8},
          std::pair{&v, 2 * 2 * 5 * 6}})
      for (int i = 0; i < n; ++i)
        vec->push_back(dist(rng));
    mask = {0, 0, -INFINITY, 0, 0, 0, 0.5f, 0, 0, 0};
    out.assign(2 * 4 * 3 * 6, -7.0f);
    auto buffer = [](std::vector<float> &data, std::array<int64_t, 4> shape) {
      Buffer b;
      b.data = data.data();
      b.rank = 4;
      std::copy(shape.begin(), shape.end(), b.shape.begin());
      return b;
    };
    buffers = {buffer(q, {2, 4, 3, 8}), buffer(k, {2, 2, 5, 8}),
               buffer(v, {2, 2, 5, 6}), buffer(mask, {2, 1, 1, 5}),
               buffer(out, {2, 4, 3, 6})};
  }
  /// The plain definition, in doubles.
  double reference(int b, int h, int i, int e, bool causal, int window) {
    int hk = h / 2, last = i + 5 - 3;
    std::vector<double> score(5);
    double max = -INFINITY;
    for (int j = 0; j < 5; ++j) {
      double dot = 0;
      for (int d = 0; d < 8; ++d)
        dot += double(q[((b * 4 + h) * 3 + i) * 8 + d]) *
               k[((b * 2 + hk) * 5 + j) * 8 + d];
      bool hidden = (causal && j > last) || (window && j <= last - window);
      score[j] = hidden ? -INFINITY : 0.3 * dot + mask[b * 5 + j];
      max = std::max(max, score[j]);
    }
    double sum = 0, result = 0;
    for (double &s : score)
      sum += s = max == -INFINITY ? 0 : std::exp(s - max);
    for (int j = 0; j < 5; ++j)
      result += score[j] / sum * v[((b * 2 + hk) * 5 + j) * 6 + e];
    return result;
  }
};

DeviceProgram attentionProgram(DeviceKind kind, bool causal, int window) {
  DeviceProgram p;
  p.kind = kind;
  p.timing = timingOf(kind);
  p.inputs = 4;
  p.outputs = 1;
  p.valueCols = {0, 0, 0, 0, 0};
  Instruction a = op(Opcode::Attention, 4, 0, 1, 0, 0.3f);
  a.c = 2;
  a.d = 3;
  a.flags = causal;
  a.window = window;
  p.instructions = {a};
  return p;
}

TEST(DeviceProgram, MeshLaunchesWhoseTilesExceedCoreMemoryAreRefused) {
  DeviceProgram mesh = example(DeviceKind::Mesh);
  // 4x4 cores: 5 rows of [24] · [24, 40] need 4·(2·(2·6 + 6·10) + 2·10) =
  // 656 bytes per core; give them 600.
  mesh.timing[5] = 600;
  std::vector<float> x(5 * kK), r(5 * kN), y(5 * kN);
  std::vector<Buffer> b(3);
  std::vector<float *> data = {x.data(), r.data(), y.data()};
  for (size_t i = 0; i < 3; ++i) {
    b[i].data = data[i];
    b[i].rank = 2;
    b[i].shape[0] = 5;
    b[i].shape[1] = int64_t(mesh.valueCols[i]);
  }
  std::string error;
  EXPECT_EQ(checkLaunch(mesh, b.data(), error), -1);
  EXPECT_EQ(error, "a 5x24 · 24x40 product on 4x4 mesh cores needs 656 bytes "
                   "per core, more than the 600 each has");
  // One row (MeshGEMV): 4·(6·10 + 6 + 10) = 304 bytes fit.
  for (Buffer &buffer : b)
    buffer.shape[0] = 1;
  EXPECT_EQ(checkLaunch(mesh, b.data(), error), 1) << error;
}

TEST(DeviceProgram, AttentionMatchesThePlainDefinition) {
  for (DeviceKind kind : {DeviceKind::Npu, DeviceKind::Pim})
    for (auto [causal, window] :
         {std::pair{true, 0}, std::pair{false, 0}, std::pair{true, 2}}) {
      DeviceProgram program = attentionProgram(kind, causal, window);
      std::vector<uint8_t> bytes = serializeDeviceProgram(program);
      DeviceProgram loaded;
      std::string error;
      ASSERT_TRUE(parseDeviceProgram(bytes.data(), bytes.size(), loaded, error))
          << error;
      AttentionCase c;
      // Batch 2 x 3 query tokens.
      ASSERT_EQ(checkLaunch(loaded, c.buffers.data(), error), 6) << error;
      DeviceRun run = runDeviceProgram(loaded, c.buffers.data(), 6);
      EXPECT_GT(run.seconds, 0);
      for (int b = 0; b < 2; ++b)
        for (int h = 0; h < 4; ++h)
          for (int i = 0; i < 3; ++i)
            for (int e = 0; e < 6; ++e)
              EXPECT_NEAR(c.out[((b * 4 + h) * 3 + i) * 6 + e],
                          c.reference(b, h, i, e, causal, window), 1e-5)
                  << deviceKindName(kind) << " b" << b << " h" << h << " i" << i
                  << " e" << e;
    }
}

/// RoPE over [2, 3, 4, 8] (batch, heads, tokens, features) with R = 6 of
/// the 8 features rotated: the reference straight from llm.rope's
/// definition.
TEST(DeviceProgram, RopeMatchesThePlainDefinition) {
  for (bool interleaved : {false, true})
    for (bool perBatch : {false, true}) {
      DeviceProgram p;
      p.kind = DeviceKind::Npu;
      p.timing = timingOf(DeviceKind::Npu);
      p.inputs = 3;
      p.outputs = 1;
      p.valueCols = {0, 0, 0, 0};
      Instruction rope = op(Opcode::Rope, 3, 0, 1);
      rope.c = 2;
      rope.flags = interleaved;
      p.instructions = {rope};
      std::vector<uint8_t> bytes = serializeDeviceProgram(p);
      DeviceProgram loaded;
      std::string error;
      ASSERT_TRUE(parseDeviceProgram(bytes.data(), bytes.size(), loaded, error))
          << error;
      std::mt19937 rng(23);
      std::uniform_real_distribution<float> dist(-1, 1);
      std::vector<float> x(2 * 3 * 4 * 8), out(x.size(), -7.0f);
      // A [4, 6] table for every row, or a [2, 1, 4, 6] one per batch row.
      std::vector<float> cos(perBatch ? 2 * 4 * 6 : 4 * 6), sin(cos.size());
      for (auto *v : {&x, &cos, &sin})
        for (float &f : *v)
          f = dist(rng);
      auto buffer = [](std::vector<float> &data, std::vector<int64_t> shape) {
        Buffer b;
        b.data = data.data();
        b.rank = int(shape.size());
        std::copy(shape.begin(), shape.end(), b.shape.begin());
        return b;
      };
      std::vector<int64_t> table = perBatch ? std::vector<int64_t>{2, 1, 4, 6}
                                            : std::vector<int64_t>{4, 6};
      std::vector<Buffer> buffers = {buffer(x, {2, 3, 4, 8}),
                                     buffer(cos, table), buffer(sin, table),
                                     buffer(out, {2, 3, 4, 8})};
      ASSERT_EQ(checkLaunch(loaded, buffers.data(), error), perBatch ? 8 : 4)
          << error;
      runDeviceProgram(loaded, buffers.data(), 4);
      for (int b = 0; b < 2; ++b)
        for (int h = 0; h < 3; ++h)
          for (int t = 0; t < 4; ++t) {
            const float *in = &x[((b * 3 + h) * 4 + t) * 8];
            const float *c = &cos[((perBatch ? b * 4 : 0) + t) * 6];
            const float *sn = &sin[((perBatch ? b * 4 : 0) + t) * 6];
            const float *o = &out[((b * 3 + h) * 4 + t) * 8];
            for (int i = 0; i < 3; ++i) {
              int first = interleaved ? 2 * i : i;
              int second = interleaved ? 2 * i + 1 : i + 3;
              EXPECT_NEAR(o[first],
                          in[first] * c[first] - in[second] * sn[first], 1e-6);
              EXPECT_NEAR(o[second],
                          in[second] * c[second] + in[first] * sn[second],
                          1e-6);
            }
            EXPECT_EQ(o[6], in[6]); // features past R pass through
            EXPECT_EQ(o[7], in[7]);
          }
      // A table that does not line up with the tokens.
      buffers[1].shape[buffers[1].rank - 2] = 3;
      buffers[2].shape[buffers[2].rank - 2] = 3;
      EXPECT_EQ(checkLaunch(loaded, buffers.data(), error), -1);
      EXPECT_NE(error.find("rope shapes do not compose"), std::string::npos);
    }
}

TEST(DeviceProgram, PimAttentionTimeIsTwoBankGemvsAndTheSoftmaxPerKVHead) {
  DeviceProgram program = attentionProgram(DeviceKind::Pim, true, 0);
  AttentionCase c;
  DeviceRun run = runDeviceProgram(program, c.buffers.data(), 6);
  llmc::pim::PimTiming p;
  p.channels = 2;
  p.banksPerChannel = 4;
  p.bankBandwidth = 20e9;
  p.macsPerBank = 16;
  p.clock = 1e9;
  p.vectorsPerPass = 1;
  p.dramBandwidth = 40e9;
  // Per (batch, KV head): 2 query heads x 3 tokens = 6 rows against 5 keys
  // of 8, then 6 x 5 probabilities against 5 values of 6, each with the
  // faster of W's columns or rows dealt to the banks.
  std::vector<float> x(6 * 8), w(8 * 6), y(6 * 6);
  auto faster = [&](int m, int k, int n) {
    return std::min(
        llmc::pim::pimGemv(p, x.data(), w.data(), y.data(), m, k, n).seconds,
        llmc::pim::pimGemvRowsOverBanks(p, x.data(), w.data(), y.data(), m, k,
                                        n)
            .seconds);
  };
  double qk = faster(6, 8, 5), pv = faster(6, 5, 6);
  double softmax = 6 * 5 * 5 / (8 * 16 * 1e9);
  EXPECT_NEAR(run.seconds, 1e-6 + 4 * (qk + softmax + pv), 1e-15);
}

TEST(DeviceProgram, AttentionLaunchesAndProgramsAreChecked) {
  DeviceProgram program = attentionProgram(DeviceKind::Pim, true, 0);
  AttentionCase c;
  std::string error;
  c.buffers[1].shape[3] = 7; // K's head dimension differs from Q's
  EXPECT_EQ(checkLaunch(program, c.buffers.data(), error), -1);
  EXPECT_EQ(error, "attention shapes do not compose: Q 2x4x3x8, K 2x2x5x7, "
                   "V 2x2x5x6, mask 2x1x1x5, output 2x4x3x6");
  c = AttentionCase();
  c.buffers[0].shape[1] = 3; // 3 query heads over 2 KV heads
  EXPECT_EQ(checkLaunch(program, c.buffers.data(), error), -1);
  c = AttentionCase();
  c.buffers[3].shape[2] = 2; // a mask that does not broadcast
  EXPECT_EQ(checkLaunch(program, c.buffers.data(), error), -1);
  c = AttentionCase();
  c.buffers[2].rank = 3;
  EXPECT_EQ(checkLaunch(program, c.buffers.data(), error), -1);
  EXPECT_EQ(error, "input 2 is 2x2x5, not a 4-D tensor");

  auto parse = [](const DeviceProgram &p) {
    return parseError(serializeDeviceProgram(p));
  };
  DeviceProgram bad = program;
  bad.valueCols[1] = 8;
  EXPECT_EQ(parse(bad), "device program: instruction 0: the attention's "
                        "operand 1 is not a tensor input");
  bad = program;
  bad.instructions[0].flags = 2;
  EXPECT_EQ(parse(bad),
            "device program: instruction 0: unknown attention flags 2");
  bad = program;
  bad.instructions[0].imm = 0;
  EXPECT_EQ(parse(bad), "device program: instruction 0: the attention's "
                        "scale is not a finite positive number");
  bad = program;
  bad.kind = DeviceKind::Mesh;
  bad.timing = timingOf(DeviceKind::Mesh);
  EXPECT_EQ(parse(bad),
            "device program: instruction 0: the mesh has no unit for "
            "attention");
  bad = program;
  bad.instructions[0].d = kNoValue; // no mask: fine
  DeviceProgram loaded;
  std::vector<uint8_t> bytes = serializeDeviceProgram(bad);
  EXPECT_TRUE(parseDeviceProgram(bytes.data(), bytes.size(), loaded, error))
      << error;
}

TEST(DeviceExecutor, SubBatchesOverlapOnDifferentDevices) {
  using llmc::runtime::Descriptor;
  using llmc::runtime::DeviceExecutor;
  // Program 0 on the NPU, program 1 on the PIM: each sub-batch runs the
  // NPU's, then the PIM's.
  std::vector<uint8_t> bytes =
      section({example(DeviceKind::Npu), example(DeviceKind::Pim)});
  llmc::runtime::Manifest manifest;
  manifest.devicePrograms = {{"npu", 0, "a", "", 0}, {"pim", 0, "b", "", 0}};
  DeviceExecutor executor;
  ASSERT_EQ(executor.load(bytes.data(), bytes.size(), manifest), LLMC_OK);
  std::vector<float> x(kK, 0.5f), r(kN), y(kN);
  Descriptor dx(x.data(), {1, kK}), dr(r.data(), {1, kN}),
      dy(y.data(), {1, kN});
  auto step = [&]() {
    callHook(executor, 0, {&dx, &dr, &dy});
    callHook(executor, 1, {&dx, &dy});
  };
  step();
  auto times = executor.times();
  double npu = times[0].second.seconds, pim = times[1].second.seconds;
  int64_t subBatches = 0;
  EXPECT_DOUBLE_EQ(executor.timelineSeconds(&subBatches), npu + pim);
  EXPECT_EQ(subBatches, 1);

  // Two sub-batches: the second's NPU work runs while the first's PIM
  // work does.
  executor.resetTimes();
  DeviceExecutor::setSubBatch(0);
  step();
  DeviceExecutor::setSubBatch(4);
  step();
  DeviceExecutor::setSubBatch(0);
  EXPECT_DOUBLE_EQ(executor.timelineSeconds(&subBatches),
                   std::max(2 * npu, npu + pim) + pim);
  EXPECT_EQ(subBatches, 2);
  EXPECT_EQ(executor.times()[0].second.calls, 2);
}

} // namespace
