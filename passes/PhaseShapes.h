//===- PhaseShapes.h - sizes of dynamic dims in one step --------*- C++ -*-===//
//
// The step function is shape-polymorphic (batch, tokens, cache length are
// dynamic). To cost it, placement binds them for one phase: prefill runs
// `context` tokens from position 0, decode one token at position
// `context - 1`. Every dynamic size is traced back to the function's
// arguments (traceDimSize) and evaluated under those bindings.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_PHASESHAPES_H
#define LLMC_PASSES_PHASESHAPES_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::llm {

struct PhaseBinding {
  int64_t batch = 1;
  /// Tokens processed per sequence in the step.
  int64_t tokens = 1;
  /// Position of the first of them (cached tokens before the step).
  int64_t position = 0;
};

class PhaseShapes {
public:
  explicit PhaseShapes(PhaseBinding binding) : binding(binding) {}
  /// Size of dimension `d` of `v` in this phase.
  int64_t dimSize(Value v, int64_t d);

private:
  int64_t evaluate(Value size, int depth);
  int64_t argumentDim(Value root, int64_t d);
  PhaseBinding binding;
  llvm::DenseMap<std::pair<Value, int64_t>, int64_t> cache;
};

} // namespace mlir::llm

#endif // LLMC_PASSES_PHASESHAPES_H
