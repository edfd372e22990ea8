//===- Compiler.cpp - model file -> deployable artifact -------------------===//

#include "lib/Compiler/Compiler.h"
#include "lib/Quant/Scheme.h"

#include "lib/Compiler/ArtifactWriter.h"
#include "lib/Compiler/KVPrediction.h"
#include "lib/Compiler/Manifest.h"
#include "lib/Import/OnnxImporter.h"
#include "lib/Registration/Registration.h"

#include "dialects/llm/ConstantData.h"
#include "dialects/llm/LLMOps.h"
#include "targets/common/TargetDescription.h"
#include "targets/cpu/ExternalizeWeights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <map>
#include <mutex>

using namespace mlir;
using namespace llmc;

void llmc::registerCompilerPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    llmc::registerPasses();
  });
}

LogicalResult llmc::runPipeline(ModuleOp module, StringRef pipeline) {
  PassManager pm(module.getContext());
  // Debugging options a tool registered (--mlir-print-ir-after-all, ...);
  // it fails, harmlessly, in callers that registered none.
  (void)applyPassManagerCLOptions(pm);
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (failed(parsePassPipeline(pipeline, pm, errorStream)))
    return module.emitError()
           << "bad pass pipeline '" << pipeline << "': " << error;
  return pm.run(module);
}

namespace {

OwningOpRef<ModuleOp> load(MLIRContext &ctx, StringRef input,
                           StringRef inputName, StringRef baseDir,
                           const CompileOptions &options) {
  if (inputName.ends_with(".mlir") || inputName.ends_with(".mlirbc")) {
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(input, inputName);
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sourceMgr, &ctx);
  }
  OnnxImportOptions importOptions;
  for (const std::string &spec : options.inputShapes) {
    std::string error = parseInputShapeSpec(spec, importOptions);
    if (!error.empty()) {
      emitError(UnknownLoc::get(&ctx))
          << "input shape '" << spec << "': " << error;
      return nullptr;
    }
  }
  return importOnnxBuffer(&ctx, input, baseDir, inputName, importOptions);
}

} // namespace

OwningOpRef<ModuleOp> llmc::loadModelFile(MLIRContext &ctx, StringRef path,
                                          const CompileOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer) {
    bool mlir = path.ends_with(".mlir") || path.ends_with(".mlirbc");
    emitError(FileLineColLoc::get(&ctx, path, 0, 0))
        << "cannot read " << (mlir ? "MLIR" : "ONNX")
        << " model: " << buffer.getError().message();
    return nullptr;
  }
  return load(ctx, (*buffer)->getBuffer(), path,
              llvm::sys::path::parent_path(path), options);
}

namespace {

/// file:line:col like a compiler, for the first file location in `loc`.
void printLocation(llvm::raw_ostream &os, Location loc) {
  if (auto file = loc->findInstanceOf<FileLineColLoc>()) {
    os << file.getFilename().getValue() << ":" << file.getLine() << ":"
       << file.getColumn();
    return;
  }
  os << loc;
}

/// Moves the programs of the module's `llm.device_programs` into `programs`
/// and describes them for the manifest in `index`; the attribute is
/// removed (LLVM translation has no use for it).
bool collectDevicePrograms(ModuleOp module, std::vector<std::string> &programs,
                           llvm::json::Array &index) {
  auto list = module->getAttrOfType<ArrayAttr>(
      llm::LLMDialect::kDeviceProgramsAttrName);
  if (!list)
    return true;
  for (Attribute a : list) {
    auto entry = cast<DictionaryAttr>(a);
    auto device = entry.getAs<llm::DeviceAttr>("device");
    std::optional<ArrayRef<char>> bytes =
        llm::constantBytes(entry.getAs<ElementsAttr>("bytes"));
    auto ops = entry.getAs<StringAttr>("ops");
    auto opCount = entry.getAs<IntegerAttr>("op_count");
    auto shape = entry.getAs<StringAttr>("shape");
    auto estimate = entry.getAs<FloatAttr>("decode_estimate_seconds");
    if (!bytes || !ops || !opCount || !shape || !estimate)
      return false;
    programs.emplace_back(bytes->data(), bytes->size());
    index.push_back(llvm::json::Object{
        {"device", device.getKind()},
        {"device_index", device.getIndex()},
        {"ops", ops.getValue()},
        {"op_count", opCount.getInt()},
        {"shape", shape.getValue()},
        {"decode_estimate_seconds", estimate.getValueAsDouble()},
    });
  }
  module->removeAttr(llm::LLMDialect::kDeviceProgramsAttrName);
  return true;
}

/// Places `module`'s step for `phase` on the target machine and turns the
/// runs of placed ops the devices can run into device programs; reports
/// how many of the ops placed on each device kind run there.
LogicalResult placeAndLower(ModuleOp module, const CompileOptions &options,
                            StringRef phase,
                            function_ref<void(StringRef)> step) {
  if (failed(runPipeline(
          module, llvm::formatv("llm-place{{target={0} phase={1} batch={2} "
                                "context={3}}",
                                options.target, phase, options.placementBatch,
                                options.placementContext)
                      .str())))
    return failure();
  // Compute ops (llm, and arith on tensors) placed off the host, by kind,
  // before the device lowering (tensor plumbing follows the op it feeds).
  std::map<std::string, int> placed;
  module.walk([&](Operation *op) {
    bool compute = isa<llm::LLMDialect>(op->getDialect()) ||
                   (isa<arith::ArithDialect>(op->getDialect()) &&
                    op->getNumResults() == 1 &&
                    isa<RankedTensorType>(op->getResult(0).getType()));
    auto device =
        op->getAttrOfType<llm::DeviceAttr>(llm::LLMDialect::kDeviceAttrName);
    auto fn = op->getParentOfType<func::FuncOp>();
    auto placement = fn ? fn->getAttrOfType<DictionaryAttr>(
                              llm::LLMDialect::kPlacementAttrName)
                        : nullptr;
    if (compute && device && placement &&
        device != placement.getAs<llm::DeviceAttr>("host"))
      ++placed[device.getKind().str()];
  });
  if (failed(runPipeline(module, "llm-lower-to-device-programs{target=" +
                                     options.target + "}")))
    return failure();
  std::map<std::string, std::pair<int64_t, int>> emitted;
  if (auto list = module->getAttrOfType<ArrayAttr>(
          llm::LLMDialect::kDeviceProgramsAttrName))
    for (Attribute a : list) {
      auto entry = cast<DictionaryAttr>(a);
      auto &[ops, count] =
          emitted[entry.getAs<llm::DeviceAttr>("device").getKind().str()];
      ops += entry.getAs<IntegerAttr>("op_count").getInt();
      ++count;
    }
  for (auto &[kind, count] : placed)
    step(llvm::formatv("{0}: {1}: {2} of the {3} ops placed there run in {4} "
                       "device programs; the others run on the CPU",
                       phase, kind, emitted[kind].first, count,
                       emitted[kind].second)
             .str());
  return success();
}

/// Moves the step function of `prefill` (placed for prefill) into `module`
/// as its prefill entry, with its device programs after `module`'s.
void mergePrefill(ModuleOp module, ModuleOp prefill) {
  auto programsOf = [](ModuleOp m) {
    auto list =
        m->getAttrOfType<ArrayAttr>(llm::LLMDialect::kDeviceProgramsAttrName);
    return list ? SmallVector<Attribute>(list.getValue())
                : SmallVector<Attribute>();
  };
  SmallVector<Attribute> programs = programsOf(module);
  int64_t offset = programs.size();
  llvm::append_range(programs, programsOf(prefill));
  auto fn = *llvm::find_if(prefill.getOps<func::FuncOp>(),
                           [](func::FuncOp f) { return !f.isExternal(); });
  fn.walk([&](llm::DeviceCallOp call) {
    call.setProgramAttr(
        IntegerAttr::get(call.getProgramAttr().getType(),
                         call.getProgramAttr().getInt() + offset));
  });
  fn->remove();
  fn.setSymName(kPredictedPrefill);
  module.push_back(fn);
  if (!programs.empty())
    module->setAttr(llm::LLMDialect::kDeviceProgramsAttrName,
                    ArrayAttr::get(module.getContext(), programs));
}

} // namespace

void llmc::registerCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerOnnxImportDialects(registry);
  llmc::registerDialects(registry);
}

bool llmc::compileModel(StringRef input, StringRef inputName, StringRef baseDir,
                        const CompileOptions &options, std::string &artifact,
                        std::string &diagnostics) {
  registerCompilerPasses();
  DialectRegistry registry;
  registerCompilerDialects(registry);
  MLIRContext ctx(registry);
  // Diagnostics name the op and its location; a dump of the op (a whole
  // module for module-level errors) would bury them.
  ctx.printOpOnDiagnostic(false);
  ctx.loadAllAvailableDialects();
  // Every diagnostic goes to the caller, with its location.
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    printLocation(diagStream, diag.getLocation());
    diagStream << ": "
               << (diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                   : diag.getSeverity() == DiagnosticSeverity::Warning
                       ? "warning"
                       : "note")
               << ": " << diag << "\n";
    for (Diagnostic &note : diag.getNotes()) {
      printLocation(diagStream, note.getLocation());
      diagStream << ": note: " << note << "\n";
    }
    return success();
  });
  if (options.progress)
    options.progress("importing " + inputName.str());
  OwningOpRef<ModuleOp> module = load(ctx, input, inputName, baseDir, options);
  if (!module) {
    diagStream << "llmc: could not load " << inputName << "\n";
    return false;
  }

  return compileModule(*module, llvm::sys::path::filename(inputName), options,
                       artifact, diagnostics);
}

bool llmc::compileModule(ModuleOp module, StringRef source,
                         const CompileOptions &options, std::string &artifact,
                         std::string &diagnostics) {
  registerCompilerPasses();
  auto step = [&](StringRef what) {
    if (options.progress)
      options.progress(what);
  };
  auto fail = [&](const Twine &what) {
    diagnostics += ("llmc: " + what + "\n").str();
    return false;
  };
  // Any other target is a machine: its NPU and PIM run device programs,
  // the rest of the model runs on its host CPU, which is this one.
  bool onDevices = options.target != "cpu";
  if (onDevices) {
    llvm::Expected<llm::Machine> machine = llm::loadMachine(options.target);
    if (!machine)
      return fail("--target: " + llvm::toString(machine.takeError()) +
                  " (the other target is cpu)");
    if (!options.quantize.empty() || !options.kvPredictAux.empty())
      return fail("device programs compute in f32: --quantize and "
                  "--kv-predict-aux need --target=cpu");
  }
  // The quantization pass: for the compilation (with the report), and
  // without the report before placement on the report's copies.
  std::string quantize, placedQuantize;
  int kvBits = 0;
  bool lookupTables = false;
  if (!options.quantize.empty()) {
    llmc::quant::NamedScheme scheme;
    std::string error;
    if (!llmc::quant::parseScheme(options.quantize, scheme, error))
      return fail(error);
    std::string passOptions = llmc::quant::passOptions(scheme);
    // Placement estimates the weights' bytes; the KV cache stays f32 there
    // (its cost model reads the attention ops the KV rewrite hides).
    llmc::quant::NamedScheme weightsOnly = scheme;
    weightsOnly.kvBits = 0;
    if (!weightsOnly.weightsF32)
      placedQuantize =
          "llm-quantize{" + llmc::quant::passOptions(weightsOnly) + "},";
    kvBits = scheme.kvBits;
    lookupTables = scheme.lookupTables;
    if (!options.quantReport.empty())
      passOptions += " report=" + options.quantReport;
    quantize = "llm-quantize{" + passOptions + "}";
  } else if (!options.quantReport.empty()) {
    return fail("a quantization report needs a quantization scheme");
  }
  step("raising to the llm dialect");
  if (failed(runPipeline(module, "llm-raise")))
    return fail("raising failed");
  if (!options.passes.empty()) {
    step("running " + options.passes);
    if (failed(runPipeline(module, options.passes)))
      return fail("the passes '" + options.passes + "' failed");
  }
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return fail("the model has no function @main");
  bool hasAttention = false;
  main.walk([&](llm::AttentionOp) { hasAttention = true; });
  bool generate = options.mode == EntryMode::Generate ||
                  (options.mode == EntryMode::Auto && hasAttention);
  if (generate) {
    step("building prefill/decode over a KV cache");
    if (failed(runPipeline(module, "llm-synthesize-kv-cache,llm-canonicalize")))
      return fail("could not build the KV-cache entry points");
  }

  // Experts become ordinary linear layers (only the chosen ones run), so
  // that placement, fusing and quantization see each expert's layers.
  if (failed(runPipeline(module, "llm-decompose-moe")))
    return fail("decomposing the MoE layers failed");

  if (!options.placementReport.empty()) {
    // Compiled for a machine, the report describes that machine.
    const std::string &reportTarget =
        onDevices ? options.target : options.placementTarget;
    step("placing on " + reportTarget);
    SmallVector<StringRef> phases = {"prefill"};
    if (generate)
      phases.push_back("decode");
    for (StringRef phase : phases) {
      // On a copy: the CPU target compiles the model as it is.
      OwningOpRef<ModuleOp> copy(module.clone());
      SmallString<256> path(options.placementReport);
      llvm::sys::path::replace_extension(path, phase + ".json");
      std::string pipeline =
          llvm::formatv("{5}llm-place{{target={0} phase={1} batch={2} "
                        "context={3} report={4}}",
                        reportTarget, phase, options.placementBatch,
                        options.placementContext, path, placedQuantize)
              .str();
      if (failed(runPipeline(*copy, pipeline)))
        return fail("placement on '" + reportTarget + "' failed");
    }
  }

  bool predicted = !options.kvPredictAux.empty();
  if (kvBits && !generate)
    return fail("'" + options.quantize +
                "' quantizes the KV cache: it needs a generative model "
                "(attention over a KV cache)");
  if (predicted && kvBits)
    return fail("KV prediction with a quantized KV cache ('" +
                options.quantize + "') is not supported");
  if (predicted) {
    if (!generate)
      return fail("KV prediction needs a generative model (attention over a "
                  "KV cache)");
    step("KV prediction from " + options.kvPredictAux);
    if (failed(addKVPrediction(module, options)))
      return fail("setting up KV prediction failed");
  }

  if (failed(runPipeline(module, "llm-fuse-linears")))
    return fail("fusing linear layers failed");
  llvm::json::Array programIndex;
  std::vector<std::string> programs;
  // A generative step placed per phase: the step function for decode, a
  // copy of it (the prefill entry) for prefill.
  bool prefillPlaced = false;
  if (onDevices) {
    step("placing on " + options.target + " and emitting device programs");
    OwningOpRef<ModuleOp> prefillModule;
    prefillPlaced = generate && llvm::count_if(module.getOps<func::FuncOp>(),
                                               [](func::FuncOp fn) {
                                                 return !fn.isExternal();
                                               }) == 1;
    if (prefillPlaced)
      prefillModule = module.clone();
    if (failed(placeAndLower(module, options, "decode", step)))
      return fail("placement or device programs for '" + options.target +
                  "' failed");
    if (prefillPlaced) {
      if (failed(placeAndLower(*prefillModule, options, "prefill", step)))
        return fail("placement or device programs for '" + options.target +
                    "' failed");
      mergePrefill(module, *prefillModule);
    }
    if (!collectDevicePrograms(module, programs, programIndex))
      return fail("could not read the device programs back");
  }
  if (!quantize.empty()) {
    step("quantizing weights (" + options.quantize + ")");
    if (failed(runPipeline(module, quantize)))
      return fail("quantization '" + options.quantize + "' failed");
  }
  step("lowering to linalg");
  // int8 dot products of quantized activations take VNNI, codebook and
  // activation-table lookups VBMI, where the target has them. A result
  // inserted into a bigger tensor (a step's keys and values into the KV
  // cache) is computed in that tensor's slice: sizes asked of results are
  // asked of their inits first (so that the slice can be taken before the
  // op), then upstream's empty-tensor elimination gives the op the slice
  // as its destination. Before, bufferization copied the step's keys and
  // values into the caches on one thread.
  auto feature = [&](StringRef name) {
    return llm::cpu::targetHasFeature(options.codegen, name) ? "true" : "false";
  };
  if (failed(runPipeline(
          module, llvm::formatv("llm-cpu-fuse-attention,"
                                "llm-lower-to-linalg{{lookup-tables={2}},"
                                "llm-cpu-vectorize-linear{{vnni={0} vbmi={1}},"
                                "linalg-fuse-elementwise-ops,"
                                "resolve-ranked-shaped-type-result-dims,"
                                "eliminate-empty-tensors,"
                                "func.func(llm-cpu-parallelize)",
                                feature("avx512vnni"), feature("avx512vbmi"),
                                lookupTables ? "true" : "false")
                      .str())))
    return fail("lowering to linalg failed");
  FailureOr<llm::cpu::WeightsLayout> weights =
      llm::cpu::externalizeWeights(module, options.minWeightBytes);
  if (failed(weights))
    return fail("could not move the weights out of the code");
  if (failed(runPipeline(module, "llm-cpu-entry-abi")))
    return fail("could not set up the entry point calling convention");
  auto functions = module.getOps<func::FuncOp>();
  auto it = llvm::find_if(functions, [](func::FuncOp fn) {
    return fn.isPublic() && !fn.isExternal() &&
           fn.getSymName() != kPredictedPrefill;
  });
  if (it == functions.end())
    return fail("no entry function");
  if (predicted || prefillPlaced) {
    // The manifest describes both entries with the step's arguments.
    auto prefill = module.lookupSymbol<func::FuncOp>(kPredictedPrefill);
    if (!prefill || prefill.getFunctionType() != (*it).getFunctionType() ||
        prefill.getAllArgAttrs() != (*it).getAllArgAttrs())
      return fail("the prefill's arguments differ from the step's");
  }
  step("lowering to LLVM");
  // Lowering to LLVM drops the argument attributes the manifest describes:
  // keep a copy of the entry as it is now.
  auto entryCopy = cast<func::FuncOp>((*it)->clone());
  std::unique_ptr<Operation, void (*)(Operation *)> keep(
      entryCopy, [](Operation *op) { op->destroy(); });
  // The llm attributes have served; LLVM translation would warn about them.
  for (auto fn : module.getOps<func::FuncOp>()) {
    fn->removeAttr(llm::LLMDialect::kMaxPositionsAttrName);
    fn->removeAttr(llm::LLMDialect::kPlacementAttrName);
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      fn.setArgAttrs(i, ArrayRef<NamedAttribute>{});
  }
  if (failed(runPipeline(module, "llm-cpu-to-llvm{openmp}")))
    return fail("lowering to LLVM failed");

  step("generating code");
  llm::cpu::CpuTargetInfo target;
  FailureOr<std::string> object =
      llm::cpu::emitObject(module, options.codegen, target);
  if (failed(object))
    return fail("code generation failed");
  step("linking");
  std::string sharedObject, error;
  if (failed(llm::cpu::linkSharedObject(*object, sharedObject, error)))
    return fail(error);

  std::string manifestText;
  llvm::raw_string_ostream os(manifestText);
  llvm::json::Object manifest =
      buildManifest(entryCopy, generate, source, target, *weights,
                    predicted || prefillPlaced ? kPredictedPrefill : "");
  if (onDevices) {
    manifest["machine"] = options.target;
    manifest["device_programs"] = std::move(programIndex);
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)));
  SmallVector<ArrayRef<char>> programBytes;
  for (const std::string &p : programs)
    programBytes.push_back(ArrayRef<char>(p.data(), p.size()));
  artifact = writeArtifact(manifestText, sharedObject, *weights, programBytes);
  return true;
}

bool llmc::compileModelFile(StringRef path, const CompileOptions &options,
                            std::string &artifact, std::string &diagnostics) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer) {
    diagnostics += "llmc: cannot read " + path.str() + ": " +
                   buffer.getError().message() + "\n";
    return false;
  }
  return compileModel((*buffer)->getBuffer(), path,
                      llvm::sys::path::parent_path(path), options, artifact,
                      diagnostics);
}
