//===- DeviceProgram.cpp - NPU, PIM and mesh device programs -------------===//

#include "runtime/device/DeviceProgram.h"

#include "runtime/BinaryIO.h"
#include "runtime/mesh/MeshSimulator.h"
#include "runtime/npu/NpuSimulator.h"
#include "runtime/pim/PimSimulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace llmc::device;

namespace {

constexpr char kMagic[8] = {'L', 'L', 'M', 'C', 'D', 'E', 'V', 'P'};
constexpr uint32_t kVersion = 1;
// Bounds that keep a corrupt header from asking for absurd work.
constexpr uint32_t kMaxCount = 1u << 16;
constexpr uint64_t kMaxCols = 1u << 24;
constexpr double kMaxUnits = 1 << 20; // array rows/cols, channels, banks...

std::string shape(uint64_t rows, uint64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// Which timing fields must be whole counts, and which may be zero.
struct TimingRule {
  const char *name;
  bool count, zeroAllowed;
};

const TimingRule *timingRules(DeviceKind kind) {
  static const TimingRule npu[kTimingFields] = {
      {"array rows", true, false},      {"array cols", true, false},
      {"clock", false, false},          {"DRAM bandwidth", false, false},
      {"buffer bytes", false, true},    {"vector FLOP/s", false, false},
      {"launch overhead", false, true}, {"unused", false, true}};
  static const TimingRule pim[kTimingFields] = {
      {"channels", true, false},
      {"banks per channel", true, false},
      {"bank bandwidth", false, false},
      {"MACs per bank", true, false},
      {"clock", false, false},
      {"vectors per pass", true, false},
      {"external bandwidth", false, false},
      {"command overhead", false, true}};
  static const TimingRule mesh[kTimingFields] = {
      {"grid", true, false},
      {"hop latency", false, true},
      {"message overhead", false, true},
      {"core FLOP/s", false, false},
      {"launch overhead", false, true},
      {"core memory bytes", false, false},
      {"unused", false, true},
      {"unused", false, true}};
  switch (kind) {
  case DeviceKind::Npu:
    return npu;
  case DeviceKind::Pim:
    return pim;
  case DeviceKind::Mesh:
    return mesh;
  }
  return nullptr;
}

/// Processing units the simulator keeps state for: array PEs, banks, cores.
double units(DeviceKind kind, const Timing &t) {
  return kind == DeviceKind::Mesh ? t[0] * t[0] : t[0] * t[1];
}

} // namespace

const char *llmc::device::deviceKindName(DeviceKind kind) {
  switch (kind) {
  case DeviceKind::Npu:
    return "npu";
  case DeviceKind::Pim:
    return "pim";
  case DeviceKind::Mesh:
    return "mesh";
  }
  return "unknown";
}

bool llmc::device::runsOn(DeviceKind kind, Opcode opcode) {
  switch (kind) {
  case DeviceKind::Npu:
    return true;
  case DeviceKind::Pim:
    return opcode == Opcode::Matmul || opcode == Opcode::AddRow ||
           opcode == Opcode::Attention;
  case DeviceKind::Mesh:
    return opcode != Opcode::RmsNorm && opcode != Opcode::Attention;
  }
  return false;
}

std::vector<uint8_t>
llmc::device::serializeDeviceProgram(const DeviceProgram &p) {
  ByteWriter w;
  for (char c : kMagic)
    w.put(c);
  w.put(kVersion);
  w.put(uint32_t(p.kind));
  for (double t : p.timing)
    w.put(t);
  w.put(p.inputs);
  w.put(p.outputs);
  w.put(uint32_t(p.valueCols.size()));
  w.put(uint32_t(p.constants.size()));
  w.put(uint32_t(p.instructions.size()));
  w.put(uint32_t(0)); // reserved
  w.put(uint64_t(p.arena.size()));
  for (uint64_t cols : p.valueCols)
    w.put(cols);
  for (const Constant &c : p.constants) {
    w.put(c.rows);
    w.put(c.cols);
    w.put(c.offset);
  }
  for (const Instruction &i : p.instructions) {
    w.put(uint32_t(i.opcode));
    w.put(i.dst);
    w.put(i.a);
    w.put(i.b);
    w.put(i.c);
    w.put(i.d);
    w.put(i.constant);
    w.put(i.flags);
    w.put(i.window);
    w.put(i.imm);
  }
  for (float f : p.arena)
    w.put(f);
  return w.bytes;
}

namespace {

const char *opcodeName(Opcode opcode) {
  switch (opcode) {
  case Opcode::Matmul:
    return "matmul";
  case Opcode::AddRow:
    return "add_row";
  case Opcode::RmsNorm:
    return "rms_norm";
  case Opcode::Silu:
    return "silu";
  case Opcode::Mul:
    return "mul";
  case Opcode::Add:
    return "add";
  case Opcode::Attention:
    return "attention";
  case Opcode::Rope:
    return "rope";
  }
  return "unknown";
}

/// Checks one instruction against the program read so far; `written`
/// holds the values written by the instructions before it.
std::string checkInstruction(const DeviceProgram &p, const Instruction &ins,
                             std::vector<bool> &written) {
  uint32_t values = uint32_t(p.valueCols.size());
  if (!runsOn(p.kind, ins.opcode))
    return std::string("the ") + deviceKindName(p.kind) + " has no unit for " +
           opcodeName(ins.opcode);
  if (ins.opcode == Opcode::Attention || ins.opcode == Opcode::Rope) {
    // Tensors shaped at launch: checkLaunch checks that they compose.
    std::string name = opcodeName(ins.opcode);
    bool attention = ins.opcode == Opcode::Attention;
    if (ins.dst >= values || ins.dst < p.inputs ||
        ins.dst >= p.inputs + p.outputs || p.valueCols[ins.dst] != 0)
      return "the " + name + "'s destination is not a tensor output";
    for (uint32_t v : {ins.a, ins.b, ins.c, attention ? ins.d : ins.a}) {
      if (v == ins.d && v == kNoValue)
        continue;
      if (v >= p.inputs || p.valueCols[v] != 0)
        return "the " + name + "'s operand " + std::to_string(v) +
               " is not a tensor input";
    }
    if (ins.flags > 1)
      return "unknown " + name + " flags " + std::to_string(ins.flags);
    if (attention && !(std::isfinite(ins.imm) && ins.imm > 0))
      return "the attention's scale is not a finite positive number";
    written[ins.dst] = true;
    return "";
  }
  bool binary = ins.opcode == Opcode::Mul || ins.opcode == Opcode::Add;
  bool usesConstant = ins.opcode == Opcode::Matmul ||
                      ins.opcode == Opcode::AddRow ||
                      ins.opcode == Opcode::RmsNorm;
  if (ins.dst >= values || ins.dst < p.inputs)
    return "destination " + std::to_string(ins.dst) +
           " is not an output or a temporary";
  for (uint32_t v : binary ? std::vector<uint32_t>{ins.a, ins.b}
                           : std::vector<uint32_t>{ins.a}) {
    if (v >= values)
      return "operand " + std::to_string(v) + " is outside the " +
             std::to_string(values) + " values";
    if (!written[v])
      return "value " + std::to_string(v) + " is read before it is written";
    if (p.valueCols[v] == 0)
      return "value " + std::to_string(v) + " is a tensor, not a matrix";
  }
  if (p.valueCols[ins.dst] == 0)
    return "value " + std::to_string(ins.dst) + " is a tensor, not a matrix";
  uint64_t dst = p.valueCols[ins.dst], a = p.valueCols[ins.a];
  if (usesConstant && ins.constant >= p.constants.size())
    return "constant " + std::to_string(ins.constant) +
           " is outside the table of " + std::to_string(p.constants.size());
  if (ins.opcode == Opcode::Matmul) {
    const Constant &c = p.constants[ins.constant];
    if (c.rows != a || c.cols != dst)
      return "the matmul's weight is " + shape(c.rows, c.cols) + ", not " +
             shape(a, dst);
    if (ins.dst == ins.a)
      return "the matmul writes its own input";
  } else {
    if (a != dst || (binary && p.valueCols[ins.b] != dst))
      return std::string("the ") + opcodeName(ins.opcode) +
             "'s operands and destination differ in columns";
    if (usesConstant && (p.constants[ins.constant].rows != 1 ||
                         p.constants[ins.constant].cols != dst)) {
      const Constant &c = p.constants[ins.constant];
      return std::string("the ") + opcodeName(ins.opcode) + "'s row is " +
             shape(c.rows, c.cols) + ", not " + shape(1, dst);
    }
  }
  if (ins.opcode == Opcode::RmsNorm &&
      !(std::isfinite(ins.imm) && ins.imm >= 0))
    return "the rms_norm's epsilon is not a finite non-negative number";
  written[ins.dst] = true;
  return "";
}

} // namespace

bool llmc::device::parseDeviceProgram(const uint8_t *bytes, size_t size,
                                      DeviceProgram &p, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "device program: " + what;
    return false;
  };
  if (!bytes)
    return fail("no data");
  ByteReader r(bytes, size);
  if (std::string header = readMagicAndVersion(r, kMagic, kVersion);
      !header.empty())
    return fail(header);
  uint32_t kind = 0, values = 0, constants = 0, instructions = 0, reserved = 0;
  uint64_t arena = 0;
  DeviceProgram out;
  if (!r.get(kind))
    return fail("truncated header");
  const TimingRule *rules = timingRules(DeviceKind(kind));
  if (!rules)
    return fail("unknown device kind " + std::to_string(kind) +
                " (1 = npu, 2 = pim, 3 = mesh)");
  out.kind = DeviceKind(kind);
  for (double &t : out.timing)
    if (!r.get(t))
      return fail("truncated header");
  for (size_t i = 0; i < kTimingFields; ++i) {
    double t = out.timing[i];
    const TimingRule &rule = rules[i];
    if (!std::isfinite(t) || t < 0 || (t == 0 && !rule.zeroAllowed) ||
        (rule.count && (t != std::floor(t) || t > kMaxUnits)))
      return fail(std::string("timing field '") + rule.name + "' of the " +
                  deviceKindName(out.kind) + " is " + std::to_string(t) +
                  (rule.count ? ", not a count from 1 to 2^20"
                              : ", not a finite positive number"));
  }
  // The simulators keep state per unit.
  if (units(out.kind, out.timing) > kMaxUnits)
    return fail(std::string("the ") + deviceKindName(out.kind) + " has " +
                std::to_string(units(out.kind, out.timing)) +
                " units (array PEs, banks or cores), more than 2^20");
  if (!r.get(out.inputs) || !r.get(out.outputs) || !r.get(values) ||
      !r.get(constants) || !r.get(instructions) || !r.get(reserved) ||
      !r.get(arena))
    return fail("truncated header");
  if (out.inputs < 1 || out.outputs < 1 ||
      uint64_t(out.inputs) + out.outputs > kMaxBuffers)
    return fail(std::to_string(out.inputs) + " inputs and " +
                std::to_string(out.outputs) +
                " outputs: 1 to 8 buffers, at least one of each");
  if (values > kMaxCount || constants > kMaxCount || instructions > kMaxCount)
    return fail("too many values, constants or instructions");
  if (values < out.inputs + out.outputs)
    return fail(std::to_string(values) + " values are fewer than the " +
                std::to_string(out.inputs + out.outputs) +
                " inputs and outputs");
  if (arena > r.remaining() / sizeof(float))
    return fail("the arena of " + std::to_string(arena) +
                " floats is longer than the program");
  if (r.remaining() / 8 < values)
    return fail("truncated value table");
  for (uint32_t i = 0; i < values; ++i) {
    uint64_t cols = 0;
    r.get(cols);
    // Tensors (0 columns) are buffers of the launch, never temporaries.
    bool buffer = i < out.inputs + out.outputs;
    if ((cols == 0 && !buffer) || cols > kMaxCols)
      return fail("value " + std::to_string(i) + " has " +
                  std::to_string(cols) + " columns, not " +
                  (buffer ? "0..2^24" : "1..2^24"));
    out.valueCols.push_back(cols);
  }
  if (r.remaining() / 24 < constants)
    return fail("truncated constant table");
  for (uint32_t i = 0; i < constants; ++i) {
    Constant c;
    r.get(c.rows);
    r.get(c.cols);
    r.get(c.offset);
    if (c.rows == 0 || c.cols == 0 || c.rows > kMaxCols || c.cols > kMaxCols ||
        c.cols > arena / c.rows || c.offset > arena - c.rows * c.cols)
      return fail("constant " + std::to_string(i) +
                  " does not lie inside the arena of " + std::to_string(arena) +
                  " floats");
    out.constants.push_back(c);
  }
  if (r.remaining() / 40 < instructions)
    return fail("truncated instruction list");
  std::vector<bool> written(values, false);
  for (uint32_t v = 0; v < out.inputs; ++v)
    written[v] = true;
  for (uint32_t i = 0; i < instructions; ++i) {
    uint32_t opcode = 0;
    Instruction ins;
    r.get(opcode);
    r.get(ins.dst);
    r.get(ins.a);
    r.get(ins.b);
    r.get(ins.c);
    r.get(ins.d);
    r.get(ins.constant);
    r.get(ins.flags);
    r.get(ins.window);
    r.get(ins.imm);
    std::string where = "instruction " + std::to_string(i);
    if (opcode < uint32_t(Opcode::Matmul) || opcode > uint32_t(Opcode::Rope))
      return fail(where + ": unknown opcode " + std::to_string(opcode));
    ins.opcode = Opcode(opcode);
    std::string problem = checkInstruction(out, ins, written);
    if (!problem.empty())
      return fail(where + ": " + problem);
    out.instructions.push_back(ins);
  }
  for (uint32_t v = out.inputs; v < out.inputs + out.outputs; ++v)
    if (!written[v])
      return fail("output " + std::to_string(v - out.inputs) +
                  " is never written");
  if (r.remaining() != arena * sizeof(float))
    return fail("the arena holds " + std::to_string(r.remaining()) +
                " bytes, not " + std::to_string(arena) + " floats");
  out.arena.resize(arena);
  std::memcpy(out.arena.data(), r.here(), arena * sizeof(float));
  p = std::move(out);
  return true;
}

namespace {

DeviceRun npuMatmul(const Timing &t, const float *x, const float *w, float *y,
                    int64_t m, int64_t k, int64_t n) {
  llmc::npu::NpuTiming timing;
  timing.rows = int(t[0]);
  timing.cols = int(t[1]);
  timing.clock = t[2];
  timing.dramBandwidth = t[3];
  timing.bufferBytes = t[4];
  llmc::npu::NpuRun run =
      llmc::npu::npuMatmul(timing, x, w, y, int(m), int(k), int(n));
  return {run.seconds, run.arraySeconds, run.memorySeconds};
}

DeviceRun pimGemv(const Timing &t, const float *x, const float *w, float *y,
                  int64_t m, int64_t k, int64_t n) {
  llmc::pim::PimTiming timing;
  timing.channels = int(t[0]);
  timing.banksPerChannel = int(t[1]);
  timing.bankBandwidth = t[2];
  timing.macsPerBank = int(t[3]);
  timing.clock = t[4];
  timing.vectorsPerPass = int(t[5]);
  timing.dramBandwidth = t[6];
  // W's columns dealt to the banks, or its rows (which keeps more banks
  // busy when W has few columns: attention's ·V, Q·Kᵀ over a short
  // context): the faster layout. Both compute the same product.
  llmc::pim::PimRun run =
      llmc::pim::pimGemv(timing, x, w, y, int(m), int(k), int(n));
  std::vector<float> rowsResult(size_t(m) * size_t(n));
  llmc::pim::PimRun rows = llmc::pim::pimGemvRowsOverBanks(
      timing, x, w, rowsResult.data(), int(m), int(k), int(n));
  if (rows.seconds < run.seconds) {
    std::copy(rowsResult.begin(), rowsResult.end(), y);
    run = rows;
  }
  return {run.seconds, run.bankSeconds, run.externalSeconds};
}

/// One row: MeshGEMV (local GEMV, tree all-reduce); more: MeshGEMM on the
/// interleaved ring.
DeviceRun meshMatmul(const Timing &t, const float *x, const float *w, float *y,
                     int64_t m, int64_t k, int64_t n) {
  llmc::mesh::MeshTiming timing;
  timing.hopLatency = t[1];
  timing.messageOverhead = t[2];
  timing.coreFlops = t[3];
  int grid = int(t[0]);
  llmc::mesh::MeshRun run =
      m == 1 ? llmc::mesh::meshGemv(grid, timing, w, x, y, int(k), int(n))
             : llmc::mesh::meshGemm(grid, llmc::mesh::Ring::Interleaved, timing,
                                    x, w, y, int(m), int(k), int(n));
  return {run.seconds, run.computeSeconds, 0};
}

/// Arithmetic per element of the vector instructions, as the cost models
/// count it (RMSNorm 7, SiLU 4, the rest 1).
double flopsPerElement(Opcode opcode) {
  switch (opcode) {
  case Opcode::RmsNorm:
    return 7;
  case Opcode::Silu:
    return 4;
  case Opcode::Attention: // the softmax, per score
    return 5;
  case Opcode::Rope:
    return 3;
  default:
    return 1;
  }
}

/// A vector instruction over `elements` outputs that reads `operands`
/// activations of that size: on the NPU's vector unit, streaming them from
/// and back to DRAM (the slower of the two counts; no traffic when
/// `operands` < 0, data already on chip); on the adders of all PIM banks
/// next to the data; or on every mesh core, each on its slice.
DeviceRun vectorSeconds(DeviceKind kind, const Timing &t, Opcode opcode,
                        double elements, double operands) {
  double flops = elements * flopsPerElement(opcode);
  DeviceRun run;
  switch (kind) {
  case DeviceKind::Npu:
    run.computeSeconds = flops / t[5];
    run.memorySeconds =
        operands < 0 ? 0 : 4.0 * elements * (operands + 1) / t[3];
    break;
  case DeviceKind::Pim:
    run.computeSeconds = flops / (t[0] * t[1] * t[3] * t[4]);
    break;
  case DeviceKind::Mesh:
    run.computeSeconds = flops / (t[0] * t[0] * t[3]);
    break;
  }
  run.seconds = std::max(run.computeSeconds, run.memorySeconds);
  return run;
}

/// The fixed cost of starting the program (launch or command issue).
double launchOverhead(DeviceKind kind, const Timing &t) {
  switch (kind) {
  case DeviceKind::Npu:
    return t[6];
  case DeviceKind::Pim:
    return t[7];
  case DeviceKind::Mesh:
    return t[4];
  }
  return 0;
}

} // namespace

int64_t llmc::device::checkLaunch(const DeviceProgram &p, const Buffer *buffers,
                                  std::string &error) {
  int64_t rows = -1;
  uint32_t count = p.inputs + p.outputs;
  auto name = [&](uint32_t v) {
    return v < p.inputs ? "input " + std::to_string(v)
                        : "output " + std::to_string(v - p.inputs);
  };
  auto shapeText = [](const Buffer &b) {
    std::string s;
    for (int d = 0; d < b.rank; ++d)
      s += (d ? "x" : "") + std::to_string(b.shape[d]);
    return s;
  };
  for (uint32_t v = 0; v < count; ++v) {
    const Buffer &b = buffers[v];
    if (b.rank < 1 || b.rank > kMaxRank || !b.data) {
      error = name(v) + " has rank " + std::to_string(b.rank);
      return -1;
    }
    if (p.valueCols[v] == 0)
      continue;
    int64_t r = 1;
    for (int d = 0; d + 1 < b.rank; ++d)
      r *= b.shape[d];
    if (uint64_t(b.shape[b.rank - 1]) != p.valueCols[v] ||
        (rows >= 0 && r != rows)) {
      error = name(v) + " is " + std::to_string(r) + "x" +
              std::to_string(b.shape[b.rank - 1]) + ", the program takes " +
              (rows >= 0 ? std::to_string(rows) : std::string("rows")) + "x" +
              std::to_string(p.valueCols[v]);
      return -1;
    }
    rows = r;
  }
  // A mesh core holds its tiles of a product in its own memory: the
  // weight tile, and the input and output slices (MeshGEMV, one row), or
  // double-buffered A and B tiles and the C tile (MeshGEMM).
  if (p.kind == DeviceKind::Mesh && rows > 0)
    for (const Instruction &ins : p.instructions) {
      if (ins.opcode != Opcode::Matmul)
        continue;
      double grid = p.timing[0];
      double k = double(p.valueCols[ins.a]), n = double(p.valueCols[ins.dst]);
      double mt = std::ceil(rows / grid), kt = std::ceil(k / grid),
             nt = std::ceil(n / grid);
      double bytes = rows == 1 ? 4 * (kt * nt + kt + nt)
                               : 4 * (2 * (mt * kt + kt * nt) + mt * nt);
      if (bytes > p.timing[5]) {
        error = "a " + std::to_string(rows) + "x" + std::to_string(int64_t(k)) +
                " · " + std::to_string(int64_t(k)) + "x" +
                std::to_string(int64_t(n)) + " product on " +
                std::to_string(int64_t(grid)) + "x" +
                std::to_string(int64_t(grid)) + " mesh cores needs " +
                std::to_string(int64_t(bytes)) +
                " bytes per core, more than the " +
                std::to_string(int64_t(p.timing[5])) + " each has";
        return -1;
      }
    }
  for (const Instruction &ins : p.instructions) {
    if (ins.opcode == Opcode::Rope) {
      const Buffer &x = buffers[ins.a], &c = buffers[ins.b],
                   &sn = buffers[ins.c], &o = buffers[ins.dst];
      int64_t r = c.shape[c.rank - 1];
      bool ok = c.rank == sn.rank && c.shape == sn.shape && c.rank <= x.rank &&
                o.rank == x.rank && o.shape == x.shape && r % 2 == 0 &&
                r <= x.shape[x.rank - 1];
      for (int d = 2; ok && d <= c.rank; ++d)
        ok = c.shape[c.rank - d] == 1 ||
             c.shape[c.rank - d] == x.shape[x.rank - d];
      if (!ok) {
        error = "rope shapes do not compose: input " + shapeText(x) + ", cos " +
                shapeText(c) + ", sin " + shapeText(sn) + ", output " +
                shapeText(o);
        return -1;
      }
      continue;
    }
    if (ins.opcode != Opcode::Attention)
      continue;
    for (uint32_t v : {ins.a, ins.b, ins.c, ins.dst, ins.d})
      if (v != kNoValue && buffers[v].rank != 4) {
        error = name(v) + " is " + shapeText(buffers[v]) + ", not a 4-D tensor";
        return -1;
      }
    const Buffer &q = buffers[ins.a], &k = buffers[ins.b], &v = buffers[ins.c],
                 &o = buffers[ins.dst];
    int64_t batch = q.shape[0], hq = q.shape[1], t = q.shape[2],
            hkv = k.shape[1], s = k.shape[2];
    bool ok = hkv >= 1 && hq % hkv == 0 && k.shape[0] == batch &&
              k.shape[3] == q.shape[3] && v.shape[0] == batch &&
              v.shape[1] == hkv && v.shape[2] == s && o.shape[0] == batch &&
              o.shape[1] == hq && o.shape[2] == t && o.shape[3] == v.shape[3];
    if (ins.d != kNoValue) {
      const Buffer &m = buffers[ins.d];
      int64_t want[4] = {batch, hq, t, s};
      for (int d = 0; d < 4; ++d)
        ok &= m.shape[d] == want[d] || m.shape[d] == 1;
    }
    if (!ok) {
      error = "attention shapes do not compose: Q " + shapeText(q) + ", K " +
              shapeText(k) + ", V " + shapeText(v) +
              (ins.d != kNoValue ? ", mask " + shapeText(buffers[ins.d])
                                 : std::string()) +
              ", output " + shapeText(o);
      return -1;
    }
  }
  // A program of tensors only: the attention's query rows (batch × tokens),
  // or the positions of RoPE's table (tokens, or batch × tokens); 0 when
  // the input is empty.
  if (rows < 0)
    for (const Instruction &ins : p.instructions) {
      const Buffer &a = buffers[ins.a];
      if (ins.opcode == Opcode::Attention)
        return a.shape[0] * a.shape[2];
      if (ins.opcode == Opcode::Rope) {
        int64_t elements = 1, positions = 1;
        for (int d = 0; d < a.rank; ++d)
          elements *= a.shape[d];
        const Buffer &table = buffers[ins.b];
        for (int d = 0; d + 1 < table.rank; ++d)
          positions *= table.shape[d];
        return elements == 0 ? 0 : positions;
      }
    }
  return rows < 0 ? 0 : rows;
}

namespace {

/// Y[m, n] = X[m, k] · W[k, n] on the device's matmul unit.
DeviceRun matmulOn(const DeviceProgram &p, const float *x, const float *w,
                   float *y, int64_t m, int64_t k, int64_t n) {
  switch (p.kind) {
  case DeviceKind::Npu:
    return npuMatmul(p.timing, x, w, y, m, k, n);
  case DeviceKind::Pim:
    return pimGemv(p.timing, x, w, y, m, k, n);
  case DeviceKind::Mesh:
    return meshMatmul(p.timing, x, w, y, m, k, n);
  }
  return {};
}

/// Attention per (batch, KV head): the query rows of the heads that share
/// it against its keys on the matmul unit, the softmax on the vector unit
/// (5 operations per score, as the cost models count it; the scores stay
/// where the matmul unit left them), then the probabilities against the
/// values.
DeviceRun attention(const DeviceProgram &p, const Instruction &ins,
                    const Buffer *buffers) {
  const Buffer &qb = buffers[ins.a], &kb = buffers[ins.b], &vb = buffers[ins.c],
               &ob = buffers[ins.dst];
  const Buffer *mb = ins.d != kNoValue ? &buffers[ins.d] : nullptr;
  int64_t batch = qb.shape[0], hq = qb.shape[1], t = qb.shape[2],
          d = qb.shape[3], hkv = kb.shape[1], s = kb.shape[2], dv = vb.shape[3],
          group = hq / hkv, m = group * t;
  DeviceRun total;
  std::vector<float> q(m * d), kt(d * s), scores(m * s), out(m * dv);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hkv; ++h) {
      for (int64_t g = 0; g < group; ++g)
        for (int64_t i = 0; i < t; ++i)
          std::copy_n(qb.data + (((b * hq + h * group + g) * t + i) * d), d,
                      &q[(g * t + i) * d]);
      const float *keys = kb.data + (b * hkv + h) * s * d;
      for (int64_t j = 0; j < s; ++j)
        for (int64_t e = 0; e < d; ++e)
          kt[e * s + j] = keys[j * d + e];
      DeviceRun qk = matmulOn(p, q.data(), kt.data(), scores.data(), m, d, s);
      for (int64_t g = 0; g < group; ++g)
        for (int64_t i = 0; i < t; ++i) {
          float *row = &scores[(g * t + i) * s];
          int64_t head = h * group + g, last = i + s - t;
          float max = -INFINITY;
          for (int64_t j = 0; j < s; ++j) {
            bool hidden = ((ins.flags & 1) && j > last) ||
                          (ins.window && j <= last - int64_t(ins.window));
            float mask = 0;
            if (mb) {
              const auto &ms = mb->shape;
              mask = mb->data[(((ms[0] == 1 ? 0 : b) * ms[1] +
                                (ms[1] == 1 ? 0 : head)) *
                                   ms[2] +
                               (ms[2] == 1 ? 0 : i)) *
                                  ms[3] +
                              (ms[3] == 1 ? 0 : j)];
            }
            row[j] = hidden ? -INFINITY : ins.imm * row[j] + mask;
            max = std::max(max, row[j]);
          }
          double sum = 0;
          for (int64_t j = 0; j < s; ++j) {
            row[j] = max == -INFINITY ? 0.0f : std::exp(row[j] - max);
            sum += row[j];
          }
          for (int64_t j = 0; j < s; ++j)
            row[j] = sum > 0 ? float(row[j] / sum) : 0.0f;
        }
      const float *values = vb.data + (b * hkv + h) * s * dv;
      DeviceRun pv = matmulOn(p, scores.data(), values, out.data(), m, s, dv);
      for (int64_t g = 0; g < group; ++g)
        for (int64_t i = 0; i < t; ++i)
          std::copy_n(&out[(g * t + i) * dv], dv,
                      ob.data + (((b * hq + h * group + g) * t + i) * dv));
      DeviceRun softmax =
          vectorSeconds(p.kind, p.timing, Opcode::Attention, double(m) * s, -1);
      for (const DeviceRun &r : {qk, softmax, pv}) {
        total.seconds += r.seconds;
        total.computeSeconds += r.computeSeconds;
        total.memorySeconds += r.memorySeconds;
      }
    }
  return total;
}

/// RoPE on the vector unit (3 operations per element, as the cost models
/// count it), the input and output through memory.
DeviceRun rope(const DeviceProgram &p, const Instruction &ins,
               const Buffer *buffers) {
  const Buffer &x = buffers[ins.a], &cb = buffers[ins.b], &sb = buffers[ins.c];
  float *out = buffers[ins.dst].data;
  int64_t dim = x.shape[x.rank - 1], r = cb.shape[cb.rank - 1], half = r / 2;
  int64_t rows = 1;
  for (int d = 0; d + 1 < x.rank; ++d)
    rows *= x.shape[d];
  std::vector<int64_t> index(size_t(x.rank), 0);
  for (int64_t row = 0; row < rows; ++row) {
    // The table's row: the input's leading index, aligned on the right,
    // 0 where the table broadcasts.
    int64_t tableRow = 0;
    for (int d = 0; d + 1 < cb.rank; ++d) {
      int xd = x.rank - cb.rank + d;
      tableRow = tableRow * cb.shape[d] + (cb.shape[d] == 1 ? 0 : index[xd]);
    }
    const float *in = x.data + row * dim, *c = cb.data + tableRow * r,
                *s = sb.data + tableRow * r;
    float *o = out + row * dim;
    for (int64_t i = 0; i < half; ++i) {
      int64_t a = ins.flags & 1 ? 2 * i : i,
              b = ins.flags & 1 ? 2 * i + 1 : i + half;
      o[a] = in[a] * c[a] - in[b] * s[a];
      o[b] = in[b] * c[b] + in[a] * s[b];
    }
    std::copy(in + r, in + dim, o + r);
    for (int d = x.rank - 2; d >= 0; --d) {
      if (++index[d] < x.shape[d])
        break;
      index[d] = 0;
    }
  }
  return vectorSeconds(p.kind, p.timing, Opcode::Rope, double(rows) * dim, 1);
}

} // namespace

DeviceRun llmc::device::runDeviceProgram(const DeviceProgram &p,
                                         const Buffer *buffers, int64_t rows) {
  // Every matrix value's data: the launch's buffers, then temporaries.
  size_t values = p.valueCols.size();
  std::vector<std::vector<float>> temporaries(values);
  std::vector<float *> data(values);
  for (size_t v = 0; v < values; ++v) {
    if (v < p.inputs + p.outputs) {
      data[v] = buffers[v].data;
    } else {
      temporaries[v].resize(size_t(rows) * p.valueCols[v]);
      data[v] = temporaries[v].data();
    }
  }
  DeviceRun total;
  total.seconds = launchOverhead(p.kind, p.timing);
  for (const Instruction &ins : p.instructions) {
    DeviceRun run;
    if (ins.opcode == Opcode::Attention || ins.opcode == Opcode::Rope) {
      run = ins.opcode == Opcode::Attention ? attention(p, ins, buffers)
                                            : rope(p, ins, buffers);
      total.seconds += run.seconds;
      total.computeSeconds += run.computeSeconds;
      total.memorySeconds += run.memorySeconds;
      continue;
    }
    int64_t n = int64_t(p.valueCols[ins.dst]);
    const float *a = data[ins.a], *b = data[ins.b];
    float *dst = data[ins.dst];
    const float *c = ins.opcode == Opcode::Matmul ||
                             ins.opcode == Opcode::AddRow ||
                             ins.opcode == Opcode::RmsNorm
                         ? p.arena.data() + p.constants[ins.constant].offset
                         : nullptr;
    switch (ins.opcode) {
    case Opcode::Matmul:
      run = matmulOn(p, a, c, dst, rows, int64_t(p.valueCols[ins.a]), n);
      break;
    case Opcode::AddRow:
      for (int64_t m = 0; m < rows; ++m)
        for (int64_t j = 0; j < n; ++j)
          dst[m * n + j] = a[m * n + j] + c[j];
      break;
    case Opcode::RmsNorm:
      for (int64_t m = 0; m < rows; ++m) {
        double squares = 0;
        for (int64_t j = 0; j < n; ++j)
          squares += double(a[m * n + j]) * a[m * n + j];
        float scale = float(1.0 / std::sqrt(squares / n + ins.imm));
        for (int64_t j = 0; j < n; ++j)
          dst[m * n + j] = a[m * n + j] * scale * c[j];
      }
      break;
    case Opcode::Silu:
      for (int64_t i = 0; i < rows * n; ++i)
        dst[i] = a[i] / (1.0f + std::exp(-a[i]));
      break;
    case Opcode::Mul:
      for (int64_t i = 0; i < rows * n; ++i)
        dst[i] = a[i] * b[i];
      break;
    case Opcode::Add:
      for (int64_t i = 0; i < rows * n; ++i)
        dst[i] = a[i] + b[i];
      break;
    case Opcode::Attention:
    case Opcode::Rope:
      break;
    }
    if (ins.opcode != Opcode::Matmul) {
      bool binary = ins.opcode == Opcode::Mul || ins.opcode == Opcode::Add;
      run = vectorSeconds(p.kind, p.timing, ins.opcode, double(rows) * n,
                          binary ? 2 : 1);
    }
    total.seconds += run.seconds;
    total.computeSeconds += run.computeSeconds;
    total.memorySeconds += run.memorySeconds;
  }
  return total;
}
