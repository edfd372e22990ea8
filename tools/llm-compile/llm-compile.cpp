//===- llm-compile.cpp - compile a model into a .llmc artifact ------------===//
//
// A thin command line over the compiler's C API (llmc-c/Compiler.h).
//
//===----------------------------------------------------------------------===//

#include "lib/Analysis/KVPredictorFit.h"
#include "llmc-c/Compiler.h"
#include "llmc/runtime.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <memory>
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
                                   cl::desc("cpu, or a machine (a preset: host-cpu, edge-npu-pim, "
                 "wafer-mesh; or a description file) whose NPU and PIM run "
                 "device programs on simulators"),
        cl::cat(category));
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
             "points), -a8 (int8 activations), e.g. int4-g128-asym; w8a8, "
             "w4a8, ternary, bitmod4[-g<N>], bitmod3[-g<N>]; -lut (T-MAC "
             "lookup-table "
             "kernels, int8 activations) with int4, int2 or ternary; a -kv8 "
             "or -kv4 suffix, or kv8/kv4 alone, quantizes the KV cache"),
    cl::value_desc("scheme"), cl::cat(category));
static cl::opt<std::string> quantReport(
    "llm-quant-report", cl::init(""),
    cl::desc("With --quantize: write each layer's weight error as JSON"),
    cl::value_desc("FILE.json"), cl::cat(category));
static cl::list<int64_t> reportTokens(
    "llm-quant-report-tokens", cl::CommaSeparated,
    cl::desc("With --llm-quant-report: token ids to prefill on the CPU with "
             "the quantized and the f32 model; adds their logits NMSE"),
    cl::value_desc("id,id,..."), cl::cat(category));
static cl::opt<std::string> kvPredictAux(
    "kv-predict-aux", cl::init(""),
    cl::desc("KV prediction: an auxiliary model (.onnx or .mlir) whose KV "
             "cache predicts the base model's at prefill"),
    cl::value_desc("model"), cl::cat(category));
static cl::opt<std::string> kvPredictLayers(
    "kv-predict-layers", cl::init(""),
    cl::desc("With --kv-predict-aux: the auxiliary layer of each base layer "
             "(default: proportional)"),
    cl::value_desc("l,l,..."), cl::cat(category));
static cl::opt<std::string> kvPredictPredictor(
    "kv-predict-predictor", cl::init("identity"),
    cl::desc("With --kv-predict-aux: 'identity' or an .mlir file of "
             "@kv_predictor_key_<l> / @kv_predictor_value_<l> matrices"),
    cl::value_desc("identity|FILE.mlir"), cl::cat(category));
static cl::opt<std::string> kvPredictReport(
    "kv-predict-report", cl::init(""),
    cl::desc("With --kv-predict-aux: write the time-to-first-token FLOPs "
             "against the base prefill as JSON"),
    cl::value_desc("FILE.json"), cl::cat(category));
static cl::opt<int> kvPredictReportTokens(
    "kv-predict-report-tokens", cl::init(128),
    cl::desc("The prompt length the KV prediction report assumes"),
    cl::cat(category));
static cl::list<int64_t> kvPredictFitOn(
    "kv-predict-fit-on", cl::CommaSeparated,
    cl::desc("With --kv-predict-aux: fit the predictor by least squares on "
             "these calibration token ids (base and auxiliary models run on "
             "the CPU) and write it to --kv-predict-predictor (default "
             "OUTPUT.predictor.mlir)"),
    cl::value_desc("id,id,..."), cl::cat(category));
static cl::opt<std::string> placementReport(
    "llm-placement-report", cl::init(""),
    cl::desc(
        "Also write where --placement-target would run each op, and "
        "why: FILE.json → FILE.prefill.json/.html, FILE.decode.json/.html"),
    cl::value_desc("FILE.json"), cl::cat(category));
static cl::opt<std::string> placementTarget(
    "placement-target", cl::init("host-cpu"),
    cl::desc("Machine for the placement report: a preset (host-cpu, "
             "edge-npu-pim, wafer-mesh) or a description file (with "
             "--target=<machine>, that machine)"),
    cl::cat(category));
static cl::opt<int> placementBatch("placement-batch", cl::init(1),
                                   cl::desc("Batch the report assumes"),
                                   cl::cat(category));
static cl::opt<int>
    placementContext("placement-context", cl::init(128),
                     cl::desc("Prompt / context length the report assumes"),
                     cl::cat(category));

namespace {

/// Closes runtime handles.
struct ArtifactCloser {
  void operator()(llmc_artifact *a) const { llmc_artifact_close(a); }
};
struct SessionCloser {
  void operator()(llmc_session *s) const { llmc_session_destroy(s); }
};
using ArtifactHandle = std::unique_ptr<llmc_artifact, ArtifactCloser>;
using SessionHandle = std::unique_ptr<llmc_session, SessionCloser>;

/// The logits of prefilling `tokens` (one row) with `artifact`; empty
/// with `error` set on failure.
std::vector<float> prefillLogits(llmc_artifact *artifact,
                                 const std::vector<int64_t> &tokens,
                                 std::string &error) {
  llmc_session_options options{1, static_cast<int64_t>(tokens.size()), 1};
  llmc_session *session = nullptr;
  if (llmc_session_create(artifact, &options, &session) != LLMC_OK) {
    error = llmc_last_error();
    return {};
  }
  SessionHandle owner(session);
  std::vector<float> logits(tokens.size() * llmc_artifact_vocab_size(artifact));
  if (llmc_session_prefill(session, tokens.data(), nullptr,
                           static_cast<int64_t>(tokens.size()),
                           logits.data()) != LLMC_OK) {
    error = llmc_last_error();
    return {};
  }
  return logits;
}

/// Prefills `tokens` with the quantized artifact at `quantizedPath` and
/// with the model compiled again without quantization (`options` less the
/// scheme and the reports), and adds the logits' NMSE Σ(q − f)²/Σf² and
/// largest difference to the JSON report at `reportPath`.
bool addLogitsError(const std::string &model, const std::string &quantizedPath,
                    LlmcCompileOptions options,
                    const std::vector<int64_t> &tokens,
                    const std::string &reportPath) {
  auto fail = [](const llvm::Twine &why) {
    llvm::errs() << "llm-compile: logits error for the quantization report: "
                 << why << "\n";
    return false;
  };
  auto source = llvm::MemoryBuffer::getFile(model);
  if (!source)
    return fail("cannot read '" + model + "'");
  options.quantize = nullptr;
  options.quant_report = nullptr;
  options.placement_report = nullptr;
  options.progress = nullptr;
  void *bytes = nullptr;
  size_t size = 0;
  char *diagnostics = nullptr;
  std::string baseDir = llvm::sys::path::parent_path(model).str();
  int rc = llmcCompileBuffer(
      (*source)->getBufferStart(), (*source)->getBufferSize(), model.c_str(),
      baseDir.c_str(), &options, &bytes, &size, &diagnostics);
  std::string why = diagnostics ? diagnostics : "";
  llmcFree(diagnostics);
  if (rc != 0)
    return fail("compiling the f32 model failed: " + why);
  llmc_artifact *reference = nullptr, *quantized = nullptr;
  llmc_status status = llmc_artifact_open_buffer(bytes, size, &reference);
  llmcFree(bytes);
  if (status != LLMC_OK)
    return fail(llmc_last_error());
  ArtifactHandle referenceOwner(reference);
  if (llmc_artifact_open(quantizedPath.c_str(), &quantized) != LLMC_OK)
    return fail(llmc_last_error());
  ArtifactHandle quantizedOwner(quantized);
  std::string error;
  std::vector<float> f = prefillLogits(reference, tokens, error);
  if (f.empty())
    return fail("the f32 model: " + error);
  std::vector<float> q = prefillLogits(quantized, tokens, error);
  if (q.empty())
    return fail("the quantized model: " + error);
  double diff = 0.0, energy = 0.0, largest = 0.0;
  for (size_t i = 0; i < f.size(); ++i) {
    double d = static_cast<double>(q[i]) - f[i];
    diff += d * d;
    energy += static_cast<double>(f[i]) * f[i];
    largest = std::max(largest, std::fabs(d));
  }
  auto text = llvm::MemoryBuffer::getFile(reportPath);
  if (!text)
    return fail("cannot read '" + reportPath + "'");
  llvm::Expected<llvm::json::Value> report =
      llvm::json::parse((*text)->getBuffer());
  if (!report || !report->getAsObject())
    return fail("'" + reportPath + "' is not a JSON object");
  (*report->getAsObject())["logits"] = llvm::json::Object{
      {"reference", "the same model in f32 on the CPU target"},
      {"tokens", static_cast<int64_t>(tokens.size())},
      {"nmse", energy > 0.0 ? diff / energy : diff},
      {"max_abs_diff", largest}};
  std::error_code ec;
  llvm::raw_fd_ostream out(reportPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write '" + reportPath + "': " + ec.message());
  out << llvm::formatv("{0:2}", *report) << "\n";
  return true;
}

/// Fits the KV predictor (lib/Analysis/KVPredictorFit.h), writes it to
/// `path` and prints each layer's fit error.
bool fitPredictor(const std::string &base, const std::string &aux,
                  const std::string &layers, const std::string &cpu,
                  const std::string &features,
                  const std::vector<int64_t> &tokens, const std::string &path,
                  bool quiet) {
  llmc::CompileOptions options;
  options.codegen.cpu = cpu;
  options.codegen.features = features;
  llmc::KVPredictorFit fit;
  std::string error;
  if (!llmc::fitKVPredictor(base, aux, layers, tokens, options, fit, error)) {
    llvm::errs() << "llm-compile: fitting the KV predictor: " << error << "\n";
    return false;
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::errs() << "llm-compile: cannot write '" << path
                 << "': " << ec.message() << "\n";
    return false;
  }
  out << fit.predictor;
  if (!quiet)
    for (size_t l = 0; l < fit.layers.size(); ++l)
      llvm::errs() << llvm::format(
          "KV predictor: base layer %zu <- auxiliary layer %lld: relative "
          "squared error keys %.3g, values %.3g (%zu tokens)\n",
          l, static_cast<long long>(fit.layers[l]), fit.keyError[l],
          fit.valueError[l], tokens.size());
  return true;
}

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
  if (!reportTokens.empty() && quantReport.empty()) {
    llvm::errs() << "llm-compile: --llm-quant-report-tokens needs "
                    "--llm-quant-report\n";
    return 1;
  }
  std::string predictorPath = kvPredictPredictor;
  if (!kvPredictFitOn.empty()) {
    if (kvPredictAux.empty()) {
      llvm::errs() << "llm-compile: --kv-predict-fit-on needs "
                      "--kv-predict-aux\n";
      return 1;
    }
    if (predictorPath == "identity")
      predictorPath = output + ".predictor.mlir";
    if (!fitPredictor(
            input, kvPredictAux, kvPredictLayers, cpu, features,
            std::vector<int64_t>(kvPredictFitOn.begin(), kvPredictFitOn.end()),
            predictorPath, quiet))
      return 1;
  }
  if (!kvPredictAux.empty()) {
    options.kv_predict_aux = kvPredictAux.c_str();
    options.kv_predict_layers = kvPredictLayers.c_str();
    options.kv_predict_predictor = predictorPath.c_str();
    if (!kvPredictReport.empty())
      options.kv_predict_report = kvPredictReport.c_str();
    options.kv_predict_report_tokens = kvPredictReportTokens;
  }
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
  if (!reportTokens.empty()) {
    if (!quiet)
      showProgress("logits error against the f32 model", &progress);
    std::vector<int64_t> tokens(reportTokens.begin(), reportTokens.end());
    if (!addLogitsError(input, output, options, tokens, quantReport))
      return 1;
  }
  return 0;
}
