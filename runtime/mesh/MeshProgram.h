//===- MeshProgram.h - the mesh target's device program ---------*- C++ -*-===//
//
// A self-contained program for the simulated mesh: the grid and its timing,
// a float arena holding every tensor (weights with their values, inputs
// the caller fills, outputs the program writes) and a list of collective
// instructions (MeshGEMM, MeshGEMV) over those tensors. The binary format
// is documented in docs/targets/mesh.md; the loader validates every field
// before anything runs.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_MESH_MESHPROGRAM_H
#define LLMC_RUNTIME_MESH_MESHPROGRAM_H

#include "runtime/mesh/MeshSimulator.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::mesh {

/// A row-major matrix in the arena: `rows` × `cols` floats from `offset`.
struct ProgramTensor {
  uint64_t rows = 0, cols = 0, offset = 0;
};

enum class Opcode : uint32_t {
  /// tensors[c] = tensors[a] · tensors[b] by MeshGEMM on the given ring.
  Gemm = 1,
  /// tensors[c] (1 × n) = tensors[a] (1 × k) · tensors[b] (k × n) by
  /// MeshGEMV.
  Gemv = 2,
};

struct Instruction {
  Opcode opcode = Opcode::Gemm;
  Ring ring = Ring::Interleaved;
  uint32_t a = 0, b = 0, c = 0;
};

struct MeshProgram {
  uint32_t grid = 1;
  MeshTiming timing;
  std::vector<ProgramTensor> tensors;
  std::vector<Instruction> instructions;
  std::vector<float> arena;
};

/// The bytes of `program` (format version 1).
std::vector<uint8_t> serializeMeshProgram(const MeshProgram &program);

/// Reads a program, checking the magic, the version, every count, every
/// tensor against the arena and every instruction's operands and shapes.
/// On failure returns false with `error` naming the field.
bool parseMeshProgram(const uint8_t *bytes, size_t size, MeshProgram &program,
                      std::string &error);

/// Runs the instructions in order on the simulator, writing their outputs
/// into the arena; returns the simulated time of the whole program.
MeshRun runMeshProgram(MeshProgram &program);

} // namespace llmc::mesh

#endif // LLMC_RUNTIME_MESH_MESHPROGRAM_H
