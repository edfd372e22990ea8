//===- Quantize.cpp - llm-quantize ----------------------------------------===//
//
// Linear layers with constant weights become llm.quantized_linear over
// group-wise integer codes computed here at compile time (the arithmetic
// is lib/Quant/GroupQuant, shared with the tests and reports).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/QuantizeKVCache.h"

#include "dialects/llm/ConstantData.h"
#include "lib/Quant/BitMod.h"
#include "lib/Quant/GroupQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMQUANTIZE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The group size for a row of `k` inputs, or an error.
FailureOr<int64_t> chooseGroup(int64_t option, int64_t k, std::string &why) {
  if (option == 0)
    return k;
  if (option > 0) {
    if (k % option == 0)
      return option;
    why = "group-size " + std::to_string(option) +
          " does not divide the layer's " + std::to_string(k) + " inputs";
    return failure();
  }
  if (option != -1) {
    why = "group-size must be > 0, 0 (per-channel) or -1 (automatic), got " +
          std::to_string(option);
    return failure();
  }
  if (k <= 128)
    return k;
  for (int64_t g = 128; g >= 8; g -= 8)
    if (k % g == 0)
      return g;
  why = "no group of 8 to 128 inputs divides the layer's " + std::to_string(k) +
        " inputs; give group-size=0 (per-channel)";
  return failure();
}

struct QuantizePass : llm::impl::LLMQuantizeBase<QuantizePass> {
  using LLMQuantizeBase::LLMQuantizeBase;

  void runOnOperation() override {
    if (weights != "int" && weights != "ternary" && weights != "bitmod" &&
        weights != "none") {
      getOperation()->emitError()
          << "llm-quantize: unknown weights format '" << weights
          << "' (known: int, ternary, bitmod, none)";
      return signalPassFailure();
    }
    if (kv != 0 && kv != 8 && kv != 4) {
      getOperation()->emitError()
          << "llm-quantize: kv must be 0 (f32 cache), 8 or 4, got "
          << kv.getValue();
      return signalPassFailure();
    }
    if (bitMod() && asymmetric) {
      getOperation()->emitError() << "llm-quantize: weights=bitmod picks a "
                                     "grid per group; asymmetric does not "
                                     "apply";
      return signalPassFailure();
    }
    if (ternary() && (groupSize != -1 || asymmetric)) {
      getOperation()->emitError()
          << "llm-quantize: weights=ternary has one scale per tensor; "
             "group-size and asymmetric do not apply";
      return signalPassFailure();
    }
    if (bitMod() && bits != 0 && !llmc::quant::bitModSupports(bits)) {
      getOperation()->emitError()
          << "llm-quantize: unsupported bit width " << bits.getValue()
          << " for weights=bitmod (supported: 3, 4)";
      return signalPassFailure();
    }
    if (weights == "int" && bits != 0 && bits != 2 && bits != 3 && bits != 4 &&
        bits != 8) {
      getOperation()->emitError()
          << "llm-quantize: unsupported bit width " << bits.getValue()
          << " (supported: 2, 3, 4, 8)";
      return signalPassFailure();
    }
    if (activations != 0 && activations != 8) {
      getOperation()->emitError()
          << "llm-quantize: activations must be 0 (floating point) or 8 "
             "(int8 per token), got "
          << activations.getValue();
      return signalPassFailure();
    }
    if (kv != 0 && failed(quantizeKVCaches()))
      return signalPassFailure();
    llvm::json::Array layers;
    SmallVector<LinearOp> linears;
    if (weights != "none")
      getOperation()->walk([&](LinearOp op) { linears.push_back(op); });
    for (LinearOp op : linears)
      if (failed(quantize(op, layers)))
        return signalPassFailure();
    if (!report.empty() && failed(writeReport(std::move(layers))))
      return signalPassFailure();
  }

  /// kv=8/4: every step function's KV cache; there must be one.
  LogicalResult quantizeKVCaches() {
    // The walk visits the pass's own op too (a function, or a module).
    SmallVector<func::FuncOp> functions;
    getOperation()->walk([&](func::FuncOp fn) { functions.push_back(fn); });
    bool any = false;
    for (func::FuncOp fn : functions) {
      bool changed = false;
      if (failed(quantizeKVCache(fn, kv, changed)))
        return failure();
      any |= changed;
    }
    if (!any)
      return getOperation()->emitError()
             << "llm-quantize: kv=" << kv.getValue()
             << " needs a step function over a KV cache (key_cache/"
                "value_cache arguments; run llm-synthesize-kv-cache first)";
    return success();
  }

  bool ternary() const { return weights == "ternary"; }
  bool bitMod() const { return weights == "bitmod"; }
  /// The bits of the codes: 2 for ternary, else `bits` or the format's
  /// default (bitmod 4, int 8).
  int64_t codeBits() const {
    if (ternary())
      return 2;
    if (bits != 0)
      return bits;
    return bitMod() ? 4 : 8;
  }

  LogicalResult quantize(LinearOp op, llvm::json::Array &layers) {
    auto constant = op.getWeight().getDefiningOp<arith::ConstantOp>();
    auto type = op.getWeight().getType();
    // Weights computed at run time stay as they are.
    if (!constant || !type.hasStaticShape() || !type.getElementType().isF32())
      return success();
    auto attr = dyn_cast<ElementsAttr>(constant.getValue());
    std::optional<ArrayRef<char>> bytes =
        attr ? constantBytes(attr) : std::nullopt;
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    std::string name = constantName(constant, "weight");
    if (!bytes || static_cast<int64_t>(bytes->size()) != n * k * 4)
      return op.emitError() << "llm-quantize: the data of weight '" << name
                            << "' is not available";
    std::string why;
    int64_t codeBits = this->codeBits();
    FailureOr<int64_t> group =
        chooseGroup(ternary() ? 0 : groupSize.getValue(), k, why);
    llmc::quant::GroupScheme scheme{static_cast<int>(codeBits),
                                    group.value_or(0), asymmetric};
    if (succeeded(group))
      why = llmc::quant::checkScheme(scheme, n, k);
    if (!why.empty())
      return op.emitError() << "llm-quantize: cannot quantize weight '" << name
                            << "' [" << n << ", " << k << "] to "
                            << (ternary()  ? std::string("ternary")
                                : bitMod() ? "bitmod" + std::to_string(codeBits)
                                           : std::to_string(codeBits) + " bits")
                            << ": " << why;
    const float *w = reinterpret_cast<const float *>(bytes->data());
    llmc::quant::BitModQuantized mod;
    if (bitMod())
      mod = llmc::quant::quantizeBitMod(w, n, k, *group,
                                        static_cast<int>(codeBits));
    // BitMoD's codes and scales are laid out as the integer ones.
    const llmc::quant::GroupQuantized q =
        bitMod()    ? mod
        : ternary() ? llmc::quant::quantizeTernary(w, n, k)
                    : llmc::quant::quantizeGroupwise(w, n, k, scheme);
    double nmse = bitMod() ? llmc::quant::weightNmse(w, mod)
                           : llmc::quant::weightNmse(w, q);

    OpBuilder b(op);
    Location loc = op.getLoc();
    std::string tag = ternary()  ? "_t"
                      : bitMod() ? "_m"
                                 : "_q" + std::to_string(codeBits);
    auto i8 = b.getIntegerType(8);
    auto asChars = [](const auto &v) {
      return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                            v.size() * sizeof(v[0]));
    };
    Value codes =
        bytesConstant(b, loc, RankedTensorType::get({n, k * codeBits / 8}, i8),
                      name + tag + "_codes", asChars(q.codes));
    auto groupsType = [&](Type element) {
      return RankedTensorType::get({n, q.groups()}, element);
    };
    Value scales = bytesConstant(b, loc, groupsType(b.getF32Type()),
                                 name + tag + "_scales", asChars(q.scales));
    Value zeros, codebook, datatypes;
    if (asymmetric)
      zeros = bytesConstant(b, loc, groupsType(i8), name + tag + "_zeros",
                            asChars(q.zeroPoints));
    if (bitMod()) {
      std::vector<float> grids;
      for (const auto &grid :
           llmc::quant::bitModGrids(static_cast<int>(codeBits)))
        grids.insert(grids.end(), grid.begin(), grid.end());
      codebook = bytesConstant(
          b, loc,
          RankedTensorType::get(
              {llmc::quant::kBitModDatatypes, int64_t{1} << codeBits},
              b.getF32Type()),
          "bitmod" + std::to_string(codeBits) + "_grids", asChars(grids));
      datatypes =
          bytesConstant(b, loc, groupsType(i8), name + tag + "_datatypes",
                        asChars(mod.datatypes));
    }
    Value y = QuantizedLinearOp::create(
        b, loc, op.getType(), op.getInput(), codes, scales, zeros, codebook,
        datatypes, op.getBias(), b.getI64IntegerAttr(codeBits),
        b.getI64IntegerAttr(q.groupSize),
        activations ? b.getI64IntegerAttr(activations) : IntegerAttr());
    op.replaceAllUsesWith(y);
    op.erase();
    if (constant->use_empty())
      constant.erase();
    if (!report.empty())
      layers.push_back(llvm::json::Object{{"weight", name},
                                          {"shape", llvm::json::Array{n, k}},
                                          {"bits", codeBits},
                                          {"group_size", q.groupSize},
                                          {"asymmetric", asymmetric.getValue()},
                                          {"weight_nmse", nmse}});
    return success();
  }

  LogicalResult writeReport(llvm::json::Array layers) {
    llvm::json::Object root{{"scheme",
                             llvm::json::Object{
                                 {"weights", weights.getValue()},
                                 {"bits", codeBits()},
                                 {"group_size", groupSize.getValue()},
                                 {"asymmetric", asymmetric.getValue()},
                                 {"activation_bits", activations.getValue()},
                             }},
                            {"layers", std::move(layers)}};
    std::error_code ec;
    llvm::raw_fd_ostream file(report, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return getOperation()->emitError() << "llm-quantize: cannot write '"
                                         << report << "': " << ec.message();
    file << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
    return success();
  }
};

} // namespace
