//===- EntryPoint.h - what entry-point arguments and ops carry --*- C++ -*-===//
//
// Shared readers of the discardable attributes the passes attach: the role
// of a step function's argument (llm.role) and the device an op is placed
// on (llm.device).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_ENTRYPOINT_H
#define LLMC_DIALECTS_LLM_ENTRYPOINT_H

#include "dialects/llm/LLMAttrs.h"

#include "mlir/IR/Value.h"

namespace mlir::llm {

/// The `llm.role` of `v` when it is an argument of a function that names
/// one ("position", "kv_mask", "key_cache", ...), else empty.
StringRef argumentRole(Value v);

/// Whether `v` is a key or value cache argument: state that stays in the
/// memory of the device that uses it between steps.
bool isKVCacheArgument(Value v);

/// The device `op` is placed on, or null (also for a null op).
DeviceAttr placedDevice(Operation *op);

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_ENTRYPOINT_H
