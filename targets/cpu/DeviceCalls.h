//===- DeviceCalls.h - CPU code that runs device programs -------*- C++ -*-===//
//
// An llm.device_call becomes, at bufferization, a call of
// llmc_device_call(program, buffers...) on unranked f32 buffers;
// code generation defines that function to call the runtime's hook
// (see runtime/ArtifactFormat.h), which runs the program on the device's
// simulator.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_TARGETS_CPU_DEVICECALLS_H
#define LLMC_TARGETS_CPU_DEVICECALLS_H

namespace llvm {
class Module;
} // namespace llvm

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::llm::cpu {

/// Attaches a BufferizableOpInterface model to llm.device_call: the results
/// are written into the buffers of its inits, by a call of llmc_device_call
/// on contiguous buffers.
void registerDeviceCallBufferization(DialectRegistry &registry);

/// When the code calls llmc_device_call, defines it: it loads the runtime's
/// hook and context from two exported globals the runtime sets after
/// loading the code, and calls hook(context, its own arguments).
void defineDeviceCallTrampoline(llvm::Module &module);

} // namespace mlir::llm::cpu

#endif // LLMC_TARGETS_CPU_DEVICECALLS_H
