//===- MeshProgram.cpp - the mesh target's device program -----------------===//

#include "runtime/mesh/MeshProgram.h"

#include "runtime/BinaryIO.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

using namespace llmc::mesh;

namespace {

constexpr char kMagic[8] = {'L', 'L', 'M', 'C', 'M', 'E', 'S', 'H'};
constexpr uint32_t kVersion = 1;
// Bounds that keep a corrupt header from asking for absurd work.
constexpr uint32_t kMaxGrid = 1024;
constexpr uint32_t kMaxCount = 1u << 20;

} // namespace

std::vector<uint8_t> llmc::mesh::serializeMeshProgram(const MeshProgram &p) {
  llmc::ByteWriter w;
  for (char c : kMagic)
    w.put(c);
  w.put(kVersion);
  w.put(p.grid);
  w.put(p.timing.hopLatency);
  w.put(p.timing.messageOverhead);
  w.put(p.timing.coreFlops);
  w.put(uint32_t(p.tensors.size()));
  w.put(uint32_t(p.instructions.size()));
  w.put(uint64_t(p.arena.size()));
  for (const ProgramTensor &t : p.tensors) {
    w.put(t.rows);
    w.put(t.cols);
    w.put(t.offset);
  }
  for (const Instruction &i : p.instructions) {
    w.put(uint32_t(i.opcode));
    w.put(uint32_t(i.ring));
    w.put(i.a);
    w.put(i.b);
    w.put(i.c);
  }
  for (float f : p.arena)
    w.put(f);
  return w.bytes;
}

bool llmc::mesh::parseMeshProgram(const uint8_t *bytes, size_t size,
                                  MeshProgram &p, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "mesh program: " + what;
    return false;
  };
  if (!bytes)
    return fail("no data");
  llmc::ByteReader r(bytes, size);
  if (std::string header = llmc::readMagicAndVersion(r, kMagic, kVersion);
      !header.empty())
    return fail(header);
  uint32_t tensors = 0, instructions = 0;
  uint64_t arena = 0;
  MeshProgram out;
  if (!r.get(out.grid) || !r.get(out.timing.hopLatency) ||
      !r.get(out.timing.messageOverhead) || !r.get(out.timing.coreFlops) ||
      !r.get(tensors) || !r.get(instructions) || !r.get(arena))
    return fail("truncated header");
  if (out.grid < 1 || out.grid > kMaxGrid)
    return fail("grid " + std::to_string(out.grid) + " is not in 1.." +
                std::to_string(kMaxGrid));
  auto finiteNonNegative = [](double v) { return std::isfinite(v) && v >= 0; };
  if (!finiteNonNegative(out.timing.hopLatency) ||
      !finiteNonNegative(out.timing.messageOverhead) ||
      !std::isfinite(out.timing.coreFlops) || out.timing.coreFlops <= 0)
    return fail("timing must be finite, non-negative, with a positive FLOP "
                "rate");
  if (tensors > kMaxCount || instructions > kMaxCount)
    return fail("too many tensors or instructions");
  if (arena > r.remaining() / sizeof(float))
    return fail("the arena of " + std::to_string(arena) +
                " floats is longer than the program");
  // Each table entry's size, checked against what is left before reading.
  if (r.remaining() / 24 < tensors)
    return fail("truncated tensor table");
  for (uint32_t i = 0; i < tensors; ++i) {
    ProgramTensor t;
    r.get(t.rows);
    r.get(t.cols);
    r.get(t.offset);
    if (t.rows == 0 || t.cols == 0 || t.rows > uint64_t(INT32_MAX) ||
        t.cols > uint64_t(INT32_MAX) || t.cols > arena / t.rows ||
        t.offset > arena - t.rows * t.cols)
      return fail("tensor " + std::to_string(i) +
                  " does not lie inside the arena of " + std::to_string(arena) +
                  " floats");
    out.tensors.push_back(t);
  }
  if (r.remaining() / 20 < instructions)
    return fail("truncated instruction list");
  for (uint32_t i = 0; i < instructions; ++i) {
    uint32_t opcode = 0, ring = 0;
    Instruction ins;
    r.get(opcode);
    r.get(ring);
    r.get(ins.a);
    r.get(ins.b);
    r.get(ins.c);
    std::string where = "instruction " + std::to_string(i);
    if (opcode != uint32_t(Opcode::Gemm) && opcode != uint32_t(Opcode::Gemv))
      return fail(where + ": unknown opcode " + std::to_string(opcode));
    if (ring > uint32_t(Ring::Plain))
      return fail(where + ": unknown ring " + std::to_string(ring));
    ins.opcode = Opcode(opcode);
    ins.ring = Ring(ring);
    if (ins.a >= tensors || ins.b >= tensors || ins.c >= tensors)
      return fail(where + ": operand out of the tensor table");
    const ProgramTensor &a = out.tensors[ins.a], &b = out.tensors[ins.b],
                        &c = out.tensors[ins.c];
    if (a.cols != b.rows || c.rows != a.rows || c.cols != b.cols)
      return fail(where + ": shapes do not compose (" + std::to_string(a.rows) +
                  "x" + std::to_string(a.cols) + " · " +
                  std::to_string(b.rows) + "x" + std::to_string(b.cols) +
                  " into " + std::to_string(c.rows) + "x" +
                  std::to_string(c.cols) + ")");
    if (ins.opcode == Opcode::Gemv && a.rows != 1)
      return fail(where + ": MeshGEMV takes one input row");
    if (ins.c == ins.a || ins.c == ins.b)
      return fail(where + ": the output overlaps an input");
    out.instructions.push_back(ins);
  }
  if (r.remaining() / sizeof(float) != arena ||
      r.remaining() % sizeof(float) != 0)
    return fail("the arena holds " + std::to_string(r.remaining()) +
                " bytes, not " + std::to_string(arena) + " floats");
  out.arena.resize(arena);
  std::memcpy(out.arena.data(), r.here(), arena * sizeof(float));
  p = std::move(out);
  return true;
}

MeshRun llmc::mesh::runMeshProgram(MeshProgram &p) {
  MeshRun total;
  for (const Instruction &ins : p.instructions) {
    const ProgramTensor &a = p.tensors[ins.a], &b = p.tensors[ins.b],
                        &c = p.tensors[ins.c];
    const float *x = p.arena.data() + a.offset;
    const float *w = p.arena.data() + b.offset;
    std::vector<float> result(c.rows * c.cols);
    MeshRun run =
        ins.opcode == Opcode::Gemm
            ? meshGemm(int(p.grid), ins.ring, p.timing, x, w, result.data(),
                       int(a.rows), int(a.cols), int(b.cols))
            : meshGemv(int(p.grid), p.timing, w, x, result.data(), int(a.cols),
                       int(b.cols));
    std::copy(result.begin(), result.end(), p.arena.begin() + c.offset);
    total.seconds += run.seconds;
    total.computeSeconds += run.computeSeconds;
    total.messages += run.messages;
    total.maxHops = std::max(total.maxHops, run.maxHops);
  }
  return total;
}
