//===- MeshProgramTest.cpp - mesh device programs: format and execution ---===//

#include "runtime/mesh/MeshProgram.h"

#include <gtest/gtest.h>

#include <random>

using namespace llmc::mesh;

namespace {

/// y = (x · W1) · W2 with x [4, 24], W1 [24, 16], W2 [16, 8], then
/// z = y[0] · W2ᵀ-shaped GEMV: v [1, 8] = u [1, 16] · W2 [16, 8].
MeshProgram example() {
  MeshProgram p;
  p.grid = 4;
  p.timing.hopLatency = 1e-9;
  p.timing.messageOverhead = 20e-9;
  p.timing.coreFlops = 4.4e9;
  uint64_t offset = 0;
  auto tensor = [&](uint64_t rows, uint64_t cols) {
    p.tensors.push_back({rows, cols, offset});
    offset += rows * cols;
    return uint32_t(p.tensors.size() - 1);
  };
  uint32_t x = tensor(4, 24), w1 = tensor(24, 16), h = tensor(4, 16),
           w2 = tensor(16, 8), y = tensor(4, 8), u = tensor(1, 16),
           v = tensor(1, 8);
  p.arena.resize(offset);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float &f : p.arena)
    f = dist(rng);
  p.instructions = {{Opcode::Gemm, Ring::Interleaved, x, w1, h},
                    {Opcode::Gemm, Ring::Plain, h, w2, y},
                    {Opcode::Gemv, Ring::Interleaved, u, w2, v}};
  return p;
}

std::vector<double> reference(const MeshProgram &p, uint32_t a, uint32_t b) {
  const ProgramTensor &ta = p.tensors[a], &tb = p.tensors[b];
  std::vector<double> out(ta.rows * tb.cols, 0.0);
  for (uint64_t i = 0; i < ta.rows; ++i)
    for (uint64_t j = 0; j < tb.cols; ++j)
      for (uint64_t q = 0; q < ta.cols; ++q)
        out[i * tb.cols + j] += double(p.arena[ta.offset + i * ta.cols + q]) *
                                p.arena[tb.offset + q * tb.cols + j];
  return out;
}

TEST(MeshProgram, RoundTripsAndRunsLikeDenseProducts) {
  MeshProgram program = example();
  std::vector<uint8_t> bytes = serializeMeshProgram(program);
  MeshProgram loaded;
  std::string error;
  ASSERT_TRUE(parseMeshProgram(bytes.data(), bytes.size(), loaded, error))
      << error;
  EXPECT_EQ(loaded.grid, 4u);
  EXPECT_EQ(loaded.arena, program.arena);
  MeshRun run = runMeshProgram(loaded);
  EXPECT_GT(run.seconds, 0);
  // Each instruction against dense products computed in order.
  MeshProgram expected = program;
  for (const Instruction &ins : expected.instructions) {
    std::vector<double> r = reference(expected, ins.a, ins.b);
    const ProgramTensor &c = expected.tensors[ins.c];
    for (size_t i = 0; i < r.size(); ++i)
      expected.arena[c.offset + i] = float(r[i]);
  }
  for (size_t i = 0; i < loaded.arena.size(); ++i)
    ASSERT_NEAR(loaded.arena[i], expected.arena[i], 1e-4) << i;
}

std::string parseError(std::vector<uint8_t> bytes) {
  MeshProgram p;
  std::string error;
  EXPECT_FALSE(parseMeshProgram(bytes.data(), bytes.size(), p, error));
  return error;
}

TEST(MeshProgram, CorruptProgramsAreRejected) {
  std::vector<uint8_t> good = serializeMeshProgram(example());
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  EXPECT_EQ(parseError(bad),
            "mesh program: bad magic (not an LLMCMESH program)");
  bad = good;
  bad[8] = 2; // version
  EXPECT_EQ(
      parseError(bad),
      "mesh program: unsupported version 2 (this runtime reads version 1)");
  EXPECT_EQ(parseError({good.begin(), good.begin() + 20}),
            "mesh program: truncated header");
  EXPECT_NE(parseError({good.begin(), good.end() - 4}).find("arena"),
            std::string::npos);

  // A tensor past the arena; an unknown opcode; shapes that do not compose.
  MeshProgram p = example();
  p.tensors[1].offset = p.arena.size();
  EXPECT_EQ(parseError(serializeMeshProgram(p)),
            "mesh program: tensor 1 does not lie inside the arena of " +
                std::to_string(p.arena.size()) + " floats");
  p = example();
  p.instructions[1].opcode = Opcode(7);
  EXPECT_EQ(parseError(serializeMeshProgram(p)),
            "mesh program: instruction 1: unknown opcode 7");
  p = example();
  p.instructions[0].b = 3; // W2 is 16x8, x is 4x24
  EXPECT_NE(parseError(serializeMeshProgram(p))
                .find("instruction 0: shapes do not compose (4x24 · 16x8"),
            std::string::npos);
  p = example();
  p.grid = 0;
  EXPECT_EQ(parseError(serializeMeshProgram(p)),
            "mesh program: grid 0 is not in 1..1024");
}

TEST(MeshProgram, RandomCorruptionNeverCrashes) {
  std::vector<uint8_t> good = serializeMeshProgram(example());
  std::mt19937 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes = good;
    for (int flips = 0; flips < 3; ++flips)
      bytes[rng() % bytes.size()] = uint8_t(rng());
    bytes.resize(rng() % (bytes.size() + 1));
    MeshProgram p;
    std::string error;
    if (parseMeshProgram(bytes.data(), bytes.size(), p, error))
      runMeshProgram(p); // whatever loads must run
    else
      EXPECT_FALSE(error.empty());
  }
}

} // namespace
