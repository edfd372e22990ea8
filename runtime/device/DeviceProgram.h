//===- DeviceProgram.h - NPU, PIM and mesh device programs -----*- C++ -*-===//
//
// The program an op placed on an NPU, PIM or mesh device compiles to:
// the device's timing (from the same machine description the cost model
// reads), the constants it holds in its memory (weights, biases) and its
// instructions. The row count of the activations is bound when the host
// launches the program, as a kernel's grid is. The binary format is
// documented in docs/targets/device-program.md; the loader validates every
// field before anything runs. Shared by the compiler (which writes
// programs) and the runtime (which runs them on the simulators); plain
// C++17.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_DEVICE_DEVICEPROGRAM_H
#define LLMC_RUNTIME_DEVICE_DEVICEPROGRAM_H

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace llmc::device {

enum class DeviceKind : uint32_t {
  Npu = 1, // systolic array + vector unit (runtime/npu)
  Pim = 2,  // GEMV units beside the DRAM banks (runtime/pim)
  Mesh = 3, // a P×P grid of cores, PLMR-modelled (runtime/mesh)
};

/// "npu", "pim" (the #llm.device kind), or "unknown".
const char *deviceKindName(DeviceKind kind);

/// The simulator's parameters, in the order of the format's timing block.
/// NPU: array rows, array cols, clock (Hz), DRAM bandwidth (B/s), on-chip
///      buffer (B), vector unit (FLOP/s), launch overhead (s), unused.
/// PIM: channels, banks per channel, bank bandwidth (B/s), MACs per bank,
///      clock (Hz), vectors per pass, external bandwidth (B/s), command
///      overhead (s).
/// Mesh: grid P (the sub-grid the program runs on), hop latency α (s),
///      message overhead β (s), core FLOP/s, launch overhead (s), 3 unused.
constexpr size_t kTimingFields = 8;
using Timing = std::array<double, kTimingFields>;

enum class Opcode : uint32_t {
  /// output[M, N] = input[M, K] · constant[K, N]: the NPU's systolic array
  /// (tiled, weight tiles double-buffered), the PIM's bank-level GEMV, or
  /// the mesh's MeshGEMV (one row) or MeshGEMM (interleaved ring).
  Matmul = 1,
  /// output[m, :] += constant[1, N] for every row (the NPU's vector unit,
  /// the PIM's adders as the outputs leave the banks, every mesh core on
  /// its slice).
  AddRow = 2,
};

/// A row-major constant in the arena: `rows` × `cols` floats from `offset`.
struct Constant {
  uint64_t rows = 0, cols = 0, offset = 0;
};

struct Instruction {
  Opcode opcode = Opcode::Matmul;
  uint32_t constant = 0; // index into the constant table
};

struct DeviceProgram {
  DeviceKind kind = DeviceKind::Npu;
  Timing timing{};
  /// Columns of the input and output activations (K and N).
  uint64_t inputCols = 0, outputCols = 0;
  std::vector<Constant> constants;
  std::vector<Instruction> instructions;
  std::vector<float> arena;
};

/// The bytes of `program` (format version 1).
std::vector<uint8_t> serializeDeviceProgram(const DeviceProgram &program);

/// Reads a program, checking the magic, the version, the kind, the timing,
/// every count, every constant against the arena and every instruction's
/// operand and shapes. On failure returns false with `error` naming the
/// field.
bool parseDeviceProgram(const uint8_t *bytes, size_t size,
                        DeviceProgram &program, std::string &error);

struct DeviceRun {
  double seconds = 0;       // simulated, the whole program
  double computeSeconds = 0; // the array / bank MACs / vector unit
  double memorySeconds = 0;  // the DRAM or external interface
};

/// Runs the program on `rows` input rows: output[rows, outputCols] from
/// input[rows, inputCols] (row-major, contiguous), on the simulator of the
/// program's kind. Simulated time.
DeviceRun runDeviceProgram(const DeviceProgram &program, const float *input,
                           float *output, int64_t rows);

} // namespace llmc::device

#endif // LLMC_RUNTIME_DEVICE_DEVICEPROGRAM_H
