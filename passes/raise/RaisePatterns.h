//===- RaisePatterns.h - llm-raise pattern groups ---------------*- C++ -*-===//

#ifndef LLMC_PASSES_RAISE_RAISEPATTERNS_H
#define LLMC_PASSES_RAISE_RAISEPATTERNS_H

namespace mlir {
class RewritePatternSet;
namespace llm::raise {

/// MatMul by a constant weight -> llm.linear, bias adds folded in, constant
/// weight transposes materialised.
void populateLinearPatterns(RewritePatternSet &patterns);
/// RMSNorm and decomposed LayerNorm.
void populateNormPatterns(RewritePatternSet &patterns);
/// SiLU and GELU (erf and tanh forms).
void populateActivationPatterns(RewritePatternSet &patterns);
/// RoPE (rotate-half) and attention (scale, masks, GQA, KV cache).
void populateAttentionPatterns(RewritePatternSet &patterns);
/// Mixture of experts (dense gated and sparse dispatch forms) -> llm.moe.
void populateMoEPatterns(RewritePatternSet &patterns);

} // namespace llm::raise
} // namespace mlir

#endif // LLMC_PASSES_RAISE_RAISEPATTERNS_H
