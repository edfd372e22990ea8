//===- Manifest.cpp - the artifact's JSON manifest ------------------------===//

#include "lib/Compiler/Manifest.h"

#include "dialects/llm/LLMDialect.h"
#include "runtime/ArtifactFormat.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

llvm::json::Array shapeOf(ArrayRef<int64_t> shape) {
  llvm::json::Array out;
  for (int64_t d : shape)
    out.push_back(ShapedType::isDynamic(d) ? int64_t(-1) : d);
  return out;
}

} // namespace

llvm::json::Array llmc::describeArguments(func::FuncOp fn) {
  llvm::json::Array args;
  for (auto [i, type] : llvm::enumerate(fn.getArgumentTypes())) {
    llvm::json::Object arg;
    auto role = fn.getArgAttrOfType<StringAttr>(i, LLMDialect::kRoleAttrName);
    arg["role"] = role ? role.getValue().str() : "input";
    if (auto name =
            fn.getArgAttrOfType<StringAttr>(i, LLMDialect::kNameAttrName))
      arg["name"] = name.getValue().str();
    if (auto layer =
            fn.getArgAttrOfType<IntegerAttr>(i, LLMDialect::kLayerAttrName))
      arg["layer"] = layer.getInt();
    if (auto memref = dyn_cast<MemRefType>(type)) {
      arg["kind"] = "buffer";
      arg["dtype"] = llm::cpu::dtypeName(memref.getElementType());
      arg["shape"] = shapeOf(memref.getShape());
    } else {
      arg["kind"] = "scalar";
      arg["dtype"] = llm::cpu::dtypeName(type);
    }
    args.push_back(std::move(arg));
  }
  return args;
}

llvm::json::Object llmc::buildManifest(func::FuncOp fn, bool generate,
                                       llvm::StringRef source,
                                       const llm::cpu::CpuTargetInfo &target,
                                       const llm::cpu::WeightsLayout &weights,
                                       llvm::StringRef prefillFunction) {
  llvm::json::Object manifest;
  manifest["format"] = "llmc-artifact";
  manifest["version"] = static_cast<int64_t>(artifact::kVersion);
  manifest["source"] = source.str();
  manifest["devices"] =
      llvm::json::Array{llvm::json::Object{{"kind", "cpu"},
                                           {"triple", target.triple},
                                           {"cpu", target.cpu},
                                           {"features", target.features}}};

  std::string symbol = (llm::cpu::kPackedPrefix + fn.getSymName()).str();
  llvm::json::Array args = describeArguments(fn);
  llvm::json::Array entries;
  std::string prefillSymbol =
      prefillFunction.empty()
          ? symbol
          : (llm::cpu::kPackedPrefix + prefillFunction).str();
  auto entry = [&](StringRef name) {
    return llvm::json::Object{
        {"name", name.str()},
        {"symbol", name == "prefill" ? prefillSymbol : symbol},
        {"device", 0},
        {"args", llvm::json::Array(args)}};
  };
  if (generate) {
    // One step function serves both (prefill with T prompt tokens, decode
    // with T = 1), or with KV prediction a prefill function that takes the
    // same arguments.
    entries.push_back(entry("prefill"));
    entries.push_back(entry("decode"));
    int64_t layers = 0, heads = 0, headDim = 0, vocab = -1;
    std::string dtype;
    for (auto [i, type] : llvm::enumerate(fn.getArgumentTypes())) {
      auto role = fn.getArgAttrOfType<StringAttr>(i, LLMDialect::kRoleAttrName);
      auto memref = dyn_cast<MemRefType>(type);
      if (!role || !memref)
        continue;
      if (role.getValue() == "key_cache") {
        ++layers;
        heads = memref.getDimSize(1);
        headDim = memref.getDimSize(3);
        dtype = llm::cpu::dtypeName(memref.getElementType());
      }
      if (role.getValue() == "output" && vocab < 0 && memref.getRank() == 3)
        vocab = memref.getDimSize(2);
    }
    // A quantized cache holds codes, bits/8 bytes per element, and a scale
    // per (batch, head, position) in key_scale/value_scale arguments.
    int64_t bits = 32;
    if (auto kvBits =
            fn->getAttrOfType<IntegerAttr>(LLMDialect::kKVBitsAttrName)) {
      bits = kvBits.getInt();
      headDim = headDim * 8 / bits;
    }
    manifest["kv_cache"] = llvm::json::Object{
        {"layers", layers},    {"num_kv_heads", heads},
        {"head_dim", headDim}, {"dtype", dtype},
        {"bits", bits},        {"layout", "batch,kv_head,position,head_dim"}};
    llvm::json::Object model{{"vocab_size", vocab}};
    if (auto max =
            fn->getAttrOfType<IntegerAttr>(LLMDialect::kMaxPositionsAttrName))
      model["max_positions"] = max.getInt();
    manifest["model"] = std::move(model);
  } else {
    entries.push_back(entry(fn.getSymName()));
  }
  manifest["entry_points"] = std::move(entries);

  llvm::json::Array tensors;
  for (const llm::cpu::WeightTensor &w : weights.tensors)
    tensors.push_back(
        llvm::json::Object{{"name", w.name},
                           {"dtype", w.dtype},
                           {"shape", shapeOf(w.shape)},
                           {"offset", w.offset},
                           {"bytes", static_cast<int64_t>(w.data.size())}});
  manifest["weights"] = llvm::json::Object{{"bytes", weights.totalBytes},
                                           {"tensors", std::move(tensors)}};
  return manifest;
}
