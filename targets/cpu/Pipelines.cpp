//===- Pipelines.cpp - the CPU target's named pass pipelines --------------===//

#include "targets/cpu/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <string>

using namespace mlir;

// A textual pipeline of upstream passes plus llm-cpu-copies-to-linalg and
// llm-cpu-dynamic-expand-shape. A driver that has not registered them
// (mlir::registerAllPasses) gets an error naming the pass, from the pipeline
// parser. Temporaries are freed (buffer-deallocation-pipeline) and nothing
// calls MLIR's runner libraries, so the code runs in a plain process.
// scf.forall loops (the column blocks of the linear layers) become
// scf.parallel: OpenMP parallel loops with the `openmp` option, else
// sequential loops.
static std::string cpuToLLVM(bool openmp) {
  std::string pipeline =
      "func.func(convert-elementwise-to-linalg,llm-cpu-approximate-math),"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "scf-forall-to-parallel,"
      "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
      // After deallocation, which rejects llvm.call_intrinsic.
      "llm-cpu-x86-intrinsics,llm-cpu-prefetch-panels,"
      "llm-cpu-copies-to-linalg,llm-cpu-dynamic-expand-shape,"
      "convert-linalg-to-loops,"
      // Vector transfers become plain loads and stores (the register-tiled
      // linear layers read in bounds), before the memref lowering.
      "func.func(convert-vector-to-scf),";
  if (openmp)
    pipeline += "convert-scf-to-openmp,";
  // memref.alloca_scope (which convert-scf-to-openmp puts in loop bodies)
  // must be lowered before scf-to-cf splits its region into blocks: the
  // order of upstream's sparsifier pipeline.
  pipeline += "expand-strided-metadata,lower-affine,"
              "convert-math-to-funcs,convert-math-to-llvm,"
              "convert-math-to-libm,finalize-memref-to-llvm,"
              "convert-scf-to-cf,";
  if (openmp)
    pipeline += "convert-openmp-to-llvm,";
  // Reductions of vectors (the attention's dot products) may reassociate.
  pipeline += "convert-vector-to-llvm{reassociate-fp-reductions},"
              "convert-to-llvm,"
              "reconcile-unrealized-casts";
  return pipeline;
}

void mlir::llm::cpu::registerCpuPipelines() {
  registerPassPipeline(
      "llm-cpu-to-llvm",
      "Lower linalg on tensors to the LLVM dialect (bufferize, loops); "
      "option 'openmp' maps parallel loops to OpenMP",
      [](OpPassManager &pm, StringRef options,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        StringRef trimmed = options.trim();
        if (!trimmed.empty() && trimmed != "openmp")
          return errorHandler("llm-cpu-to-llvm takes one option, 'openmp', "
                              "got '" +
                              options + "'");
        return parsePassPipeline(cpuToLLVM(trimmed == "openmp"), pm,
                                 llvm::errs());
      },
      [](function_ref<void(const detail::PassOptions &)>) {});
}
