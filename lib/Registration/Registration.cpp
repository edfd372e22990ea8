//===- Registration.cpp - register llmc's dialects and passes -------------===//

#include "lib/Registration/Registration.h"

#include "dialects/llm/LLMDialect.h"
#include "passes/Passes.h"
#include "targets/cpu/BitcastBufferization.h"
#include "targets/cpu/CostModel.h"
#include "targets/cpu/DeviceCalls.h"
#include "targets/cpu/Passes.h"
#include "targets/cpu/Pipelines.h"
#include "targets/mesh/CostModel.h"
#include "targets/npu/CostModel.h"
#include "targets/pim/CostModel.h"

#include "mlir/IR/DialectRegistry.h"

void llmc::registerDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::llm::LLMDialect>();
  mlir::llm::cpu::registerBitcastBufferization(registry);
  mlir::llm::cpu::registerDeviceCallBufferization(registry);
}

void llmc::registerPasses() {
  mlir::llm::registerLLMPasses();
  mlir::llm::cpu::registerLLMCpuPasses();
  mlir::llm::cpu::registerCpuPipelines();
  registerDeviceKinds();
}

void llmc::registerDeviceKinds() {
  mlir::llm::cpu::registerCpuDeviceKind();
  mlir::llm::npu::registerNpuDeviceKind();
  mlir::llm::pim::registerPimDeviceKind();
  mlir::llm::mesh::registerMeshDeviceKind();
}
