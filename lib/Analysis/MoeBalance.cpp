//===- MoeBalance.cpp - how a MoE model spreads its tokens ----------------===//

#include "lib/Analysis/MoeBalance.h"

#include "lib/Compiler/Compiler.h"
#include "lib/Import/OnnxImporter.h"

#include "dialects/llm/LLMOps.h"
#include "llmc/runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace llmc;

Routing llmc::route(const std::vector<float> &logits, int64_t tokens,
                    int64_t experts, int64_t topK, int64_t routingGroups,
                    int64_t groups) {
  Routing r;
  r.expertLoad.assign(experts, 0);
  r.groupLoad.assign(groups, 0);
  int64_t width = experts / routingGroups, perGroup = topK / routingGroups;
  for (int64_t t = 0; t < tokens; ++t) {
    const float *row = logits.data() + t * experts;
    // Softmax is monotonic: the largest logits are the largest weights.
    // Ties go to the lower expert, as llm.moe's semantics say.
    for (int64_t g = 0; g < routingGroups; ++g) {
      std::vector<int64_t> order(width);
      std::iota(order.begin(), order.end(), g * width);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return row[a] > row[b]; });
      for (int64_t i = 0; i < perGroup; ++i)
        ++r.expertLoad[order[i]];
    }
  }
  int64_t groupWidth = experts / groups;
  for (int64_t e = 0; e < experts; ++e)
    r.groupLoad[e / groupWidth] += r.expertLoad[e];
  auto [lo, hi] = std::minmax_element(r.groupLoad.begin(), r.groupLoad.end());
  r.imbalance = tokens ? double(*hi - *lo) / tokens : 0;
  return r;
}

namespace {

/// The model's outputs (logits, then every layer's router logits) for the
/// ids, after the passes `pipeline` on the imported model.
bool run(llvm::StringRef path, const std::vector<int64_t> &ids,
         llvm::StringRef pipeline, std::vector<std::vector<float>> &outputs,
         std::vector<std::vector<int64_t>> &shapes,
         std::vector<std::pair<int64_t, int64_t>> &moe, std::string &error) {
  DialectRegistry registry;
  registerCompilerDialects(registry);
  registerCompilerPasses();
  MLIRContext ctx(registry);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      diagnostics += d.str() + "\n";
    return success();
  });
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer) {
    error = "cannot read '" + path.str() + "'";
    return false;
  }
  OnnxImportOptions importOptions;
  importOptions.inputShapes["input_ids"] = {1, int64_t(ids.size())};
  OwningOpRef<ModuleOp> module =
      importOnnxBuffer(&ctx, (*buffer)->getBuffer(),
                       llvm::sys::path::parent_path(path), path, importOptions);
  if (!module) {
    error = "import failed: " + diagnostics;
    return false;
  }
  if (failed(runPipeline(*module, pipeline))) {
    error = "'" + pipeline.str() + "' failed: " + diagnostics;
    return false;
  }
  auto main = module->lookupSymbol<func::FuncOp>("main");
  if (!main || main.getNumArguments() != 1) {
    error = "expected @main(input_ids)";
    return false;
  }
  moe.clear();
  main.walk([&](llm::MoeOp op) {
    moe.push_back({op.getNumExperts(), op.getTopK()});
  });
  shapes.clear();
  outputs.clear();
  for (Type t : main.getResultTypes()) {
    auto type = cast<RankedTensorType>(t);
    if (!type.hasStaticShape() || !type.getElementType().isF32()) {
      error = "outputs must be static f32 tensors";
      return false;
    }
    shapes.emplace_back(type.getShape().begin(), type.getShape().end());
    outputs.emplace_back(type.getNumElements());
  }
  CompileOptions options;
  options.mode = EntryMode::Function;
  std::string artifactBytes, compileDiagnostics;
  if (!compileModule(*module, llvm::sys::path::filename(path), options,
                     artifactBytes, compileDiagnostics)) {
    error = "compiling failed: " + diagnostics + compileDiagnostics;
    return false;
  }
  llmc_artifact *artifact = nullptr;
  if (llmc_artifact_open_buffer(artifactBytes.data(), artifactBytes.size(),
                                &artifact) != LLMC_OK) {
    error = std::string("runtime: ") + llmc_last_error();
    return false;
  }
  std::vector<int64_t> idShape = {1, int64_t(ids.size())};
  std::vector<void *> buffers = {const_cast<int64_t *>(ids.data())};
  std::vector<const int64_t *> shapePointers = {idShape.data()};
  for (size_t i = 0; i < outputs.size(); ++i) {
    buffers.push_back(outputs[i].data());
    shapePointers.push_back(shapes[i].data());
  }
  llmc_status status = llmc_artifact_call(artifact, "main", buffers.data(),
                                          shapePointers.data());
  llmc_artifact_close(artifact);
  if (status != LLMC_OK) {
    error = std::string("runtime: ") + llmc_last_error();
    return false;
  }
  return true;
}

} // namespace

bool llmc::analyseMoeBalance(llvm::StringRef path,
                             const MoeBalanceOptions &options,
                             MoeBalanceReport &report, std::string &error) {
  if (options.ids.empty()) {
    error = "no token ids";
    return false;
  }
  if (options.groups < 1 || options.kPerGroup < 1) {
    error = "groups and k-per-group must be at least 1";
    return false;
  }
  std::vector<std::vector<float>> original, grouped;
  std::vector<std::vector<int64_t>> shapes, groupedShapes;
  std::vector<std::pair<int64_t, int64_t>> moe, groupedMoe;
  if (!run(path, options.ids, "llm-raise,llm-expose-router-logits", original,
           shapes, moe, error))
    return false;
  std::string moge =
      llvm::formatv("llm-raise,llm-moe-to-moge{{groups={0} k-per-group={1}},"
                    "llm-expose-router-logits",
                    options.groups, options.kPerGroup)
          .str();
  if (!run(path, options.ids, moge, grouped, groupedShapes, groupedMoe, error))
    return false;

  report = MoeBalanceReport();
  report.tokens = options.ids.size();
  report.groups = options.groups;
  report.kPerGroup = options.kPerGroup;
  for (size_t layer = 0; layer < moe.size(); ++layer) {
    auto [experts, topK] = moe[layer];
    const std::vector<int64_t> &shape = shapes[1 + layer];
    int64_t tokens = shape[0];
    LayerBalance balance;
    balance.experts = experts;
    balance.topK = topK;
    // Each routing on the router logits its own model computed: MoGE's
    // later layers see hidden states that MoGE's earlier layers changed.
    balance.topk =
        route(original[1 + layer], tokens, experts, topK, 1, options.groups);
    balance.moge = route(grouped[1 + layer], tokens, experts,
                         options.groups * options.kPerGroup, options.groups,
                         options.groups);
    report.layers.push_back(std::move(balance));
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < original[0].size(); ++i) {
    double d = double(grouped[0][i]) - original[0][i];
    num += d * d;
    den += double(original[0][i]) * original[0][i];
  }
  report.logitsNMSE = den > 0 ? num / den : 0;
  return true;
}

llvm::json::Value llmc::toJSON(const MoeBalanceReport &report) {
  auto routing = [](const Routing &r) {
    return llvm::json::Object{{"expert_load", r.expertLoad},
                              {"group_load", r.groupLoad},
                              {"imbalance", r.imbalance}};
  };
  llvm::json::Array layers;
  for (const LayerBalance &layer : report.layers)
    layers.push_back(llvm::json::Object{{"experts", layer.experts},
                                        {"top_k", layer.topK},
                                        {"top_k_routing", routing(layer.topk)},
                                        {"moge_routing", routing(layer.moge)}});
  return llvm::json::Object{{"tokens", report.tokens},
                            {"groups", report.groups},
                            {"k_per_group", report.kPerGroup},
                            {"layers", std::move(layers)},
                            {"logits_nmse", report.logitsNMSE}};
}
