//===- FusedAttention.cpp - llm-cpu-fuse-attention ------------------------===//
//
// llm.attention as one loop nest that never materialises a [T, S] score
// matrix. An scf.forall (OpenMP threads) runs over (batch, chunk of up to
// four query heads sharing a KV head). Full blocks of 16 query rows are
// vectorised across the rows, one head at a time (see BlockKernel); the
// remaining rows (all of them in decode, or when the mask differs per row)
// go one at a time with the chunk's heads together: a first pass over the
// visible keys reads each key row once, computes every head's score into
// an [S] buffer per head (never [T, S]) and their maxima; a second reads
// each value row once and accumulates it, weighted by every head's
// exponential of its stored score, into vector<Dv> registers, divided by
// the sums at the end. Causal and sliding-window limits become the key
// loops' bounds, so hidden keys cost nothing. Keys and values of a
// quantized KV cache are read as codes (KVRows).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUFUSEATTENTION
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Longest head dimension kept in registers as one vector (elements).
constexpr int64_t kMaxHeadDim = 256;

/// The mask element for (batch, head, row, key) = `full`: the mask
/// broadcasts to [B, Hq, T, S] from the right, its size-1 dims read index 0.
Value maskElement(OpBuilder &b, Location loc, Value mask, ArrayRef<Value> full,
                  Value zero) {
  auto maskType = cast<RankedTensorType>(mask.getType());
  int64_t shift = 4 - maskType.getRank();
  SmallVector<Value> at;
  for (int64_t d = 0; d < maskType.getRank(); ++d)
    at.push_back(maskType.getDimSize(d) == 1 ? zero : full[d + shift]);
  return tensor::ExtractOp::create(b, loc, mask, at);
}

/// The keys or values attention reads: f32 rows [B, H, S, D], or a
/// quantized cache slice (an llm.kv_dequantize folded in) read as its
/// codes [B, H, S, D·bits/8] and scales [B, H, S], dequantized in
/// registers, so the f32 rows are never written.
struct KVRows {
  Value rows, scales;
  int64_t bits = 32;
  int64_t dim = 0;

  static KVRows of(Value v) {
    if (auto dequantize = v.getDefiningOp<KVDequantizeOp>())
      return {dequantize.getCodes(), dequantize.getScales(),
              static_cast<int64_t>(dequantize.getBits()),
              dequantize.getResult().getType().getDimSize(3)};
    return {v, Value(), 32, cast<RankedTensorType>(v.getType()).getDimSize(3)};
  }
  bool quantized() const { return bits != 32; }
  /// Vectors a loaded row comes in: even and odd elements of 4-bit codes.
  int64_t parts() const { return bits == 4 ? 2 : 1; }

  /// Sign-extended 4-bit codes from bytes: the low nibble if `low`.
  static Value nibbles(OpBuilder &b, Location loc, Value bytes, bool low) {
    Type type = bytes.getType();
    Value four =
        isa<VectorType>(type)
            ? Value(arith::ConstantOp::create(
                  b, loc, type,
                  DenseElementsAttr::get(cast<VectorType>(type),
                                         b.getI8IntegerAttr(4))))
            : Value(arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
    Value top = low ? Value(arith::ShLIOp::create(b, loc, bytes, four)) : bytes;
    return arith::ShRSIOp::create(b, loc, top, four);
  }

  Value scaleAt(OpBuilder &b, Location loc, Value batch, Value head,
                Value j) const {
    return tensor::ExtractOp::create(b, loc, scales,
                                     ValueRange{batch, head, j});
  }

  /// Row (batch, head, j) as vector<dim x f32>.
  Value row(OpBuilder &b, Location loc, Value batch, Value head, Value j,
            Value zero) const {
    Type f32 = b.getF32Type();
    auto rowType = VectorType::get({dim}, f32);
    if (!quantized()) {
      Value padding = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
      return vector::TransferReadOp::create(b, loc, rowType, rows,
                                            ValueRange{batch, head, j, zero},
                                            padding, ArrayRef<bool>{true});
    }
    Value values = combine(b, loc, codeParts(b, loc, batch, head, j, zero));
    return arith::MulFOp::create(
        b, loc, values,
        vector::BroadcastOp::create(b, loc, rowType,
                                    scaleAt(b, loc, batch, head, j)));
  }

  /// The codes of row (batch, head, j) as f32 vectors: the row itself,
  /// or for 4-bit codes its even and its odd elements (dot products and
  /// sums need no interleaving; the caller splits the query the same way).
  SmallVector<Value> codeParts(OpBuilder &b, Location loc, Value batch,
                               Value head, Value j, Value zero) const {
    int64_t bytes = dim * bits / 8;
    Value padding = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    Value codes = vector::TransferReadOp::create(
        b, loc, VectorType::get({bytes}, b.getI8Type()), rows,
        ValueRange{batch, head, j, zero}, padding, ArrayRef<bool>{true});
    auto partType = VectorType::get({bytes}, b.getF32Type());
    if (bits == 8)
      return {arith::SIToFPOp::create(b, loc, partType, codes)};
    return {
        arith::SIToFPOp::create(b, loc, partType, nibbles(b, loc, codes, true)),
        arith::SIToFPOp::create(b, loc, partType,
                                nibbles(b, loc, codes, false))};
  }

  /// `query` (vector<dim>) in the parts codeParts gives.
  SmallVector<Value> splitQuery(OpBuilder &b, Location loc, Value query) const {
    if (bits != 4)
      return {query};
    auto halves = vector::DeinterleaveOp::create(b, loc, query);
    return {halves.getRes1(), halves.getRes2()};
  }

  /// Row (batch, head, j) as the parts dot and accumulate take: the f32
  /// row, or its codes as f32 (even and odd elements for 4-bit codes).
  SmallVector<Value> load(OpBuilder &b, Location loc, Value batch, Value head,
                          Value j, Value zero) const {
    if (quantized())
      return codeParts(b, loc, batch, head, j, zero);
    return {row(b, loc, batch, head, j, zero)};
  }

  /// The row's scale (a quantized row's), else null.
  Value rowScale(OpBuilder &b, Location loc, Value batch, Value head,
                 Value j) const {
    return quantized() ? scaleAt(b, loc, batch, head, j) : Value();
  }

  /// Σ_d query[d] · row[d] of a loaded row, `query` split by splitQuery;
  /// the row's scale (if any) multiplies the sum once.
  Value dot(OpBuilder &b, Location loc, ArrayRef<Value> query,
            ArrayRef<Value> parts, Value scale) const {
    Value product = arith::MulFOp::create(b, loc, query[0], parts[0]);
    for (size_t i = 1; i < parts.size(); ++i)
      product = vector::FMAOp::create(b, loc, query[i], parts[i], product);
    Value sum =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, product,
                                    Value(), arith::FastMathFlags::reassoc);
    return scale ? Value(arith::MulFOp::create(b, loc, sum, scale)) : sum;
  }

  /// Zero accumulators of weighted rows (one per code part).
  SmallVector<Value> zeroAccumulators(OpBuilder &b, Location loc) const {
    auto type = VectorType::get({dim / parts()}, b.getF32Type());
    Value zero = arith::ConstantOp::create(b, loc, type,
                                           DenseElementsAttr::get(type, 0.0f));
    return SmallVector<Value>(parts(), zero);
  }

  /// acc + p · row of a loaded row; its scale (if any) folds into p.
  SmallVector<Value> accumulate(OpBuilder &b, Location loc, ValueRange acc,
                                Value p, ArrayRef<Value> parts,
                                Value scale) const {
    if (scale)
      p = arith::MulFOp::create(b, loc, p, scale);
    SmallVector<Value> next;
    for (auto [a, part] : llvm::zip(acc, parts))
      next.push_back(vector::FMAOp::create(
          b, loc, vector::BroadcastOp::create(b, loc, a.getType(), p), part,
          a));
    return next;
  }

  /// The weighted row the accumulators hold, as vector<dim>.
  Value combine(OpBuilder &b, Location loc, ValueRange acc) const {
    if (acc.size() == 1)
      return acc[0];
    return vector::InterleaveOp::create(b, loc, acc[0], acc[1]);
  }

  /// Element (batch, head, j, d) of f32 rows.
  Value element(OpBuilder &b, Location loc, Value batch, Value head, Value j,
                int64_t d) const {
    return tensor::ExtractOp::create(
        b, loc, rows,
        ValueRange{batch, head, j, arith::ConstantIndexOp::create(b, loc, d)});
  }
};

/// Query heads of one KV head that the one-row kernel processes together.
constexpr int64_t kSharedHeads = 4;

/// Query rows per block of the block kernel: one f32 vector of them.
constexpr int64_t kBlockRows = 16;

/// Attention for blocks of kBlockRows query rows, vectorised across the
/// rows: the block's queries are transposed once (vector<D x 16>), so a
/// key's 16 scores are D broadcast-FMAs; scores go to a [keys, 16] buffer
/// with their running maximum, then become exponentials (vectorised) with
/// their sum, and the values are accumulated four rows at a time in
/// vector<Dv> registers. Causal and window limits are the block's key range
/// plus a per-row select; the mask must be the same for every row.
struct BlockKernel {
  Value q;
  KVRows k, v;
  Value mask, b, h, kvHead, keys, offset;
  bool causal;
  std::optional<int64_t> window;
  float scale;
  int64_t headDim, valueDim;

  /// Blocks over rows [0, end) of `out` ([T, Dv], this head's output).
  Value emit(OpBuilder &builder, Location loc, Value out, Value end) const {
    Type f32 = builder.getF32Type();
    auto index = [&](OpBuilder &bb, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(bb, loc, value);
    };
    auto rowVector = VectorType::get({kBlockRows}, f32);
    auto splat = [&](OpBuilder &bb, double value) -> Value {
      return arith::ConstantOp::create(
          bb, loc, rowVector,
          DenseElementsAttr::get(rowVector, static_cast<float>(value)));
    };
    Value zero = index(builder, 0), one = index(builder, 1);
    Value padding = arith::ConstantOp::create(builder, loc, f32,
                                              builder.getF32FloatAttr(0.0));
    // Scores (then probabilities) of every key for the block's rows.
    Value buffer = tensor::EmptyOp::create(
        builder, loc, ArrayRef<int64_t>{ShapedType::kDynamic, kBlockRows}, f32,
        ValueRange{keys});
    auto loop = scf::ForOp::create(
        builder, loc, zero, end, index(builder, kBlockRows),
        ValueRange{out, buffer},
        [&](OpBuilder &bb, Location l, Value t0, ValueRange iter) {
          // The block's key range: visible to at least one of its rows.
          Value lo = zero, hi = keys;
          Value firstLast = arith::AddIOp::create(bb, l, t0, offset);
          if (causal) {
            Value lastLast = arith::AddIOp::create(bb, l, firstLast,
                                                   index(bb, kBlockRows - 1));
            hi = arith::MinSIOp::create(
                bb, l, keys, arith::AddIOp::create(bb, l, lastLast, one));
            if (window)
              lo = arith::MaxSIOp::create(
                  bb, l, zero,
                  arith::SubIOp::create(bb, l, firstLast,
                                        index(bb, *window - 1)));
            hi = arith::MaxSIOp::create(bb, l, hi, lo);
          }
          // Q^T of the block: row d holds q[t0 .. t0 + 15, d].
          MLIRContext *ctx = bb.getContext();
          auto transposed = AffineMap::get(
              4, 0, {getAffineDimExpr(3, ctx), getAffineDimExpr(2, ctx)}, ctx);
          Value qT = vector::TransferReadOp::create(
              bb, l, VectorType::get({headDim, kBlockRows}, f32), q,
              ValueRange{b, h, t0, zero}, padding, transposed,
              ArrayRef<bool>{true, true});
          SmallVector<Value> qRows;
          for (int64_t d = 0; d < headDim; ++d)
            qRows.push_back(vector::ExtractOp::create(bb, l, qT, d));
          // Each row's last visible key, for the per-row causal select.
          auto i64Vector = VectorType::get({kBlockRows}, bb.getI64Type());
          SmallVector<int64_t> iota(kBlockRows);
          for (int64_t r = 0; r < kBlockRows; ++r)
            iota[r] = r;
          Value rowLast = arith::AddIOp::create(
              bb, l,
              arith::ConstantOp::create(
                  bb, l, i64Vector,
                  DenseElementsAttr::get(i64Vector, ArrayRef<int64_t>(iota))),
              vector::BroadcastOp::create(
                  bb, l, i64Vector,
                  arith::IndexCastOp::create(bb, l, bb.getI64Type(),
                                             firstLast)));
          Value negInf = splat(bb, -std::numeric_limits<double>::infinity());
          // Pass 1: scores and their maximum per row.
          auto scores = scf::ForOp::create(
              bb, l, lo, hi, one, ValueRange{iter[1], negInf},
              [&](OpBuilder &sb, Location sl, Value j, ValueRange acc) {
                SmallVector<Value> partial(4, splat(sb, 0.0));
                // A quantized key row is converted once, as vectors.
                SmallVector<Value> parts;
                if (k.quantized())
                  parts = k.codeParts(sb, sl, b, kvHead, j, zero);
                for (int64_t d = 0; d < headDim; ++d) {
                  Value kd = k.quantized()
                                 ? Value(vector::ExtractOp::create(
                                       sb, sl, parts[d % parts.size()],
                                       d / static_cast<int64_t>(parts.size())))
                                 : k.element(sb, sl, b, kvHead, j, d);
                  partial[d % 4] = vector::FMAOp::create(
                      sb, sl, qRows[d],
                      vector::BroadcastOp::create(sb, sl, rowVector, kd),
                      partial[d % 4]);
                }
                Value s = arith::AddFOp::create(
                    sb, sl,
                    arith::AddFOp::create(sb, sl, partial[0], partial[1]),
                    arith::AddFOp::create(sb, sl, partial[2], partial[3]));
                Value factor = splat(sb, scale);
                if (k.quantized())
                  factor = arith::MulFOp::create(
                      sb, sl, factor,
                      vector::BroadcastOp::create(
                          sb, sl, rowVector, k.scaleAt(sb, sl, b, kvHead, j)));
                s = arith::MulFOp::create(sb, sl, s, factor);
                if (mask) {
                  s = arith::AddFOp::create(
                      sb, sl, s,
                      vector::BroadcastOp::create(
                          sb, sl, rowVector,
                          maskElement(sb, sl, mask, {b, h, zero, j}, zero)));
                }
                if (causal) {
                  Value jv = vector::BroadcastOp::create(
                      sb, sl, i64Vector,
                      arith::IndexCastOp::create(sb, sl, sb.getI64Type(), j));
                  Value hidden = arith::CmpIOp::create(
                      sb, sl, arith::CmpIPredicate::sgt, jv, rowLast);
                  if (window) {
                    Value first = arith::SubIOp::create(
                        sb, sl, rowLast,
                        arith::ConstantOp::create(
                            sb, sl, i64Vector,
                            DenseElementsAttr::get(i64Vector, *window)));
                    hidden = arith::OrIOp::create(
                        sb, sl, hidden,
                        arith::CmpIOp::create(sb, sl, arith::CmpIPredicate::sle,
                                              jv, first));
                  }
                  s = arith::SelectOp::create(sb, sl, hidden, negInf, s);
                }
                Value written = vector::TransferWriteOp::create(
                                    sb, sl, s, acc[0], ValueRange{j, zero},
                                    ArrayRef<bool>{true})
                                    .getResult();
                scf::YieldOp::create(
                    sb, sl,
                    ValueRange{written,
                               arith::MaximumFOp::create(sb, sl, acc[1], s)
                                   .getResult()});
              });
          Value rowMax = scores.getResult(1);
          // Rows with every key hidden: exponents of -inf give zeros.
          Value shift = arith::SelectOp::create(
              bb, l,
              arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OEQ, rowMax,
                                    negInf),
              splat(bb, 0.0), rowMax);
          // Pass 2: probabilities (unnormalised) and their sums.
          auto probs = scf::ForOp::create(
              bb, l, lo, hi, one,
              ValueRange{scores.getResult(0), splat(bb, 0.0)},
              [&](OpBuilder &pb, Location pl, Value j, ValueRange acc) {
                Value s = vector::TransferReadOp::create(
                    pb, pl, rowVector, acc[0], ValueRange{j, zero}, padding,
                    ArrayRef<bool>{true});
                Value p = math::ExpOp::create(
                    pb, pl, arith::SubFOp::create(pb, pl, s, shift));
                Value written = vector::TransferWriteOp::create(
                                    pb, pl, p, acc[0], ValueRange{j, zero},
                                    ArrayRef<bool>{true})
                                    .getResult();
                scf::YieldOp::create(
                    pb, pl,
                    ValueRange{
                        written,
                        arith::AddFOp::create(pb, pl, acc[1], p).getResult()});
              });
          Value sum = probs.getResult(1);
          Value inverse = arith::SelectOp::create(
              bb, l,
              arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OGT, sum,
                                    splat(bb, 0.0)),
              arith::DivFOp::create(bb, l, splat(bb, 1.0), sum),
              splat(bb, 0.0));
          Value p = probs.getResult(0);
          // Pass 3: the weighted values, four rows at a time.
          auto valueVector = VectorType::get({valueDim}, f32);
          Value zeroValue = arith::ConstantOp::create(
              bb, l, valueVector, DenseElementsAttr::get(valueVector, 0.0f));
          Value result = iter[0];
          constexpr int64_t kGroup = 4;
          for (int64_t g = 0; g < kBlockRows; g += kGroup) {
            auto values = scf::ForOp::create(
                bb, l, lo, hi, one, SmallVector<Value>(kGroup, zeroValue),
                [&](OpBuilder &vb, Location vl, Value j, ValueRange acc) {
                  Value row = v.row(vb, vl, b, kvHead, j, zero);
                  SmallVector<Value> next;
                  for (int64_t r = 0; r < kGroup; ++r) {
                    Value pr = tensor::ExtractOp::create(
                        vb, vl, p, ValueRange{j, index(vb, g + r)});
                    next.push_back(vector::FMAOp::create(
                        vb, vl,
                        vector::BroadcastOp::create(vb, vl, valueVector, pr),
                        row, acc[r]));
                  }
                  scf::YieldOp::create(vb, vl, next);
                });
            for (int64_t r = 0; r < kGroup; ++r) {
              Value factor = vector::BroadcastOp::create(
                  bb, l, valueVector,
                  vector::ExtractOp::create(bb, l, inverse, g + r));
              Value outRow =
                  arith::MulFOp::create(bb, l, values.getResult(r), factor);
              Value at = arith::AddIOp::create(bb, l, t0, index(bb, g + r));
              result = vector::TransferWriteOp::create(bb, l, outRow, result,
                                                       ValueRange{at, zero},
                                                       ArrayRef<bool>{true})
                           .getResult();
            }
          }
          scf::YieldOp::create(bb, l, ValueRange{result, p});
        });
    return loop.getResult(0);
  }
};

struct FuseAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getPastKey())
      return rewriter.notifyMatchFailure(op, "past KV pair: concatenate first");
    FailureOr<float> scale = op.getEffectiveScale();
    if (failed(scale))
      return rewriter.notifyMatchFailure(op, "unknown scale");
    Value q = op.getQuery(), mask = op.getMask();
    // Keys and values of a quantized cache are read as their codes.
    KVRows k = KVRows::of(op.getKey()), v = KVRows::of(op.getValue());
    auto qType = cast<RankedTensorType>(q.getType());
    Type f32 = rewriter.getF32Type();
    for (Value operand : {q, Value(op.getKey()), Value(op.getValue()), mask})
      if (operand &&
          cast<RankedTensorType>(operand.getType()).getElementType() != f32)
        return rewriter.notifyMatchFailure(op, "not f32");
    int64_t headDim = qType.getDimSize(3), valueDim = v.dim;
    if (ShapedType::isDynamic(headDim) || ShapedType::isDynamic(valueDim) ||
        headDim > kMaxHeadDim || valueDim > kMaxHeadDim)
      return rewriter.notifyMatchFailure(op, "head dims not static and small");
    auto maskType =
        mask ? cast<RankedTensorType>(mask.getType()) : RankedTensorType();
    if (maskType && maskType.getRank() > 4)
      return rewriter.notifyMatchFailure(op, "mask rank above 4");

    Location loc = op.getLoc();
    auto index = [&](OpBuilder &b, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(b, loc, value);
    };
    auto f32Const = [&](OpBuilder &b, double value) -> Value {
      return arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(value));
    };
    int64_t heads = op.getNumHeads();
    int64_t group = heads / op.getNumKvHeads();
    auto size = [&](Value t, int64_t d) {
      return getValueOrCreateConstantIndexOp(
          rewriter, loc, tensor::getMixedSize(rewriter, loc, t, d));
    };
    Value batch = size(q, 0), rows = size(q, 2), keys = size(k.rows, 2);
    // Query i is position i + (keys - rows) of the sequence.
    Value offset = arith::SubIOp::create(rewriter, loc, keys, rows);
    RankedTensorType outType = op.getResult().getType();
    // An output read only through a [B, H, T, D] -> [B, T, H, D] transpose
    // (back to the model's layout before the output projection) is written
    // in that layout directly: no transposed copy.
    linalg::TransposeOp transposed;
    for (Operation *user : op->getUsers()) {
      if (auto dim = dyn_cast<tensor::DimOp>(user)) {
        if (dim.getConstantIndex())
          continue;
        transposed = nullptr;
        break;
      }
      auto transpose = dyn_cast<linalg::TransposeOp>(user);
      if (transposed || !transpose ||
          transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1, 3}) {
        transposed = nullptr;
        break;
      }
      transposed = transpose;
    }
    // The output's dims in memory order, as dims of the op's result.
    SmallVector<int64_t> layout = transposed ? SmallVector<int64_t>{0, 2, 1, 3}
                                             : SmallVector<int64_t>{0, 1, 2, 3};
    Value fullSizes[4] = {batch, size(q, 1), rows, index(rewriter, valueDim)};
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamicSizes;
    for (int64_t d : layout) {
      shape.push_back(outType.getDimSize(d));
      if (outType.isDynamicDim(d))
        dynamicSizes.push_back(fullSizes[d]);
    }
    Value out =
        tensor::EmptyOp::create(rewriter, loc, shape, f32, dynamicSizes);

    auto qVector = VectorType::get({headDim}, f32);
    auto vVector = VectorType::get({valueDim}, f32);
    SmallVector<bool> inBounds = {true};
    bool causal = op.getCausal();
    std::optional<int64_t> window = op.getSlidingWindow();
    float scaleValue = *scale;

    // Query heads that share a KV head go together, up to kSharedHeads at
    // a time: each key and value row (a quantized one converted) is read
    // once for all of them. The forall runs over (batch, such chunks).
    int64_t together = std::min<int64_t>(group, kSharedHeads);
    while (group % together != 0)
      --together;
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{tensor::getMixedSize(rewriter, loc, q, 0),
                               rewriter.getIndexAttr(heads / together)},
        ValueRange{out}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value b = forall.getInductionVar(0);
    Value firstHead = arith::MulIOp::create(
        rewriter, loc, forall.getInductionVar(1), index(rewriter, together));
    Value kvHead = arith::DivUIOp::create(rewriter, loc, firstHead,
                                          index(rewriter, group));
    SmallVector<Value> headOf;
    for (int64_t g = 0; g < together; ++g)
      headOf.push_back(
          g == 0 ? firstHead
                 : Value(arith::AddIOp::create(rewriter, loc, firstHead,
                                               index(rewriter, g))));
    Value shared = forall.getRegionIterArgs()[0];
    // This chunk's heads: [together, T, D], or [T, together, D] in the
    // transposed layout.
    OpFoldResult headsAt[4] = {b, firstHead, rewriter.getIndexAttr(0),
                               rewriter.getIndexAttr(0)};
    OpFoldResult headsSize[4] = {rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(together),
                                 tensor::getMixedSize(rewriter, loc, q, 2),
                                 rewriter.getIndexAttr(valueDim)};
    int64_t headCounts[3] = {together, outType.getDimSize(2), valueDim};
    SmallVector<OpFoldResult> offsets, sizes;
    SmallVector<int64_t> sliceShape;
    for (int64_t d : layout) {
      offsets.push_back(headsAt[d]);
      sizes.push_back(headsSize[d]);
      if (d != 0)
        sliceShape.push_back(headCounts[d - 1]);
    }
    SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
    auto sliceType = RankedTensorType::get(sliceShape, f32);
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, sliceType, shared, offsets, sizes, strides);
    // Where head g's row i goes in the slice.
    auto rowAt = [&](OpBuilder &b, int64_t g, Value i,
                     Value zero) -> SmallVector<Value> {
      Value head = index(b, g);
      return transposed ? SmallVector<Value>{i, head, zero}
                        : SmallVector<Value>{head, i, zero};
    };
    Value zeroIndex = index(rewriter, 0), oneIndex = index(rewriter, 1);
    Value padding = f32Const(rewriter, 0.0);
    Value negInf = f32Const(rewriter, -std::numeric_limits<double>::infinity());

    // Full blocks of query rows vectorised across the rows, when the mask
    // (if any) is the same for every row, one head at a time; the other
    // rows one at a time.
    Value firstRow = zeroIndex;
    bool rowInvariantMask = !maskType || maskType.getRank() < 2 ||
                            maskType.getDimSize(maskType.getRank() - 2) == 1;
    if (rowInvariantMask) {
      Value block = index(rewriter, kBlockRows);
      firstRow = arith::MulIOp::create(
          rewriter, loc, arith::DivUIOp::create(rewriter, loc, rows, block),
          block);
      auto headType =
          RankedTensorType::get({outType.getDimSize(2), valueDim}, f32);
      for (int64_t g = 0; g < together; ++g) {
        SmallVector<OpFoldResult> headOffsets = {rewriter.getIndexAttr(g),
                                                 rewriter.getIndexAttr(0),
                                                 rewriter.getIndexAttr(0)};
        SmallVector<OpFoldResult> headSizes = {rewriter.getIndexAttr(1),
                                               headsSize[2], headsSize[3]};
        if (transposed) {
          std::swap(headOffsets[0], headOffsets[1]);
          std::swap(headSizes[0], headSizes[1]);
        }
        SmallVector<OpFoldResult> headStrides(3, rewriter.getIndexAttr(1));
        Value headSlice =
            tensor::ExtractSliceOp::create(rewriter, loc, headType, slice,
                                           headOffsets, headSizes, headStrides);
        BlockKernel kernel{q,         k,          v,       mask,    b,
                           headOf[g], kvHead,     keys,    offset,  causal,
                           window,    scaleValue, headDim, valueDim};
        headSlice = kernel.emit(rewriter, loc, headSlice, firstRow);
        slice =
            tensor::InsertSliceOp::create(rewriter, loc, headSlice, slice,
                                          headOffsets, headSizes, headStrides);
      }
    }

    // Each row's scores per head, kept from the first pass for the second.
    SmallVector<Value> rowInit = {slice};
    for (int64_t g = 0; g < together; ++g)
      rowInit.push_back(tensor::EmptyOp::create(
          rewriter, loc, ArrayRef<int64_t>{ShapedType::kDynamic}, f32,
          ValueRange{keys}));
    auto rowLoop = scf::ForOp::create(
        rewriter, loc, firstRow, rows, oneIndex, rowInit,
        [&](OpBuilder &rb, Location l, Value i, ValueRange iter) {
          SmallVector<SmallVector<Value>> queryParts;
          for (int64_t g = 0; g < together; ++g) {
            Value query = vector::TransferReadOp::create(
                rb, l, qVector, q, ValueRange{b, headOf[g], i, zeroIndex},
                padding, inBounds);
            queryParts.push_back(k.splitQuery(rb, l, query));
          }
          // Visible keys [lo, hi).
          Value lo = zeroIndex, hi = keys;
          if (causal) {
            Value last = arith::AddIOp::create(rb, l, i, offset);
            hi = arith::MinSIOp::create(
                rb, l, keys, arith::AddIOp::create(rb, l, last, oneIndex));
            if (window)
              lo = arith::MaxSIOp::create(
                  rb, l, zeroIndex,
                  arith::SubIOp::create(rb, l, last, index(rb, *window - 1)));
            // An empty range when the window starts past the end.
            hi = arith::MaxSIOp::create(rb, l, hi, lo);
          }
          // Pass 1: every head's scores and the largest one.
          SmallVector<Value> maxInit(together, negInf);
          maxInit.append(iter.begin() + 1, iter.end());
          auto maxLoop = scf::ForOp::create(
              rb, l, lo, hi, oneIndex, maxInit,
              [&](OpBuilder &mb, Location ml, Value j, ValueRange m) {
                SmallVector<Value> parts =
                    k.load(mb, ml, b, kvHead, j, zeroIndex);
                Value rowScale = k.rowScale(mb, ml, b, kvHead, j);
                SmallVector<Value> maxima, buffers;
                for (int64_t g = 0; g < together; ++g) {
                  Value s = arith::MulFOp::create(
                      mb, ml, k.dot(mb, ml, queryParts[g], parts, rowScale),
                      f32Const(mb, scaleValue));
                  if (mask)
                    s = arith::AddFOp::create(mb, ml, s,
                                              maskElement(mb, ml, mask,
                                                          {b, headOf[g], i, j},
                                                          zeroIndex));
                  maxima.push_back(arith::MaximumFOp::create(mb, ml, m[g], s));
                  buffers.push_back(
                      tensor::InsertOp::create(mb, ml, s, m[together + g], j));
                }
                maxima.append(buffers);
                scf::YieldOp::create(mb, ml, maxima);
              });
          // A row with every key hidden: exponents of -inf give zeros.
          SmallVector<Value> shifts, scoreBuffers;
          for (int64_t g = 0; g < together; ++g) {
            Value rowMax = maxLoop.getResult(g);
            Value allHidden = arith::CmpFOp::create(
                rb, l, arith::CmpFPredicate::OEQ, rowMax, negInf);
            shifts.push_back(arith::SelectOp::create(
                rb, l, allHidden, f32Const(rb, 0.0), rowMax));
            scoreBuffers.push_back(maxLoop.getResult(together + g));
          }
          // Pass 2: every head's exponentials, their sum and the weighted
          // values.
          int64_t width = v.parts();
          SmallVector<Value> sumInit;
          for (int64_t g = 0; g < together; ++g) {
            sumInit.push_back(f32Const(rb, 0.0));
            llvm::append_range(sumInit, v.zeroAccumulators(rb, l));
          }
          auto sumLoop = scf::ForOp::create(
              rb, l, lo, hi, oneIndex, sumInit,
              [&](OpBuilder &sb, Location sl, Value j, ValueRange acc) {
                SmallVector<Value> parts =
                    v.load(sb, sl, b, kvHead, j, zeroIndex);
                Value rowScale = v.rowScale(sb, sl, b, kvHead, j);
                SmallVector<Value> next;
                for (int64_t g = 0; g < together; ++g) {
                  ValueRange mine = acc.slice(g * (1 + width), 1 + width);
                  Value p = math::ExpOp::create(
                      sb, sl,
                      arith::SubFOp::create(
                          sb, sl,
                          tensor::ExtractOp::create(sb, sl, scoreBuffers[g], j),
                          shifts[g]));
                  next.push_back(arith::AddFOp::create(sb, sl, mine[0], p));
                  llvm::append_range(next,
                                     v.accumulate(sb, sl, mine.drop_front(), p,
                                                  parts, rowScale));
                }
                scf::YieldOp::create(sb, sl, next);
              });
          Value written = iter[0];
          for (int64_t g = 0; g < together; ++g) {
            ValueRange mine =
                sumLoop.getResults().slice(g * (1 + width), 1 + width);
            Value sum = mine[0];
            Value nonEmpty = arith::CmpFOp::create(
                rb, l, arith::CmpFPredicate::OGT, sum, f32Const(rb, 0.0));
            Value inverse = arith::SelectOp::create(
                rb, l, nonEmpty,
                arith::DivFOp::create(rb, l, f32Const(rb, 1.0), sum),
                f32Const(rb, 0.0));
            Value result = arith::MulFOp::create(
                rb, l, v.combine(rb, l, mine.drop_front()),
                vector::BroadcastOp::create(rb, l, vVector, inverse));
            written = vector::TransferWriteOp::create(
                          rb, l, result, written, rowAt(rb, g, i, zeroIndex),
                          inBounds)
                          .getResult();
          }
          SmallVector<Value> yielded = {written};
          llvm::append_range(yielded, scoreBuffers);
          scf::YieldOp::create(rb, l, yielded);
        });
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, rowLoop.getResult(0),
                                          shared, offsets, sizes, strides);
    if (!transposed) {
      rewriter.replaceOp(op, forall.getResult(0));
      return success();
    }
    rewriter.setInsertionPointAfter(forall);
    for (Operation *user : llvm::to_vector(op->getUsers()))
      if (auto dim = dyn_cast<tensor::DimOp>(user)) {
        // Dim d of [B, H, T, D] is dim layout[d] of the written tensor.
        rewriter.setInsertionPoint(dim);
        rewriter.replaceOp(dim, tensor::DimOp::create(
                                    rewriter, dim.getLoc(), forall.getResult(0),
                                    layout[*dim.getConstantIndex()]));
      }
    rewriter.replaceOp(transposed, forall.getResult(0));
    rewriter.eraseOp(op);
    return success();
  }
};

struct FuseAttentionPass
    : llm::cpu::impl::LLMCpuFuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
