//===- KVPredict.cpp - llm-kv-predict
//--------------------------------------===//
//
// KV Prediction (Apple, techniques.md §9): the prompt's KV cache of the base
// model is predicted from a smaller auxiliary model's, so that the first
// token costs the auxiliary model over the prompt plus one base step.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/LLMDialect.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMKVPREDICT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// What a step function takes and returns, by role.
struct StepShape {
  unsigned tokens = 0, position = 0, mask = 0;
  /// Hugging Face / genai inputs the runtime fills ([B, keys], [B, T]).
  std::optional<unsigned> attentionMask, positionIds;
  SmallVector<unsigned> caches; // argument numbers: key 0, value 0, key 1...
  RankedTensorType logits;
};

FailureOr<StepShape> readStep(func::FuncOp fn, StringRef what) {
  StepShape s;
  bool tokens = false, position = false, mask = false;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto role = fn.getArgAttrOfType<StringAttr>(i, LLMDialect::kRoleAttrName);
    auto name = fn.getArgAttrOfType<StringAttr>(i, LLMDialect::kNameAttrName);
    if (!role) {
      StringRef input = name ? name.getValue() : "";
      if (input == "attention_mask" && !s.attentionMask) {
        s.attentionMask = i;
        continue;
      }
      if (input == "position_ids" && !s.positionIds) {
        s.positionIds = i;
        continue;
      }
      if (tokens || input != "input_ids")
        return fn.emitError()
               << what << " @" << fn.getSymName()
               << ": llm-kv-predict supports models whose inputs are "
                  "input_ids, attention_mask and position_ids (argument "
               << i << " is another)";
      s.tokens = i;
      tokens = true;
    } else if (role.getValue() == "position") {
      s.position = i;
      position = true;
    } else if (role.getValue() == "kv_mask") {
      s.mask = i;
      mask = true;
    } else if (role.getValue() == "key_cache" ||
               role.getValue() == "value_cache") {
      s.caches.push_back(i);
    }
  }
  if (!tokens || !position || !mask || s.caches.empty() ||
      s.caches.size() % 2 != 0 || fn.getNumResults() != 1 + s.caches.size())
    return fn.emitError() << what << " @" << fn.getSymName()
                          << " is not a step function over a KV cache (run "
                             "llm-synthesize-kv-cache first)";
  s.logits = dyn_cast<RankedTensorType>(fn.getResultTypes()[0]);
  if (!s.logits || s.logits.getRank() != 3)
    return fn.emitError() << what << " @" << fn.getSymName()
                          << ": its first result is not logits [B, T, V]";
  return s;
}

RankedTensorType cacheType(func::FuncOp fn, unsigned arg) {
  return cast<RankedTensorType>(fn.getArgumentTypes()[arg]);
}

/// `args` cast to the parameter types of `fn` and called.
func::CallOp call(OpBuilder &b, Location loc, func::FuncOp fn,
                  ArrayRef<Value> args) {
  SmallVector<Value> cast;
  for (auto [v, type] : llvm::zip(args, fn.getArgumentTypes()))
    cast.push_back(v.getType() == type
                       ? v
                       : tensor::CastOp::create(b, loc, type, v).getResult());
  return func::CallOp::create(b, loc, fn, cast);
}

/// A slice [0:sizes) of `v`.
Value prefix(OpBuilder &b, Location loc, Value v,
             ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<OpFoldResult> zeros(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(type.getRank(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, v, zeros, sizes, ones);
}

/// keys [B, Ha, P, Da] -> [B, H, P, D] through W [H·D, Ha·Da] per position.
Value predict(OpBuilder &b, Location loc, Value kv, Value weight,
              RankedTensorType baseCache) {
  auto t = cast<RankedTensorType>(kv.getType());
  int64_t ha = t.getDimSize(1), da = t.getDimSize(3);
  int64_t h = baseCache.getDimSize(1), d = baseCache.getDimSize(3);
  Type f32 = t.getElementType();
  OpFoldResult batch = tensor::getMixedSize(b, loc, kv, 0),
               positions = tensor::getMixedSize(b, loc, kv, 2);
  auto empty = [&](ArrayRef<int64_t> shape, ArrayRef<OpFoldResult> sizes) {
    SmallVector<Value> dynamic;
    for (auto [i, size] : llvm::enumerate(sizes))
      if (ShapedType::isDynamic(shape[i]))
        dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
    return tensor::EmptyOp::create(b, loc, RankedTensorType::get(shape, f32),
                                   dynamic);
  };
  int64_t dynB = t.getDimSize(0), dynP = t.getDimSize(2);
  Value tokensFirst =
      linalg::TransposeOp::create(
          b, loc, kv,
          empty({dynB, dynP, ha, da},
                {batch, positions, b.getIndexAttr(ha), b.getIndexAttr(da)}),
          ArrayRef<int64_t>{0, 2, 1, 3})
          .getResult()[0];
  Value rows = tensor::CollapseShapeOp::create(
      b, loc, tokensFirst, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  Value mapped =
      LinearOp::create(b, loc, RankedTensorType::get({dynB, dynP, h * d}, f32),
                       rows, weight, Value());
  Value split = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({dynB, dynP, h, d}, f32), mapped,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}},
      SmallVector<OpFoldResult>{batch, positions, b.getIndexAttr(h),
                                b.getIndexAttr(d)});
  return linalg::TransposeOp::create(
             b, loc, split,
             empty({dynB, h, dynP, d},
                   {batch, b.getIndexAttr(h), positions, b.getIndexAttr(d)}),
             ArrayRef<int64_t>{0, 2, 1, 3})
      .getResult()[0];
}

struct KVPredictPass : public llm::impl::LLMKVPredictBase<KVPredictPass> {
  using LLMKVPredictBase::LLMKVPredictBase;

  /// The constant a predictor function returns, checked against `shape`.
  FailureOr<Value> predictorWeight(OpBuilder &b, Location loc, StringRef name,
                                   ArrayRef<int64_t> shape) {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    if (!fn || fn.isExternal())
      return module.emitError()
             << "llm-kv-predict: no predictor function @" << name
             << " (the auxiliary KV differs from the base's; give a "
                "predictor or matching models)";
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    auto constant = ret.getNumOperands() == 1
                        ? ret.getOperand(0).getDefiningOp<arith::ConstantOp>()
                        : arith::ConstantOp();
    auto type = constant ? dyn_cast<RankedTensorType>(constant.getType())
                         : RankedTensorType();
    if (!type || type.getShape() != shape)
      return fn.emitError()
             << "the predictor @" << name << " must return one constant tensor<"
             << shape[0] << "x" << shape[1] << "xf32>";
    return arith::ConstantOp::create(b, loc, constant.getValue()).getResult();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto baseFn = module.lookupSymbol<func::FuncOp>(base);
    auto auxFn = module.lookupSymbol<func::FuncOp>(aux);
    if (!baseFn || !auxFn) {
      module.emitError() << "llm-kv-predict: no function @"
                         << (baseFn ? aux : base);
      return signalPassFailure();
    }
    FailureOr<StepShape> baseStep = readStep(baseFn, "the base model");
    FailureOr<StepShape> auxStep = readStep(auxFn, "the auxiliary model");
    if (failed(baseStep) || failed(auxStep))
      return signalPassFailure();
    int64_t baseLayers = baseStep->caches.size() / 2,
            auxLayers = auxStep->caches.size() / 2;
    if (static_cast<int64_t>(layers.size()) != baseLayers) {
      module.emitError() << "llm-kv-predict: the layer map has "
                         << layers.size() << " entries, the base model has "
                         << baseLayers << " layers";
      return signalPassFailure();
    }
    for (auto [l, a] : llvm::enumerate(layers))
      if (a < 0 || a >= auxLayers) {
        module.emitError() << "llm-kv-predict: the layer map sends base layer "
                           << l << " to auxiliary layer " << a
                           << ", but the auxiliary model has " << auxLayers
                           << " layers";
        return signalPassFailure();
      }
    int64_t vocab = baseStep->logits.getDimSize(2);
    if (auxStep->logits.getDimSize(2) != vocab) {
      module.emitError() << "llm-kv-predict: the auxiliary model's vocabulary ("
                         << auxStep->logits.getDimSize(2)
                         << ") is not the base model's (" << vocab << ")";
      return signalPassFailure();
    }

    if ((auxStep->attentionMask && !baseStep->attentionMask) ||
        (auxStep->positionIds && !baseStep->positionIds)) {
      module.emitError() << "llm-kv-predict: the auxiliary model takes "
                         << (auxStep->attentionMask && !baseStep->attentionMask
                                 ? "attention_mask"
                                 : "position_ids")
                         << ", the base model does not";
      return signalPassFailure();
    }
    if (identity)
      for (int64_t l = 0; l < baseLayers; ++l) {
        RankedTensorType baseType = cacheType(baseFn, baseStep->caches[2 * l]);
        RankedTensorType auxType =
            cacheType(auxFn, auxStep->caches[2 * layers[l]]);
        if (auxType.getDimSize(1) != baseType.getDimSize(1) ||
            auxType.getDimSize(3) != baseType.getDimSize(3)) {
          module.emitError()
              << "llm-kv-predict: auxiliary layer " << layers[l] << " has "
              << auxType.getDimSize(1) << "x" << auxType.getDimSize(3)
              << " KV heads x dims, base layer " << l << " has "
              << baseType.getDimSize(1) << "x" << baseType.getDimSize(3)
              << ": an identity predictor cannot map them";
          return signalPassFailure();
        }
      }

    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    b.setInsertionPointAfter(baseFn);
    Location loc = baseFn.getLoc();
    auto fn = func::FuncOp::create(b, loc, entry, baseFn.getFunctionType());
    fn.setAllArgAttrs(baseFn.getAllArgAttrs());
    fn.setAllResultAttrs(baseFn.getAllResultAttrs());
    if (Attribute max = baseFn->getAttr(LLMDialect::kMaxPositionsAttrName))
      fn->setAttr(LLMDialect::kMaxPositionsAttrName, max);
    Block *body = fn.addEntryBlock();
    b.setInsertionPointToStart(body);
    auto args = body->getArguments();
    Value tokens = args[baseStep->tokens], position = args[baseStep->position],
          mask = args[baseStep->mask];
    auto index = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value batch = tensor::DimOp::create(b, loc, tokens, 0);
    Value steps = tensor::DimOp::create(b, loc, tokens, 1);
    Value predicted = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, position,
                              index(0)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, steps,
                              index(1)));
    auto branch = scf::IfOp::create(b, loc, baseFn.getResultTypes(), predicted,
                                    /*withElseRegion=*/true);
    // Else: the base step as it is.
    b.setInsertionPointToStart(&branch.getElseRegion().front());
    auto plain = call(b, loc, baseFn, SmallVector<Value>(args));
    scf::YieldOp::create(b, loc, plain.getResults());

    // Then: the auxiliary model over T - 1 tokens, predicted KV, one base
    // step.
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    Value known = arith::SubIOp::create(b, loc, steps, index(1));
    Value head = prefix(b, loc, tokens, {batch, known});
    Value capacity =
        tensor::DimOp::create(b, loc, args[baseStep->caches[0]], 2);
    // The mask and positions the runtime filled, for the first T - 1
    // tokens (at position 0 the mask covers exactly the prompt).
    auto columns = [&](unsigned arg, OpFoldResult from, OpFoldResult count) {
      return tensor::ExtractSliceOp::create(
                 b, loc, args[arg],
                 ArrayRef<OpFoldResult>{b.getIndexAttr(0), from},
                 ArrayRef<OpFoldResult>{OpFoldResult(batch), count},
                 ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)})
          .getResult();
    };
    SmallVector<Value> auxArgs(auxFn.getNumArguments());
    auxArgs[auxStep->tokens] = head;
    if (auxStep->attentionMask)
      auxArgs[*auxStep->attentionMask] =
          columns(*baseStep->attentionMask, b.getIndexAttr(0), known);
    if (auxStep->positionIds)
      auxArgs[*auxStep->positionIds] =
          columns(*baseStep->positionIds, b.getIndexAttr(0), known);
    auxArgs[auxStep->position] = position;
    auxArgs[auxStep->mask] = mask;
    for (unsigned arg : auxStep->caches) {
      auto type = cacheType(auxFn, arg);
      auto full =
          RankedTensorType::get({ShapedType::kDynamic, type.getDimSize(1),
                                 ShapedType::kDynamic, type.getDimSize(3)},
                                type.getElementType());
      Value zero = arith::ConstantOp::create(
          b, loc, b.getFloatAttr(type.getElementType(), 0.0));
      Value cache = linalg::FillOp::create(
                        b, loc, ValueRange{zero},
                        ValueRange{tensor::EmptyOp::create(
                            b, loc, full, ValueRange{batch, capacity})})
                        .getResult(0);
      auxArgs[arg] =
          type == full
              ? cache
              : tensor::CastOp::create(b, loc, type, cache).getResult();
    }
    auto auxCall = call(b, loc, auxFn, auxArgs);
    SmallVector<Value> baseArgs(args.begin(), args.end());
    for (int64_t l = 0; l < baseLayers; ++l)
      for (int kv = 0; kv < 2; ++kv) {
        unsigned baseArg = baseStep->caches[2 * l + kv];
        RankedTensorType baseType = cacheType(baseFn, baseArg);
        Value source = auxCall.getResult(1 + 2 * layers[l] + kv);
        auto auxType = cast<RankedTensorType>(source.getType());
        Value kvs = prefix(b, loc, source,
                           {batch, b.getIndexAttr(auxType.getDimSize(1)), known,
                            b.getIndexAttr(auxType.getDimSize(3))});
        if (!identity) {
          std::string name =
              (Twine("kv_predictor_") + (kv ? "value_" : "key_") + Twine(l))
                  .str();
          FailureOr<Value> weight =
              predictorWeight(b, loc, name,
                              {baseType.getDimSize(1) * baseType.getDimSize(3),
                               auxType.getDimSize(1) * auxType.getDimSize(3)});
          if (failed(weight))
            return signalPassFailure();
          kvs = predict(b, loc, kvs, *weight, baseType);
        }
        SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0));
        SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
        baseArgs[baseArg] = tensor::InsertSliceOp::create(
            b, loc, kvs, args[baseArg], zeros,
            tensor::getMixedSizes(b, loc, kvs), ones);
      }
    baseArgs[baseStep->tokens] = tensor::ExtractSliceOp::create(
        b, loc, tokens,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), OpFoldResult(known)},
        ArrayRef<OpFoldResult>{OpFoldResult(batch), b.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    baseArgs[baseStep->position] = known;
    if (baseStep->positionIds)
      baseArgs[*baseStep->positionIds] =
          columns(*baseStep->positionIds, known, b.getIndexAttr(1));
    auto last = call(b, loc, baseFn, baseArgs);
    // Only the last position's logits are computed (the first token); the
    // earlier ones are zero, so the auxiliary model's LM head is dead code.
    Value lastLogits = last.getResult(0);
    auto lastType = cast<RankedTensorType>(lastLogits.getType());
    Value zero = arith::ConstantOp::create(
        b, loc, b.getFloatAttr(lastType.getElementType(), 0.0));
    Value before = linalg::FillOp::create(
                       b, loc, ValueRange{zero},
                       ValueRange{tensor::EmptyOp::create(
                           b, loc,
                           RankedTensorType::get({ShapedType::kDynamic,
                                                  ShapedType::kDynamic, vocab},
                                                 lastType.getElementType()),
                           ValueRange{batch, known})})
                       .getResult(0);
    Value logits =
        tensor::ConcatOp::create(b, loc, 1, ValueRange{before, lastLogits});
    SmallVector<Value> results = {
        tensor::CastOp::create(b, loc, baseStep->logits, logits)};
    llvm::append_range(results, last.getResults().drop_front());
    scf::YieldOp::create(b, loc, results);

    b.setInsertionPointAfter(branch);
    func::ReturnOp::create(b, loc, branch.getResults());
    auxFn.setPrivate();
    // The predictors now live in the entry.
    SmallVector<func::FuncOp> predictors;
    for (auto f : module.getOps<func::FuncOp>())
      if (f.getSymName().starts_with("kv_predictor_"))
        predictors.push_back(f);
    for (func::FuncOp f : predictors)
      f.erase();
  }
};

} // namespace
