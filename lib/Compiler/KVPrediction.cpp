//===- KVPrediction.cpp - set up KV prediction in a compilation ----------===//

#include "lib/Compiler/KVPrediction.h"
#include "lib/Compiler/Compiler.h"

#include "dialects/llm/CostInterface.h"
#include "dialects/llm/LLMDialect.h"
#include "passes/PhaseShapes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

namespace {

/// Moves every function of `from` into `into` (after its functions).
void moveFunctions(ModuleOp from, ModuleOp into) {
  SmallVector<func::FuncOp> fns(from.getOps<func::FuncOp>());
  for (func::FuncOp fn : fns)
    fn->moveBefore(into.getBody(), into.getBody()->end());
}

/// FLOPs of one call of step function `fn` over `tokens` tokens from
/// `position` (batch 1), from the ops' cost interface; with `cachesOnly`,
/// of the ops the updated caches need (not the LM head).
double stepFlops(func::FuncOp fn, int64_t tokens, int64_t position,
                 bool cachesOnly = false) {
  llm::PhaseShapes shapes({1, tokens, position});
  auto dims = [&](Value v, int64_t d) { return shapes.dimSize(v, d); };
  SetVector<Operation *> needed;
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  for (Value v : ret.getOperands().drop_front(cachesOnly ? 1 : 0))
    if (Operation *def = v.getDefiningOp()) {
      needed.insert(def);
      (void)getBackwardSlice(def, &needed);
    }
  double flops = 0;
  for (Operation *op : needed)
    if (std::optional<llm::OpCost> cost = llm::estimateOpCost(op, dims))
      flops += cost->flops;
  return flops;
}

int64_t cacheLayers(func::FuncOp fn) {
  int64_t n = 0;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (auto role =
            fn.getArgAttrOfType<StringAttr>(i, llm::LLMDialect::kRoleAttrName))
      n += role.getValue() == "key_cache";
  return n;
}

} // namespace

std::vector<int64_t> llmc::proportionalLayerMap(int64_t baseLayers,
                                                int64_t auxLayers) {
  std::vector<int64_t> map;
  for (int64_t l = 0; l < baseLayers; ++l)
    map.push_back(l * auxLayers / baseLayers);
  return map;
}

LogicalResult llmc::addKVPrediction(ModuleOp module,
                                    const CompileOptions &options) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  auto base = module.lookupSymbol<func::FuncOp>("llmc_step");
  if (!base)
    return emitError(loc) << "KV prediction needs a generative model (a "
                             "prefill/decode step over a KV cache)";
  OwningOpRef<ModuleOp> aux =
      loadModelFile(*ctx, options.kvPredictAux, CompileOptions());
  if (!aux)
    return emitError(loc) << "could not load the auxiliary model '"
                          << options.kvPredictAux << "'";
  auto auxMain = aux->lookupSymbol<func::FuncOp>("main");
  if (!auxMain)
    return emitError(loc) << "the auxiliary model '" << options.kvPredictAux
                          << "' has no function @main";
  auxMain.setSymName("aux_main");
  if (failed(runPipeline(*aux, "llm-raise,llm-synthesize-kv-cache{func=aux_"
                               "main entry=aux_step},llm-canonicalize")))
    return emitError(loc) << "the auxiliary model '" << options.kvPredictAux
                          << "' could not be made a step over a KV cache";
  auto auxStep = aux->lookupSymbol<func::FuncOp>("aux_step");
  int64_t baseLayers = cacheLayers(base), auxLayers = cacheLayers(auxStep);

  // The layer map: given (llm-kv-predict checks it), or proportional.
  std::string layers = options.kvPredictLayers;
  if (layers.empty()) {
    SmallVector<std::string> map;
    for (int64_t a : proportionalLayerMap(baseLayers, auxLayers))
      map.push_back(std::to_string(a));
    layers = llvm::join(map, ",");
  }
  bool identity = options.kvPredictPredictor.empty() ||
                  options.kvPredictPredictor == "identity";
  if (!identity) {
    OwningOpRef<ModuleOp> predictor =
        parseSourceFile<ModuleOp>(options.kvPredictPredictor, ctx);
    if (!predictor)
      return emitError(loc) << "could not read the KV predictor '"
                            << options.kvPredictPredictor << "'";
    for (auto fn : predictor->getOps<func::FuncOp>())
      if (!fn.getSymName().starts_with("kv_predictor_"))
        return fn.emitError()
               << "a KV predictor file holds only @kv_predictor_key_<l> and "
                  "@kv_predictor_value_<l> functions";
    moveFunctions(*predictor, module);
  }
  moveFunctions(*aux, module);
  if (!options.kvPredictReport.empty()) {
    // Time to first token in FLOPs for a prompt of T tokens: the auxiliary
    // model over T - 1, the predictors, one base step; against the base
    // model's prefill of T.
    int64_t t = options.kvPredictReportTokens;
    double base =
        stepFlops(module.lookupSymbol<func::FuncOp>("llmc_step"), t, 0);
    double auxFlops = stepFlops(auxStep, t - 1, 0, /*cachesOnly=*/true);
    double last =
        stepFlops(module.lookupSymbol<func::FuncOp>("llmc_step"), 1, t - 1);
    double predictor = 0;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn.getSymName().starts_with("kv_predictor_"))
        if (auto type = dyn_cast<RankedTensorType>(fn.getResultTypes()[0]))
          predictor += 2.0 * double(t - 1) * double(type.getNumElements());
    double ttft = auxFlops + predictor + last;
    llvm::json::Object report{
        {"prompt_tokens", t},
        {"layers", layers},
        {"predictor", identity ? "identity" : options.kvPredictPredictor},
        {"base_prefill_flops", base},
        {"aux_flops", auxFlops},
        {"predictor_flops", predictor},
        {"base_last_token_flops", last},
        {"ttft_flops", ttft},
        {"ttft_flops_ratio", base > 0 ? ttft / base : 0.0}};
    std::error_code ec;
    llvm::raw_fd_ostream out(options.kvPredictReport, ec,
                             llvm::sys::fs::OF_Text);
    if (ec)
      return emitError(loc) << "cannot write '" << options.kvPredictReport
                            << "': " << ec.message();
    out << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
  return runPipeline(
      module, llvm::formatv("llm-kv-predict{{layers={0} identity={1}},inline,"
                            "symbol-dce,llm-canonicalize",
                            layers, identity ? "true" : "false")
                  .str());
}
