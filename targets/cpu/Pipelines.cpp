//===- Pipelines.cpp - the CPU target's named pass pipelines --------------===//

#include "targets/cpu/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

// A textual pipeline of upstream passes plus llm-cpu-copies-to-linalg. A
// driver that has not registered them (mlir::registerAllPasses) gets an
// error naming the pass, from the pipeline parser. Temporaries are freed
// (buffer-deallocation-pipeline) and nothing calls MLIR's runner libraries,
// so the code runs in a plain process.
static constexpr const char *kCpuToLLVM =
    "func.func(convert-elementwise-to-linalg),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "llm-cpu-copies-to-linalg,"
    "llm-cpu-dynamic-expand-shape,"
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
    "convert-scf-to-cf,convert-math-to-funcs,convert-math-to-llvm,"
    "convert-math-to-libm,finalize-memref-to-llvm,convert-to-llvm,"
    "reconcile-unrealized-casts";

void mlir::llm::cpu::registerCpuPipelines() {
  registerPassPipeline(
      "llm-cpu-to-llvm",
      "Lower linalg on tensors to the LLVM dialect (bufferize, scalar loops) "
      "for the JIT",
      [](OpPassManager &pm, StringRef options,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        if (!options.empty())
          return errorHandler("llm-cpu-to-llvm takes no options");
        return parsePassPipeline(kCpuToLLVM, pm, llvm::errs());
      },
      [](function_ref<void(const detail::PassOptions &)>) {});
}
