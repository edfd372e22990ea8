//===- Passes.h - the CPU target's passes -----------------------*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_PASSES_H
#define LLMC_TARGETS_CPU_PASSES_H

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::llm::cpu {

/// Widest panel of a packed linear weight (output columns) that
/// llm-cpu-vectorize-linear keeps in registers as one vector;
/// llm-lower-to-linalg pads wider ones into panels it can take.
constexpr int64_t kMaxPanelWidth = 64;

/// On the generic llm-lower-to-linalg writes for a quantized linear over
/// packed panels (codes, scales, offsets): the bits per code and the group
/// size, for llm-cpu-vectorize-linear.
constexpr llvm::StringLiteral kQuantizedBitsAttr = "llm_cpu.quantized_bits";
constexpr llvm::StringLiteral kQuantizedGroupAttr = "llm_cpu.quantized_group";
/// On that generic when the activations are int8 codes per row (inputs
/// x_q [rows..., K] i8, codes [P, K/(4·8/bits), 4·NR], scales, offsets,
/// row scales [rows...]): 8.
constexpr llvm::StringLiteral kQuantizedActivationsAttr =
    "llm_cpu.quantized_activations";

/// On that generic when its codes index a codebook: the 64-byte table of
/// value + 128 (a dense tensor<64xi8>), indexed by code | datatype << bits
/// with the datatype shifts a sixth input [P, K/G, 4·NR] i8.
constexpr llvm::StringLiteral kLookupTableAttr = "llm_cpu.lookup_table";

/// On that generic (int8 activations) when its codes are T-MAC bit planes
/// for lookup-table kernels: inputs x_q, then bits/2 views of the codes
/// [P, K/16, bits/2, 64] i8 (one per byte row of a chunk: bit 4·(b % 2) + i
/// of byte 4c + t in row b/2 is bit b of the code of column c at
/// k = 16·chunk + 4t + i), scales, offsets, row scales.
constexpr llvm::StringLiteral kBitPlanesAttr = "llm_cpu.bit_planes";

/// On the arith.addi of a 4-way i8 dot product that
/// llm-cpu-x86-intrinsics makes a vpdpbusd.
constexpr llvm::StringLiteral kVnniDotAttr = "llm_cpu.vnni_dot";

/// On the arith.extui of the byte indices of a vector.gather from a
/// 64-byte table that llm-cpu-x86-intrinsics makes a vpermb (AVX512-VBMI).
constexpr llvm::StringLiteral kVbmiLookupAttr = "llm_cpu.vbmi_lookup";

/// On the generic llm-lower-to-linalg writes after a SwiGLU's fused gate and
/// up projections, h[..., p, c] = silu(y[..., p, c]) · y[..., p, 16 + c]
/// over y [..., P, 32] (16 gate then 16 up columns per panel): the
/// llm-cpu-vectorize-linear computes it in the registers of y's kernel.
constexpr llvm::StringLiteral kGatedSiluAttr = "llm_cpu.gated_silu";
/// Gate (then up) columns per panel of such a linear.
constexpr int64_t kGatedHalf = 16;

/// On the first vector.fma of a prefill row tile's k step, whose weights
/// are a panel row: llm-cpu-prefetch-panels fetches the next panel's row.
constexpr llvm::StringLiteral kPrefetchNextPanelAttr =
    "llm_cpu.prefetch_next_panel";

/// llm.kv_quantize and llm.kv_dequantize as linalg generics (part of
/// llm-lower-to-linalg).
void populateLowerKVCodesPatterns(RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "targets/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "targets/cpu/Passes.h.inc"

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_PASSES_H
