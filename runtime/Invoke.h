//===- Invoke.h - calling a function-mode entry point -----------*- C++ -*-===//

#ifndef LLMC_RUNTIME_INVOKE_H
#define LLMC_RUNTIME_INVOKE_H

#include "runtime/Artifact.h"

namespace llmc::runtime {

/// Calls `entry` with the caller's buffers (one per argument except the
/// weights, in manifest order) after checking ranks and static sizes.
llmc_status invoke(const Artifact &artifact, const EntryPoint &entry,
                   void *const *buffers, const int64_t *const *shapes);

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_INVOKE_H
