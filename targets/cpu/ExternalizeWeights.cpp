//===- ExternalizeWeights.cpp - constants into a weights buffer -----------===//
//
// An artifact keeps its weights in a file the runtime maps, not inside the
// shared object: constants become views into one byte buffer argument.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/ExternalizeWeights.h"
#include "targets/cpu/Passes.h"

#include "dialects/llm/ConstantData.h"
#include "dialects/llm/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUEXTERNALIZEWEIGHTS
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::cpu;

namespace {

/// Element types the weights section holds: whole bytes, fixed layout.
bool storable(Type t) {
  if (t.isF32() || t.isF16() || t.isBF16() || t.isF64())
    return true;
  auto i = dyn_cast<IntegerType>(t);
  return i && llvm::is_contained({8u, 16u, 32u, 64u}, i.getWidth());
}

std::string weightName(Location loc, size_t index) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner))
        return name.getName().str();
  return "w" + std::to_string(index);
}

struct ExternalizeWeightsPass
    : llm::cpu::impl::LLMCpuExternalizeWeightsBase<ExternalizeWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(externalizeWeights(getOperation(), minBytes)))
      signalPassFailure();
  }
};

} // namespace

std::string mlir::llm::cpu::dtypeName(Type t) {
  if (t.isIndex())
    return "index";
  if (t.isF32())
    return "f32";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isF64())
    return "f64";
  if (auto i = dyn_cast<IntegerType>(t))
    return (i.isUnsigned() ? "u" : "i") + std::to_string(i.getWidth());
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

FailureOr<WeightsLayout> mlir::llm::cpu::externalizeWeights(ModuleOp module,
                                                            int64_t minBytes) {
  WeightsLayout layout;
  llvm::DenseMap<Attribute, size_t> known;
  MLIRContext *ctx = module.getContext();
  auto bytesType =
      MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8));
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isPrivate() || fn.isExternal())
      continue;
    SmallVector<arith::ConstantOp> constants;
    fn.walk([&](arith::ConstantOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getType());
      auto value = dyn_cast<ElementsAttr>(op.getValue());
      if (!type || !value || !type.hasStaticShape() ||
          !storable(type.getElementType()))
        return;
      int64_t bytes =
          type.getNumElements() * (type.getElementTypeBitWidth() / 8);
      std::optional<ArrayRef<char>> data = constantBytes(value);
      if (bytes < minBytes || !data)
        return;
      if (static_cast<int64_t>(data->size()) != bytes) {
        op.emitWarning() << "constant data holds " << data->size()
                         << " bytes for " << bytes << "; kept inline";
        return;
      }
      constants.push_back(op);
    });
    if (constants.empty())
      continue;
    Block &body = fn.getBody().front();
    NamedAttrList roleAttrs;
    roleAttrs.set(LLMDialect::kRoleAttrName,
                  StringAttr::get(ctx, kWeightsRole));
    unsigned argIndex = fn.getNumArguments();
    if (failed(fn.insertArgument(argIndex, bytesType,
                                 roleAttrs.getDictionary(ctx), fn.getLoc())))
      return failure();
    Value weights = body.getArgument(argIndex);
    OpBuilder b(ctx);
    for (arith::ConstantOp op : constants) {
      auto type = cast<RankedTensorType>(op.getType());
      auto [it, inserted] = known.try_emplace(op.getValue(), 0);
      if (inserted) {
        WeightTensor w;
        w.name = weightName(op.getLoc(), layout.tensors.size());
        w.dtype = dtypeName(type.getElementType());
        w.shape.assign(type.getShape().begin(), type.getShape().end());
        w.data = *constantBytes(cast<ElementsAttr>(op.getValue()));
        w.offset = llvm::alignTo(layout.totalBytes, kWeightAlignment);
        layout.totalBytes = w.offset + static_cast<int64_t>(w.data.size());
        it->second = layout.tensors.size();
        layout.tensors.push_back(std::move(w));
      }
      const WeightTensor &w = layout.tensors[it->second];
      b.setInsertionPoint(op);
      Location loc = op.getLoc();
      Value shift = arith::ConstantIndexOp::create(b, loc, w.offset);
      Value view = memref::ViewOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          weights, shift, ValueRange{});
      Value tensor = bufferization::ToTensorOp::create(b, loc, type, view,
                                                       /*restrict=*/true);
      op.replaceAllUsesWith(tensor);
      op.erase();
    }
  }
  return layout;
}
