//===- ShapeTracing.h - sizes of values in terms of earlier values -*- C++
//-*-===//

#ifndef LLMC_DIALECTS_LLM_SHAPETRACING_H
#define LLMC_DIALECTS_LLM_SHAPETRACING_H

#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/Value.h"

namespace mlir::llm {

/// The size of dimension `d` of `v` traced back through the ops that keep
/// it (elementwise ops, destination-style ops, reshapes with explicit sizes,
/// slices, llm ops), so that sizes are expressed in terms of the function's
/// arguments and no tensor.dim hangs on an intermediate value. A constant
/// for static dims; null when no op states the size: then `root`/`rootDim`
/// (if given) name the earliest value and dim known to have the same size,
/// typically a function argument, where a tensor.dim can read it.
OpFoldResult traceDimSize(Value v, int64_t d, Value *root = nullptr,
                          int64_t *rootDim = nullptr);

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_SHAPETRACING_H
