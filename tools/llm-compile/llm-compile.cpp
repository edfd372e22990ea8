//===- llm-compile.cpp - compile a model into a .llmc artifact ------------===//
//
// A thin command line over the compiler's C API (llmc-c/Compiler.h).
//
//===----------------------------------------------------------------------===//

#include "llmc-c/Compiler.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <string>
#include <vector>

namespace cl = llvm::cl;

static cl::OptionCategory category("llm-compile options");

static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<model.onnx | model.mlir>"),
                                  cl::cat(category));
static cl::opt<std::string> output("o", cl::Required,
                                   cl::desc("Output artifact (.llmc)"),
                                   cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> target("target", cl::init("cpu"),
                                   cl::desc("Target (cpu)"), cl::cat(category));
static cl::opt<std::string> cpu("mcpu", cl::init("host"),
                                cl::desc("LLVM CPU name, or host"),
                                cl::cat(category));
static cl::opt<std::string>
    features("mattr", cl::init(""),
             cl::desc("Extra LLVM target features (+f,-g)"), cl::cat(category));
static cl::opt<int> optLevel("O", cl::init(3), cl::Prefix,
                             cl::desc("LLVM optimisation level (0-3)"),
                             cl::cat(category));
static cl::opt<std::string>
    mode("mode", cl::init("auto"),
         cl::desc("Entry points: auto, generate (prefill/decode over a KV "
                  "cache) or function (the model function as it is)"),
         cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape", cl::CommaSeparated,
                cl::desc("Specialise an input (NAME=DIMxDIM...) or a "
                         "symbolic dimension (NAME=N)"),
                cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Do not show progress"),
                           cl::cat(category));
static cl::opt<std::string>
    passes("llm-passes", cl::init(""),
           cl::desc("Passes run on the raised model before lowering, e.g. "
                    "llm-moe-to-moge{groups=4 k-per-group=1}"),
           cl::value_desc("pipeline"), cl::cat(category));
static cl::opt<std::string> quantize(
    "quantize", cl::init(""),
    cl::desc("Quantize the linear layers' weights: int8, int4, int2 with "
             "optional -g<N> (group size), -pc (per-channel), -asym (zero "
             "points), e.g. int4-g128-asym"),
    cl::value_desc("scheme"), cl::cat(category));
static cl::opt<std::string> quantReport(
    "llm-quant-report", cl::init(""),
    cl::desc("With --quantize: write each layer's weight error as JSON"),
    cl::value_desc("FILE.json"), cl::cat(category));
static cl::opt<std::string> placementReport(
    "llm-placement-report", cl::init(""),
    cl::desc(
        "Also write where --placement-target would run each op, and "
        "why: FILE.json → FILE.prefill.json/.html, FILE.decode.json/.html"),
    cl::value_desc("FILE.json"), cl::cat(category));
static cl::opt<std::string> placementTarget(
    "placement-target", cl::init("host-cpu"),
    cl::desc("Machine for the placement report: a preset (host-cpu, "
             "edge-npu-pim, wafer-mesh) or a description file"),
    cl::cat(category));
static cl::opt<int> placementBatch("placement-batch", cl::init(1),
                                   cl::desc("Batch the report assumes"),
                                   cl::cat(category));
static cl::opt<int>
    placementContext("placement-context", cl::init(128),
                     cl::desc("Prompt / context length the report assumes"),
                     cl::cat(category));

namespace {
struct Progress {
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};
} // namespace

static void showProgress(const char *step, void *user) {
  auto *p = static_cast<Progress *>(user);
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - p->start)
          .count();
  llvm::errs() << llvm::format("[%6.2f s] ", s) << step << "\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // The pass manager's debugging options (--mlir-print-ir-after-all,
  // --mlir-timing, ...) apply to the compiler's pipelines; --help lists
  // only llm-compile's own options, not every LLVM backend's.
  llmcCompilerRegisterPasses(); // names for --mlir-print-ir-after=...
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "llm-compile: compile a model into a .llmc "
                              "artifact for llm-run and the llmc runtime\n");
  LlmcCompileOptions options;
  llmcCompileOptionsInit(&options);
  options.target = target.c_str();
  options.cpu = cpu.c_str();
  options.features = features.c_str();
  options.opt_level = optLevel;
  options.mode = mode.c_str();
  if (!passes.empty())
    options.passes = passes.c_str();
  if (!placementReport.empty())
    options.placement_report = placementReport.c_str();
  if (!quantize.empty())
    options.quantize = quantize.c_str();
  if (!quantReport.empty())
    options.quant_report = quantReport.c_str();
  options.placement_target = placementTarget.c_str();
  options.placement_batch = placementBatch;
  options.placement_context = placementContext;
  std::vector<const char *> shapes;
  for (const std::string &s : inputShapes)
    shapes.push_back(s.c_str());
  options.input_shapes = shapes.data();
  options.num_input_shapes = shapes.size();
  Progress progress;
  if (!quiet) {
    options.progress = showProgress;
    options.user_data = &progress;
  }
  char *diagnostics = nullptr;
  int rc =
      llmcCompileFile(input.c_str(), output.c_str(), &options, &diagnostics);
  if (diagnostics)
    llvm::errs() << diagnostics;
  llmcFree(diagnostics);
  if (rc != 0) {
    llvm::errs() << "llm-compile: failed to compile " << input << "\n";
    return 1;
  }
  if (!quiet)
    showProgress(("wrote " + output).c_str(), &progress);
  return 0;
}
