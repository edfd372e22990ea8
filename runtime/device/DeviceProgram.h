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
  Npu = 1,  // systolic array + vector unit (runtime/npu)
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
///      message overhead β (s), core FLOP/s, launch overhead (s), core
///      memory (bytes; a launch whose tiles do not fit is refused), 2
///      unused.
constexpr size_t kTimingFields = 8;
using Timing = std::array<double, kTimingFields>;

/// A program reads and writes values: matrices of `rows` × cols floats
/// (rows bound at launch, cols fixed by the program), or tensors whose
/// sizes the launch gives (cols 0: attention's and RoPE's operands).
/// Values are its inputs, then its outputs, then temporaries (matrices
/// only). The CPU code passes at most this many buffers per launch.
constexpr uint32_t kMaxBuffers = 8;
/// An absent optional operand (attention without a mask).
constexpr uint32_t kNoValue = 0xffffffffu;

enum class Opcode : uint32_t {
  /// dst[M, N] = a[M, K] · constant[K, N]: the NPU's systolic array (tiled,
  /// weight tiles double-buffered), the PIM's bank-level GEMV, or the
  /// mesh's MeshGEMV (one row) or MeshGEMM (interleaved ring).
  Matmul = 1,
  /// dst = a + constant[1, N] on every row.
  AddRow = 2,
  /// dst = a / sqrt(mean(a², row) + imm) · constant[1, N] (RMSNorm).
  RmsNorm = 3,
  /// dst = a · sigmoid(a).
  Silu = 4,
  /// dst = a ⊙ b.
  Mul = 5,
  /// dst = a + b.
  Add = 6,
  /// dst[B, Hq, T, Dv] = softmax(imm · a·bᵀ + d, hidden keys removed) · c
  /// with a = Q [B, Hq, T, D], b = K [B, Hkv, S, D], c = V [B, Hkv, S, Dv],
  /// d = an additive mask broadcast to [B, Hq, T, S] (or kNoValue); query
  /// head h reads KV head h / (Hq / Hkv). flags bit 0: causal (query i sees
  /// key j ≤ i + S − T); window > 0 also hides j ≤ i + S − T − window. Per
  /// (batch, KV head), both products run on the matmul unit (the PIM's
  /// banks hold K and V: the KV cache in PIM memory) and the softmax on
  /// the vector unit (the banks' adders).
  Attention = 7,
  /// dst = RoPE of a by the angles whose cosines are b and sines c (the
  /// same shape, broadcast against a with its last dimension replaced by
  /// theirs, R ≤ a's, R even; features past R pass through): rotate-half,
  /// or with flags bit 0 the pairs (2i, 2i + 1). Tensors of any rank.
  Rope = 8,
};

/// A row-major constant in the arena: `rows` × `cols` floats from `offset`.
struct Constant {
  uint64_t rows = 0, cols = 0, offset = 0;
};

struct Instruction {
  Opcode opcode = Opcode::Matmul;
  uint32_t dst = 0, a = 0, b = 0, c = 0, d = kNoValue; // values
  uint32_t constant = 0; // for Matmul, AddRow, RmsNorm
  uint32_t flags = 0;    // Attention: bit 0 causal
  uint32_t window = 0;   // Attention: sliding window, 0 for none
  float imm = 0;         // RmsNorm's epsilon, Attention's scale
};

struct DeviceProgram {
  DeviceKind kind = DeviceKind::Npu;
  Timing timing{};
  uint32_t inputs = 0, outputs = 0;
  /// Columns of every value (0: a tensor shaped at launch): inputs,
  /// outputs, temporaries.
  std::vector<uint64_t> valueCols;
  std::vector<Constant> constants;
  std::vector<Instruction> instructions;
  std::vector<float> arena;
};

/// Whether a device of `kind` has the unit `opcode` needs: the NPU runs
/// them all (array and vector unit); the PIM matmuls, row adds and
/// attention; the mesh all but RmsNorm (a row all-reduce it does not
/// simulate yet) and attention (no KV cache split over cores yet).
bool runsOn(DeviceKind kind, Opcode opcode);

/// The bytes of `program` (format version 1).
std::vector<uint8_t> serializeDeviceProgram(const DeviceProgram &program);

/// Reads a program, checking the magic, the version, the kind, the timing,
/// every count, every constant against the arena and every instruction's
/// opcode, operands and shapes, that every value is written before it is
/// read and every output is written. On failure returns false with
/// `error` naming the field.
bool parseDeviceProgram(const uint8_t *bytes, size_t size,
                        DeviceProgram &program, std::string &error);

/// The most dimensions a buffer of a launch has.
constexpr int kMaxRank = 8;

/// One buffer of a launch, row-major and contiguous: a matrix value's
/// leading dimensions are its rows and its last its columns.
struct Buffer {
  float *data = nullptr;
  int rank = 0;
  std::array<int64_t, kMaxRank> shape{};
};

/// Checks a launch's buffers (inputs, then outputs) against the program:
/// matrices share one row count, attention's tensors compose. Returns the
/// row count (for a program of tensors only, the attention's batch ×
/// query tokens, or the positions of RoPE's table), or -1 with `error`.
int64_t checkLaunch(const DeviceProgram &program, const Buffer *buffers,
                    std::string &error);

struct DeviceRun {
  double seconds = 0;        // simulated, the whole program
  double computeSeconds = 0; // the array / bank MACs / vector unit / cores
  double memorySeconds = 0;  // the DRAM or external interface
};

/// Runs the program on a launch that passed checkLaunch, with `rows` rows,
/// on the simulator of the program's kind. Simulated time.
DeviceRun runDeviceProgram(const DeviceProgram &program, const Buffer *buffers,
                           int64_t rows);

} // namespace llmc::device

#endif // LLMC_RUNTIME_DEVICE_DEVICEPROGRAM_H
