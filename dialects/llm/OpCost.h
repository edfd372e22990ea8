//===- OpCost.h - the work an operation does, for cost models --*- C++ -*-===//
//
// Plain data, no MLIR: the dialect's cost interface fills it, the target
// cost models (targets/*/CostModel.cpp) read it. Counts follow LLM-Viewer
// (hahnyuan/LLM-Viewer, model_analyzer.py): a multiply-accumulate is two
// operations, bytes are what the op must move to and from memory.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_OPCOST_H
#define LLMC_DIALECTS_LLM_OPCOST_H

#include <cstdint>
#include <string>

namespace mlir::llm {

/// The shape of the work, which decides the units that can run it.
enum class WorkKind {
  /// `batch` independent products [m, k] x [k, n] whose right operand
  /// (weights) is shared by the m rows: GEMM when m is large, GEMV when small.
  Matmul,
  /// Fused attention: per (batch, KV head), m = g_q·T query rows against
  /// n = S keys of k = head_dim; K and V are read once per (batch, KV head).
  Attention,
  /// Elementwise and row-wise ops (norms, RoPE, activations, adds, softmax).
  Elementwise,
  /// Table lookups (embeddings).
  Gather,
  /// Copies and layout changes (transposes, KV-cache writes, concats).
  DataMovement,
};

const char *workKindName(WorkKind kind);

struct OpCost {
  WorkKind kind = WorkKind::Elementwise;
  /// Element type of the op's result as MLIR spells it ("f32", "bf16",
  /// "i8"): a device runs only the types its description lists.
  std::string dtype;
  /// Arithmetic operations (a MAC counts two).
  double flops = 0;
  /// Bytes of constant operands (weights, norm scales, tables) read.
  double weightBytes = 0;
  /// Bytes of activations read and written.
  double inputBytes = 0, outputBytes = 0;
  /// Bytes of the KV cache read and written.
  double kvReadBytes = 0, kvWriteBytes = 0;
  /// Matmul/attention shape (see WorkKind); zero otherwise.
  int64_t batch = 1, m = 0, n = 0, k = 0;
  /// Whether the op reduces across a row (norms, softmax): a distributed
  /// device needs an all-reduce for it.
  bool rowReduction = false;
  /// Attention: the fraction of (query, key) pairs a causal or windowed
  /// mask leaves visible. `flops` counts them all (LLM-Viewer's
  /// convention); a kernel that skips hidden keys does this fraction.
  double visibleFraction = 1;

  double bytes() const {
    return weightBytes + inputBytes + outputBytes + kvReadBytes + kvWriteBytes;
  }
  /// Operations per byte (arithmetic intensity); 0 for an op moving nothing.
  double opsPerByte() const { return bytes() > 0 ? flops / bytes() : 0; }
};

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_OPCOST_H
