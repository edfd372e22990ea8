//===- Registration.h - register llmc's dialects and passes -----*- C++ -*-===//

#ifndef LLMC_LIB_REGISTRATION_REGISTRATION_H
#define LLMC_LIB_REGISTRATION_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace llmc {

/// Adds llmc's dialects, and the interface models its lowerings need on
/// upstream ops, to `registry`.
void registerDialects(mlir::DialectRegistry &registry);

/// Registers llmc's passes (and, later, named pipelines) with the global
/// pass registry, so that `--llm-...` flags and `--pass-pipeline` find them.
void registerPasses();

/// Makes the device kinds llmc links (cpu, npu, pim, mesh) available to
/// target descriptions; registerPasses calls it.
void registerDeviceKinds();

} // namespace llmc

#endif // LLMC_LIB_REGISTRATION_REGISTRATION_H
