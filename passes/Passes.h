//===- Passes.h - llmc's target-independent passes --------------*- C++ -*-===//

#ifndef LLMC_PASSES_PASSES_H
#define LLMC_PASSES_PASSES_H

#include "dialects/llm/LLMOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace llm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// The patterns llm-canonicalize runs (llm's own plus the upstream graph
/// plumbing ones), for passes that want to clean up after themselves.
void populateLLMCanonicalizationPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace llm
} // namespace mlir

#endif // LLMC_PASSES_PASSES_H
