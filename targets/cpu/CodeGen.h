//===- CodeGen.h - LLVM dialect -> object code -> shared object -*- C++ -*-===//

#ifndef LLMC_TARGETS_CPU_CODEGEN_H
#define LLMC_TARGETS_CPU_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::llm::cpu {

struct CpuCodeGenOptions {
  /// An LLVM CPU name (znver5, x86-64-v4, ...) or "host".
  std::string cpu = "host";
  /// LLVM feature string (+avx512f,-avx512bf16,...); with cpu=host, the
  /// host's features followed by these.
  std::string features;
  /// LLVM optimisation level, 0 to 3.
  unsigned optLevel = 3;
};

/// What the object was compiled for, for the artifact's manifest.
struct CpuTargetInfo {
  std::string triple, cpu, features;
};

/// The CPU name and feature string `options` resolve to ("host": the
/// host's name and features, then options.features).
void resolveCpu(const CpuCodeGenOptions &options, CpuTargetInfo &info);

/// Whether code for `options` may use `feature` (an LLVM feature name such
/// as "avx512vnni").
bool targetHasFeature(const CpuCodeGenOptions &options, StringRef feature);

/// The prefix of the argument-packing wrapper of a C-interface function:
/// `void llmc_packed_<name>(void **args)` calls `_mlir_ciface_<name>` with
/// args[i] as the i-th memref descriptor pointer, or, for a scalar
/// parameter, args[i] pointing at its value.
constexpr const char *kPackedPrefix = "llmc_packed_";

/// Translates an LLVM-dialect module to LLVM IR, adds the packed wrappers,
/// optimises it and emits a relocatable ELF object in process through
/// LLVM's TargetMachine. Errors are reported on the module.
FailureOr<std::string> emitObject(ModuleOp module,
                                  const CpuCodeGenOptions &options,
                                  CpuTargetInfo &info);

/// Links a relocatable object into a shared object with ld.lld (the way
/// IREE links its CPU executables). `error` says what failed.
LogicalResult linkSharedObject(StringRef object, std::string &sharedObject,
                               std::string &error);

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_CODEGEN_H
