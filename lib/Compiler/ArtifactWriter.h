//===- ArtifactWriter.h - the bytes of a .llmc artifact ---------*- C++ -*-===//

#ifndef LLMC_LIB_COMPILER_ARTIFACTWRITER_H
#define LLMC_LIB_COMPILER_ARTIFACTWRITER_H

#include "targets/cpu/ExternalizeWeights.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace llmc {

/// Header, section table, then the manifest, the CPU shared object and the
/// weights, each at a page-aligned offset (runtime/ArtifactFormat.h).
/// Padding is zeros, so equal inputs give equal bytes.
/// The artifact's bytes; the device programs section is written when there
/// are programs (docs/targets/artifact.md).
std::string writeArtifact(llvm::StringRef manifest,
                          llvm::StringRef sharedObject,
                          const mlir::llm::cpu::WeightsLayout &weights,
                          llvm::ArrayRef<llvm::ArrayRef<char>> devicePrograms = {});

} // namespace llmc

#endif // LLMC_LIB_COMPILER_ARTIFACTWRITER_H
