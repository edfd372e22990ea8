//===- DeviceProgram.cpp - NPU, PIM and mesh device programs -------------===//

#include "runtime/device/DeviceProgram.h"

#include "runtime/BinaryIO.h"
#include "runtime/mesh/MeshSimulator.h"
#include "runtime/npu/NpuSimulator.h"
#include "runtime/pim/PimSimulator.h"

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
      {"array rows", true, false},     {"array cols", true, false},
      {"clock", false, false},         {"DRAM bandwidth", false, false},
      {"buffer bytes", false, true},   {"vector FLOP/s", false, false},
      {"launch overhead", false, true}, {"unused", false, true}};
  static const TimingRule pim[kTimingFields] = {
      {"channels", true, false},          {"banks per channel", true, false},
      {"bank bandwidth", false, false},   {"MACs per bank", true, false},
      {"clock", false, false},            {"vectors per pass", true, false},
      {"external bandwidth", false, false}, {"command overhead", false, true}};
  static const TimingRule mesh[kTimingFields] = {
      {"grid", true, false},          {"hop latency", false, true},
      {"message overhead", false, true}, {"core FLOP/s", false, false},
      {"launch overhead", false, true}, {"unused", false, true},
      {"unused", false, true},        {"unused", false, true}};
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

std::vector<uint8_t>
llmc::device::serializeDeviceProgram(const DeviceProgram &p) {
  ByteWriter w;
  for (char c : kMagic)
    w.put(c);
  w.put(kVersion);
  w.put(uint32_t(p.kind));
  for (double t : p.timing)
    w.put(t);
  w.put(p.inputCols);
  w.put(p.outputCols);
  w.put(uint32_t(p.constants.size()));
  w.put(uint32_t(p.instructions.size()));
  w.put(uint64_t(p.arena.size()));
  for (const Constant &c : p.constants) {
    w.put(c.rows);
    w.put(c.cols);
    w.put(c.offset);
  }
  for (const Instruction &i : p.instructions) {
    w.put(uint32_t(i.opcode));
    w.put(i.constant);
  }
  for (float f : p.arena)
    w.put(f);
  return w.bytes;
}

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
  uint32_t version = 0, kind = 0, constants = 0, instructions = 0;
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
  if (!r.get(out.inputCols) || !r.get(out.outputCols) || !r.get(constants) ||
      !r.get(instructions) || !r.get(arena))
    return fail("truncated header");
  if (out.inputCols == 0 || out.outputCols == 0 || out.inputCols > kMaxCols ||
      out.outputCols > kMaxCols)
    return fail("activation columns " + std::to_string(out.inputCols) +
                " -> " + std::to_string(out.outputCols) +
                " are not in 1..2^24");
  if (constants > kMaxCount || instructions > kMaxCount)
    return fail("too many constants or instructions");
  if (arena > r.remaining() / sizeof(float))
    return fail("the arena of " + std::to_string(arena) +
                " floats is longer than the program");
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
  if (r.remaining() / 8 < instructions)
    return fail("truncated instruction list");
  for (uint32_t i = 0; i < instructions; ++i) {
    uint32_t opcode = 0;
    Instruction ins;
    r.get(opcode);
    r.get(ins.constant);
    std::string where = "instruction " + std::to_string(i);
    if (opcode != uint32_t(Opcode::Matmul) &&
        opcode != uint32_t(Opcode::AddRow))
      return fail(where + ": unknown opcode " + std::to_string(opcode));
    ins.opcode = Opcode(opcode);
    if (ins.constant >= constants)
      return fail(where + ": constant " + std::to_string(ins.constant) +
                  " is outside the table of " + std::to_string(constants));
    const Constant &c = out.constants[ins.constant];
    // The output is written by the matmul, which comes first, once.
    if ((ins.opcode == Opcode::Matmul) != (i == 0))
      return fail(where + ": a program is one matmul followed by row adds");
    if (ins.opcode == Opcode::Matmul &&
        (c.rows != out.inputCols || c.cols != out.outputCols))
      return fail(where + ": the matmul's weight is " + shape(c.rows, c.cols) +
                  ", not " + shape(out.inputCols, out.outputCols));
    if (ins.opcode == Opcode::AddRow && (c.rows != 1 || c.cols != out.outputCols))
      return fail(where + ": the added row is " + shape(c.rows, c.cols) +
                  ", not " + shape(1, out.outputCols));
    out.instructions.push_back(ins);
  }
  if (out.instructions.empty())
    return fail("no instructions");
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
             : llmc::mesh::meshGemm(grid, llmc::mesh::Ring::Interleaved,
                                    timing, x, w, y, int(m), int(k), int(n));
  return {run.seconds, run.computeSeconds, 0};
}

/// Seconds to add a row to every output row: on the NPU's vector unit, on
/// the adders of all PIM banks in parallel, or on every mesh core.
double addRowSeconds(DeviceKind kind, const Timing &t, double elements) {
  switch (kind) {
  case DeviceKind::Npu:
    return elements / t[5];
  case DeviceKind::Pim:
    return elements / (t[0] * t[1] * t[3] * t[4]);
  case DeviceKind::Mesh:
    return elements / (t[0] * t[0] * t[3]);
  }
  return 0;
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
                                         const float *input, float *output,
                                         int64_t rows) {
  DeviceRun total;
  total.seconds = launchOverhead(p.kind, p.timing);
  int64_t k = int64_t(p.inputCols), n = int64_t(p.outputCols);
  for (const Instruction &ins : p.instructions) {
    const Constant &c = p.constants[ins.constant];
    const float *data = p.arena.data() + c.offset;
    if (ins.opcode == Opcode::Matmul) {
      DeviceRun run =
          p.kind == DeviceKind::Npu
              ? npuMatmul(p.timing, input, data, output, rows, k, n)
          : p.kind == DeviceKind::Pim
              ? pimGemv(p.timing, input, data, output, rows, k, n)
              : meshMatmul(p.timing, input, data, output, rows, k, n);
      total.seconds += run.seconds;
      total.computeSeconds += run.computeSeconds;
      total.memorySeconds += run.memorySeconds;
      continue;
    }
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t j = 0; j < n; ++j)
        output[m * n + j] += data[j];
    double seconds = addRowSeconds(p.kind, p.timing, double(rows) * n);
    total.seconds += seconds;
    total.computeSeconds += seconds;
  }
  return total;
}
