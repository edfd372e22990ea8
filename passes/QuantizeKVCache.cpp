//===- QuantizeKVCache.cpp - int8/int4 KV cache of a step function --------===//
//
// A cache argument [B, H, S, D] f32 becomes codes [B, H, S, D·bits/8] i8 and
// scales [B, H, S] f32. The step function only writes a cache with
// tensor.insert_slice (new keys/values at the position) and reads it with
// tensor.extract_slice (the prefix attention sees); each becomes the same
// slice of the codes and of the scales, with llm.kv_quantize on the way in
// and llm.kv_dequantize on the way out. Whole rows of D are quantized
// together: one scale per (batch, head, position).
//
//===----------------------------------------------------------------------===//

#include "passes/QuantizeKVCache.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::llm;

namespace {

/// A unit-stride slice over whole rows of D of a [B, H, S, D] cache.
bool coversRows(OffsetSizeAndStrideOpInterface slice, int64_t headDim) {
  if (!slice.hasUnitStride() || slice.getMixedOffsets().size() != 4)
    return false;
  std::optional<int64_t> offset =
      getConstantIntValue(slice.getMixedOffsets()[3]);
  std::optional<int64_t> size = getConstantIntValue(slice.getMixedSizes()[3]);
  return offset == 0 && size == headDim;
}

/// Slices of the codes ([.., D·bits/8]) and scales ([b, h, t]) that match
/// a slice of the f32 cache.
struct SlicePlan {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  SmallVector<OpFoldResult> scaleOffsets, scaleSizes, scaleStrides;
};
SlicePlan planSlice(OpBuilder &b, OffsetSizeAndStrideOpInterface slice,
                    int64_t codeBytes) {
  SlicePlan p;
  p.offsets = slice.getMixedOffsets();
  p.sizes = slice.getMixedSizes();
  p.strides = slice.getMixedStrides();
  p.sizes[3] = b.getIndexAttr(codeBytes);
  p.scaleOffsets.assign(p.offsets.begin(), p.offsets.begin() + 3);
  p.scaleSizes.assign(p.sizes.begin(), p.sizes.begin() + 3);
  p.scaleStrides.assign(p.strides.begin(), p.strides.begin() + 3);
  return p;
}

} // namespace

LogicalResult mlir::llm::quantizeKVCache(func::FuncOp fn, int64_t bits,
                                         bool &changed) {
  changed = false;
  if (fn.isDeclaration())
    return success();
  MLIRContext *ctx = fn.getContext();
  Block &body = fn.getBody().front();
  SmallVector<BlockArgument> caches;
  for (BlockArgument arg : body.getArguments()) {
    auto role = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                LLMDialect::kRoleAttrName);
    if (role &&
        (role.getValue() == "key_cache" || role.getValue() == "value_cache"))
      caches.push_back(arg);
  }
  if (caches.empty())
    return success();
  changed = true;
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  OpBuilder b(ctx);

  // Scale arguments go after all others, so tied_arg indices stay valid.
  struct Tracked {
    Value f32Cache; // the value as the function used it (now retyped)
    Value codes, scales;
  };
  // Each returned cache's final scales and its scale argument.
  SmallVector<std::pair<Value, unsigned>> scaleResults;
  for (BlockArgument cache : caches) {
    unsigned index = cache.getArgNumber();
    auto type = dyn_cast<RankedTensorType>(cache.getType());
    StringRef role =
        fn.getArgAttrOfType<StringAttr>(index, LLMDialect::kRoleAttrName)
            .getValue();
    auto layer =
        fn.getArgAttrOfType<IntegerAttr>(index, LLMDialect::kLayerAttrName);
    if (!type || type.getRank() != 4 || !type.getElementType().isF32() ||
        ShapedType::isDynamic(type.getDimSize(3)))
      return fn.emitError() << "argument " << index << " (" << role
                            << ") must be a [B, H, S, D] f32 tensor with a "
                               "static D to quantize, got "
                            << cache.getType();
    int64_t headDim = type.getDimSize(3);
    if (headDim * bits % 8 != 0)
      return fn.emitError()
             << "argument " << index << " (" << role
             << "): a head dimension of " << headDim
             << " does not fill bytes of " << bits << "-bit codes";
    int64_t codeBytes = headDim * bits / 8;
    RankedTensorType codeType = KVQuantizeOp::codesType(type, bits);
    RankedTensorType scaleType = KVQuantizeOp::scalesType(type);
    NamedAttrList scaleAttrs;
    std::string scaleRole = role == "key_cache" ? "key_scale" : "value_scale";
    scaleAttrs.append(LLMDialect::kRoleAttrName, b.getStringAttr(scaleRole));
    if (layer)
      scaleAttrs.append(LLMDialect::kLayerAttrName, layer);
    unsigned scaleIndex = fn.getNumArguments();
    if (failed(fn.insertArgument(scaleIndex, scaleType,
                                 scaleAttrs.getDictionary(ctx),
                                 cache.getLoc())))
      return failure();
    cache.setType(codeType);

    SmallVector<Tracked> work = {{cache, cache, body.getArgument(scaleIndex)}};
    while (!work.empty()) {
      Tracked t = work.pop_back_val();
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : t.f32Cache.getUses())
        uses.push_back(&use);
      for (OpOperand *use : uses) {
        Operation *user = use->getOwner();
        b.setInsertionPoint(user);
        Location loc = user->getLoc();
        if (auto insert = dyn_cast<tensor::InsertSliceOp>(user);
            insert && use->getOperandNumber() == 1 &&
            coversRows(insert, headDim)) {
          Value src = insert.getSource();
          if (insert.getSourceType().getRank() != 4)
            return insert.emitError()
                   << "KV cache quantization: the keys/values written to "
                   << role << " must be [b, h, t, D]";
          auto quantized = KVQuantizeOp::create(b, loc, src, bits);
          Value c = quantized.getCodes(), s = quantized.getScales();
          SlicePlan p = planSlice(b, insert, codeBytes);
          Value codes = tensor::InsertSliceOp::create(
              b, loc, c, t.codes, p.offsets, p.sizes, p.strides);
          Value scales =
              tensor::InsertSliceOp::create(b, loc, s, t.scales, p.scaleOffsets,
                                            p.scaleSizes, p.scaleStrides);
          // Later users see the updated cache through the new values.
          work.push_back({insert.getResult(), codes, scales});
          continue;
        }
        if (auto extract = dyn_cast<tensor::ExtractSliceOp>(user);
            extract && coversRows(extract, headDim) &&
            extract.getType().getRank() == 4) {
          SlicePlan p = planSlice(b, extract, codeBytes);
          Value c = tensor::ExtractSliceOp::create(b, loc, t.codes, p.offsets,
                                                   p.sizes, p.strides);
          Value s = tensor::ExtractSliceOp::create(
              b, loc, t.scales, p.scaleOffsets, p.scaleSizes, p.scaleStrides);
          Value rows =
              KVDequantizeOp::create(b, loc, extract.getType(), c, s, bits);
          extract.getResult().replaceAllUsesWith(rows);
          extract.erase();
          continue;
        }
        if (auto dim = dyn_cast<tensor::DimOp>(user)) {
          std::optional<int64_t> d = dim.getConstantIndex();
          if (!d)
            return dim.emitError() << "KV cache quantization: a dimension of "
                                   << role << " at an unknown index";
          Value v = *d == 3
                        ? Value(arith::ConstantIndexOp::create(b, loc, headDim))
                        : Value(tensor::DimOp::create(b, loc, t.codes, *d));
          dim.getResult().replaceAllUsesWith(v);
          dim.erase();
          continue;
        }
        if (user == ret.getOperation()) {
          use->set(t.codes);
          scaleResults.push_back({t.scales, scaleIndex});
          continue;
        }
        return user->emitError()
               << "KV cache quantization: unsupported use of " << role
               << " (layer " << (layer ? layer.getInt() : -1)
               << "): only whole-row tensor.insert_slice/extract_slice, "
                  "tensor.dim and the return are rewritten";
      }
      // The f32 insert_slice is dead once its users moved to the codes.
      if (auto insert = t.f32Cache.getDefiningOp<tensor::InsertSliceOp>()) {
        if (!insert->use_empty())
          return insert.emitError("KV cache quantization left a use behind");
        insert.erase();
      }
    }
  }
  // Results: each cache's codes where it was, its scales appended, tied to
  // the scale argument.
  SmallVector<Value> results(ret.getOperands());
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    resultAttrs.push_back(fn.getResultAttrDict(i));
  for (auto [scales, scaleArg] : scaleResults) {
    results.push_back(scales);
    NamedAttrList attrs;
    attrs.append(LLMDialect::kRoleAttrName,
                 fn.getArgAttr(scaleArg, LLMDialect::kRoleAttrName));
    attrs.append(LLMDialect::kTiedArgAttrName, b.getI64IntegerAttr(scaleArg));
    resultAttrs.push_back(attrs.getDictionary(ctx));
  }
  b.setInsertionPoint(ret);
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  fn.setType(FunctionType::get(ctx, body.getArgumentTypes(), resultTypes));
  fn.setAllResultAttrs(resultAttrs);
  fn->setAttr(LLMDialect::kKVBitsAttrName, b.getI64IntegerAttr(bits));
  return success();
}
