//===- DeviceProgram.cpp - NPU, PIM and mesh device programs -------------===//

#include "runtime/device/DeviceProgram.h"

#include "runtime/BinaryIO.h"
#include "runtime/mesh/MeshSimulator.h"
#include "runtime/npu/NpuSimulator.h"
#include "runtime/pim/PimSimulator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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
      {"unused", false, true},
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
    return opcode == Opcode::Matmul || opcode == Opcode::AddRow;
  case DeviceKind::Mesh:
    return opcode != Opcode::RmsNorm;
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
    w.put(i.constant);
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
  }
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
  char magic[8];
  for (char &c : magic)
    if (!r.get(c))
      return fail("truncated header");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0)
    return fail("bad magic (not an LLMCDEVP program)");
  uint32_t version = 0, kind = 0, values = 0, constants = 0, instructions = 0,
           reserved = 0;
  uint64_t arena = 0;
  if (!r.get(version))
    return fail("truncated header");
  if (version != kVersion)
    return fail("unsupported version " + std::to_string(version) +
                " (this runtime reads version 1)");
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
    if (cols == 0 || cols > kMaxCols)
      return fail("value " + std::to_string(i) + " has " +
                  std::to_string(cols) + " columns, not 1..2^24");
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
  if (r.remaining() / 24 < instructions)
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
    r.get(ins.constant);
    r.get(ins.imm);
    std::string where = "instruction " + std::to_string(i);
    if (opcode < uint32_t(Opcode::Matmul) || opcode > uint32_t(Opcode::Add))
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
  llmc::pim::PimRun run =
      llmc::pim::pimGemv(timing, x, w, y, int(m), int(k), int(n));
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
  default:
    return 1;
  }
}

/// A vector instruction over `elements` outputs that reads `operands`
/// activations of that size: on the NPU's vector unit, streaming them from
/// and back to DRAM (the slower of the two counts); on the adders of all
/// PIM banks next to the data; or on every mesh core, each on its slice.
DeviceRun vectorSeconds(DeviceKind kind, const Timing &t, Opcode opcode,
                        double elements, double operands) {
  double flops = elements * flopsPerElement(opcode);
  DeviceRun run;
  switch (kind) {
  case DeviceKind::Npu:
    run.computeSeconds = flops / t[5];
    run.memorySeconds = 4.0 * elements * (operands + 1) / t[3];
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

DeviceRun llmc::device::runDeviceProgram(const DeviceProgram &p,
                                         const float *const *inputs,
                                         float *const *outputs, int64_t rows) {
  // Every value's rows: the caller's buffers, then temporaries.
  size_t values = p.valueCols.size();
  std::vector<std::vector<float>> temporaries(values);
  std::vector<float *> data(values);
  for (size_t v = 0; v < values; ++v) {
    if (v < p.inputs)
      data[v] = const_cast<float *>(inputs[v]);
    else if (v < p.inputs + p.outputs)
      data[v] = outputs[v - p.inputs];
    else {
      temporaries[v].resize(size_t(rows) * p.valueCols[v]);
      data[v] = temporaries[v].data();
    }
  }
  DeviceRun total;
  total.seconds = launchOverhead(p.kind, p.timing);
  for (const Instruction &ins : p.instructions) {
    int64_t n = int64_t(p.valueCols[ins.dst]);
    const float *a = data[ins.a], *b = data[ins.b];
    float *dst = data[ins.dst];
    const float *c = ins.opcode == Opcode::Matmul ||
                             ins.opcode == Opcode::AddRow ||
                             ins.opcode == Opcode::RmsNorm
                         ? p.arena.data() + p.constants[ins.constant].offset
                         : nullptr;
    DeviceRun run;
    switch (ins.opcode) {
    case Opcode::Matmul: {
      int64_t k = int64_t(p.valueCols[ins.a]);
      run = p.kind == DeviceKind::Npu
                ? npuMatmul(p.timing, a, c, dst, rows, k, n)
            : p.kind == DeviceKind::Pim
                ? pimGemv(p.timing, a, c, dst, rows, k, n)
                : meshMatmul(p.timing, a, c, dst, rows, k, n);
      break;
    }
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
