//===- SynthesizeKVCache.cpp - llm-synthesize-kv-cache --------------------===//
//
// Turns a model function into the step function that prefill and decode
// share: every attention appends its keys and values to a preallocated cache
// argument in place and attends to the cached prefix. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMSYNTHESIZEKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The cache arguments of one attention.
struct LayerCache {
  AttentionOp attention;
  BlockArgument key, value;
  Value updatedKey, updatedValue;
};

/// `source[offsets...][sizes...]` with unit strides.
Value slice(OpBuilder &b, Location loc, Value source,
            ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                        strides);
}

/// [B, Hkv, length, D] sizes of a cache.
SmallVector<OpFoldResult> cacheSizes(OpBuilder &b, Location loc, Value cache,
                                     OpFoldResult length) {
  auto sizes = tensor::getMixedSizes(b, loc, cache);
  sizes[2] = length;
  return sizes;
}

/// The `llm.embedding`s that `value` reaches as their indices, through
/// reshapes, casts and broadcasts: those a position range indexes.
SmallVector<EmbeddingOp> embeddingsIndexedBy(Value value) {
  SmallVector<EmbeddingOp> found;
  SmallVector<Value> work = {value};
  llvm::SmallPtrSet<Value, 8> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (Operation *user : v.getUsers()) {
      if (auto embedding = dyn_cast<EmbeddingOp>(user)) {
        if (embedding.getIds() == v)
          found.push_back(embedding);
      } else if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                     tensor::CastOp, tensor::ExtractSliceOp,
                     linalg::BroadcastOp>(user)) {
        work.append(user->result_begin(), user->result_end());
      }
    }
  }
  return found;
}

struct SynthesizeKVCache
    : llm::impl::LLMSynthesizeKVCacheBase<SynthesizeKVCache> {
  using Base::Base;

  void runOnOperation() override {
    auto fn = getOperation().lookupSymbol<func::FuncOp>(func);
    if (!fn) {
      getOperation().emitError() << "no function @" << func << " to cache";
      return signalPassFailure();
    }
    if (failed(rewrite(fn)))
      return signalPassFailure();
  }

  LogicalResult rewrite(func::FuncOp fn) {
    SmallVector<AttentionOp> attentions;
    fn.walk([&](AttentionOp op) { attentions.push_back(op); });
    if (attentions.empty())
      return fn.emitError() << "@" << func
                            << " has no llm.attention whose keys and values "
                               "could be cached";
    bool decodeStyle = attentions.front().getPastKey() != nullptr;
    for (AttentionOp op : attentions) {
      // Without a mask of its own covering the cache, only a causal
      // attention can be computed step by step.
      if (!op.getCausal() && !(decodeStyle && op.getMask()))
        return op.emitError() << "cannot cache a non-causal attention";
      auto key = op.getKey().getType();
      auto value = op.getValue().getType();
      if (key.isDynamicDim(1) || key.isDynamicDim(3) || value.isDynamicDim(3))
        return op.emitError()
               << "cannot cache keys/values with dynamic heads or head size";
      if ((op.getPastKey() != nullptr) != decodeStyle)
        return op.emitError() << "some attentions have a past and some do "
                                 "not; cannot build one cache";
      if (op.getMask() && !decodeStyle)
        return op.emitError()
               << "cannot cache an attention with its own mask over the new "
                  "keys only (a plain export's mask does not cover the cache)";
      if (decodeStyle && (!isa<BlockArgument>(op.getPastKey()) ||
                          !isa<BlockArgument>(op.getPastValue())))
        return op.emitError()
               << "the past keys/values are not arguments of @" << func;
    }

    MLIRContext *ctx = fn.getContext();
    Block &body = fn.getBody().front();
    Location loc = fn.getLoc();
    Type element = attentions.front().getQuery().getType().getElementType();

    // New arguments: position, kv_mask, then a key and a value cache per
    // attention.
    unsigned firstNew = fn.getNumArguments();
    SmallVector<Type> newTypes = {
        IndexType::get(ctx),
        RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                              element)};
    SmallVector<DictionaryAttr> newAttrs = {roleAttrs(ctx, "position", -1),
                                            roleAttrs(ctx, "kv_mask", -1)};
    for (auto [layer, op] : llvm::enumerate(attentions)) {
      for (auto [kv, role] : {std::pair(op.getKey(), "key_cache"),
                              std::pair(op.getValue(), "value_cache")}) {
        auto t = cast<RankedTensorType>(kv.getType());
        newTypes.push_back(
            RankedTensorType::get({ShapedType::kDynamic, t.getDimSize(1),
                                   ShapedType::kDynamic, t.getDimSize(3)},
                                  t.getElementType()));
        newAttrs.push_back(roleAttrs(ctx, role, layer));
      }
    }
    SmallVector<unsigned> positions(newTypes.size(), firstNew);
    SmallVector<Location> locs(newTypes.size(), loc);
    if (failed(fn.insertArguments(positions, newTypes, newAttrs, locs)))
      return failure();
    Value position = body.getArgument(firstNew);
    Value kvMask = body.getArgument(firstNew + 1);
    SmallVector<LayerCache> caches;
    for (auto [layer, op] : llvm::enumerate(attentions))
      caches.push_back({op, body.getArgument(firstNew + 2 + 2 * layer),
                        body.getArgument(firstNew + 3 + 2 * layer), nullptr,
                        nullptr});

    OpBuilder b(ctx);
    llvm::BitVector erase(fn.getNumArguments());
    if (decodeStyle) {
      // The past becomes the cached prefix [0, position): the graph's own
      // arithmetic on the past length then sees the position.
      b.setInsertionPointToStart(&body);
      for (LayerCache &c : caches) {
        for (auto [past, cache] :
             {std::pair(c.attention.getPastKey(), c.key),
              std::pair(c.attention.getPastValue(), c.value)}) {
          auto arg = cast<BlockArgument>(past);
          Value prefix =
              slice(b, loc, cache, zeros(b, 4),
                    cacheSizes(b, loc, cache, OpFoldResult(position)));
          prefix = castTo(b, loc, prefix, arg.getType());
          arg.replaceAllUsesWith(prefix);
          erase.set(arg.getArgNumber());
        }
      }
    } else if (failed(startPositionsAt(fn, position))) {
      return failure();
    }

    for (LayerCache &c : caches)
      rewriteAttention(b, c, position, kvMask);

    // Results: the model's outputs without the presents, then the caches.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    llvm::SmallPtrSet<Value, 8> presents;
    for (LayerCache &c : caches)
      presents.insert({c.updatedKey, c.updatedValue});
    SmallVector<Value> results;
    SmallVector<DictionaryAttr> resultAttrs;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      if (isPresentSlice(v))
        continue;
      results.push_back(v);
      resultAttrs.push_back(fn.getResultAttrDict(i));
    }
    unsigned erased = erase.count();
    for (LayerCache &c : caches) {
      for (auto [updated, arg] : {std::pair(c.updatedKey, c.key),
                                  std::pair(c.updatedValue, c.value)}) {
        results.push_back(updated);
        NamedAttrList attrs;
        attrs.append(
            LLMDialect::kRoleAttrName,
            fn.getArgAttr(arg.getArgNumber(), LLMDialect::kRoleAttrName));
        attrs.append(LLMDialect::kTiedArgAttrName,
                     b.getI64IntegerAttr(arg.getArgNumber() - erased));
        resultAttrs.push_back(attrs.getDictionary(ctx));
      }
    }
    b.setInsertionPoint(ret);
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    if (failed(fn.eraseArguments(erase)))
      return failure();
    SmallVector<Type> resultTypes;
    for (Value v : results)
      resultTypes.push_back(v.getType());
    fn.setType(FunctionType::get(ctx, body.getArgumentTypes(), resultTypes));
    fn.setAllResultAttrs(resultAttrs);
    fn.setSymName(entry);
    return success();
  }

  static DictionaryAttr roleAttrs(MLIRContext *ctx, StringRef role,
                                  int64_t layer) {
    Builder b(ctx);
    NamedAttrList attrs;
    attrs.append(LLMDialect::kRoleAttrName, b.getStringAttr(role));
    if (layer >= 0)
      attrs.append(LLMDialect::kLayerAttrName, b.getI64IntegerAttr(layer));
    return attrs.getDictionary(ctx);
  }

  static SmallVector<OpFoldResult> zeros(OpBuilder &b, int n) {
    return SmallVector<OpFoldResult>(n, b.getIndexAttr(0));
  }

  static Value castTo(OpBuilder &b, Location loc, Value v, Type type) {
    if (v.getType() == type)
      return v;
    return tensor::CastOp::create(b, loc, type, v);
  }

  /// The presents of the rewritten attentions are cache prefixes; the
  /// cache results replace them.
  bool isPresentSlice(Value v) {
    while (auto cast = v.getDefiningOp<tensor::CastOp>())
      v = cast.getSource();
    return presentSlices.contains(v);
  }

  /// keys/values go into the cache at [position, position + T); the
  /// attention reads [0, position + T) with kv_mask added.
  void rewriteAttention(OpBuilder &b, LayerCache &c, Value position,
                        Value kvMask) {
    AttentionOp op = c.attention;
    Location loc = op.getLoc();
    b.setInsertionPoint(op);
    OpFoldResult steps = tensor::getMixedSize(b, loc, op.getKey(), 2);
    Value end = arith::AddIOp::create(
        b, loc, position, getValueOrCreateConstantIndexOp(b, loc, steps));
    auto append = [&](Value cache, Value fresh) {
      SmallVector<OpFoldResult> offsets = zeros(b, 4);
      offsets[2] = position;
      auto sizes = tensor::getMixedSizes(b, loc, fresh);
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      Value updated = tensor::InsertSliceOp::create(b, loc, fresh, cache,
                                                    offsets, sizes, strides);
      Value prefix = slice(b, loc, updated, zeros(b, 4),
                           cacheSizes(b, loc, updated, OpFoldResult(end)));
      return std::pair(updated, prefix);
    };
    auto [key, keys] = append(c.key, op.getKey());
    auto [value, values] = append(c.value, op.getValue());
    c.updatedKey = key;
    c.updatedValue = value;

    // A decode-style export's own mask already covers [0, end): the graph
    // builds it from an attention_mask input as long as past + new, which
    // the runtime fills from the same padding as kv_mask. Otherwise
    // kv_mask[:, 0:end] as [B, 1, 1, end].
    Value mask = op.getMask();
    if (!mask) {
      OpFoldResult batch = tensor::getMixedSize(b, loc, op.getQuery(), 0);
      Value rowMask = slice(b, loc, kvMask, zeros(b, 2), {batch, end});
      auto rowType = cast<RankedTensorType>(rowMask.getType());
      mask = tensor::ExpandShapeOp::create(
          b, loc,
          RankedTensorType::get(
              {rowType.getDimSize(0), 1, 1, ShapedType::kDynamic},
              rowType.getElementType()),
          rowMask, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}},
          ArrayRef<OpFoldResult>{batch, b.getIndexAttr(1), b.getIndexAttr(1),
                                 end});
    }

    std::optional<float> scale;
    if (auto s = op.getScale())
      scale = s->convertToFloat();
    std::optional<int64_t> window;
    if (auto w = op.getSlidingWindow())
      window = *w;
    auto fresh = AttentionOp::create(
        b, loc, op.getQuery(), keys, values, mask, nullptr, nullptr,
        op.getNumHeads(), op.getNumKvHeads(), op.getCausal(), scale, window);
    op.getResult().replaceAllUsesWith(fresh.getResult());
    if (Value present = op.getPresentKey()) {
      presentSlices.insert({keys, values});
      present.replaceAllUsesWith(castTo(b, loc, keys, present.getType()));
      op.getPresentValue().replaceAllUsesWith(
          castTo(b, loc, values, op.getPresentValue().getType()));
    }
    op.erase();
  }

  /// In a plain export, the positions of the tokens are derived from the
  /// sequence length as 0..T-1; they must start at `position`.
  LogicalResult startPositionsAt(func::FuncOp fn, Value position) {
    OpBuilder b(fn.getContext());
    std::optional<int64_t> maxPositions;
    auto limit = [&](int64_t rows) {
      maxPositions = maxPositions ? std::min(*maxPositions, rows) : rows;
    };
    // RoPE tables sliced from row 0: slice from `position` instead.
    llvm::SetVector<tensor::ExtractSliceOp> tableSlices;
    WalkResult walk =
        fn.walk([&](RopeOp rope) {
          for (Value table : {rope.getCos(), rope.getSin()}) {
            auto sliceOp = table.getDefiningOp<tensor::ExtractSliceOp>();
            auto tableType = cast<RankedTensorType>(table.getType());
            bool fromRowZero =
                sliceOp && tableType.getRank() == 2 &&
                sliceOp.getSourceType().getRank() == 2 &&
                llvm::all_of(sliceOp.getMixedOffsets(),
                             [](OpFoldResult o) { return isZeroInteger(o); }) &&
                llvm::all_of(sliceOp.getMixedStrides(),
                             [](OpFoldResult s) { return isOneInteger(s); });
            if (!fromRowZero) {
              rope.emitError()
                  << "cannot start the positions of this RoPE at the cache "
                     "position: its table is not a [seq, dim] slice from row 0";
              return WalkResult::interrupt();
            }
            tableSlices.insert(sliceOp);
          }
          return WalkResult::advance();
        });
    if (walk.wasInterrupted())
      return failure();
    for (tensor::ExtractSliceOp sliceOp : tableSlices) {
      // The rows follow the sequence axis of the first rope the table
      // feeds (the slice itself may come before that rope's input).
      RopeOp rope;
      for (Operation *user : sliceOp->getUsers())
        if (auto r = dyn_cast<RopeOp>(user))
          if (!rope || r->isBeforeInBlock(rope))
            rope = r;
      b.setInsertionPoint(rope);
      Location loc = sliceOp.getLoc();
      Value seq = tensor::DimOp::create(
          b, loc, rope.getInput(), rope.getInput().getType().getRank() - 2);
      auto sizes = sliceOp.getMixedSizes();
      sizes[0] = seq;
      SmallVector<OpFoldResult> offsets = {OpFoldResult(position),
                                           b.getIndexAttr(0)};
      Value moved = slice(b, loc, sliceOp.getSource(), offsets, sizes);
      int64_t rows = sliceOp.getSourceType().getDimSize(0);
      if (!ShapedType::isDynamic(rows))
        limit(rows);
      sliceOp.getResult().replaceAllUsesWith(
          castTo(b, loc, moved, sliceOp.getType()));
      sliceOp.erase();
    }
    // Position ranges (generate(i) = i) that index embeddings: i + position.
    fn.walk([&](tensor::GenerateOp gen) {
      Block &genBody = gen.getBody().front();
      SmallVector<EmbeddingOp> embeddings = embeddingsIndexedBy(gen);
      if (genBody.getNumArguments() != 1 || embeddings.empty())
        return;
      auto yield = cast<tensor::YieldOp>(genBody.getTerminator());
      auto indexCast = yield.getValue().getDefiningOp<arith::IndexCastOp>();
      if (!indexCast || indexCast.getIn() != genBody.getArgument(0))
        return;
      b.setInsertionPoint(indexCast);
      Value shifted = arith::AddIOp::create(b, indexCast.getLoc(),
                                            genBody.getArgument(0), position);
      indexCast.getInMutable().assign(shifted);
      for (EmbeddingOp embedding : embeddings) {
        int64_t rows = embedding.getTable().getType().getDimSize(0);
        if (!ShapedType::isDynamic(rows))
          limit(rows);
      }
    });
    if (maxPositions)
      fn->setAttr(LLMDialect::kMaxPositionsAttrName,
                  b.getI64IntegerAttr(*maxPositions));
    return success();
  }

  llvm::SmallPtrSet<Value, 8> presentSlices;
};

} // namespace
