//===- VectorizeLinear.cpp - llm-cpu-vectorize-linear ---------------------===//
//
// The linear layers with constant weights are the bulk of an LLM's work.
// llm-lower-to-linalg packs their weights into panels [P, K, NR] (NR
// contiguous output columns per panel) and writes them as one
// linalg.generic; this pass turns that generic into register-tiled vector
// code: for each panel (an scf.forall, threads with OpenMP), for each tile
// of MR rows, MR accumulators of vector<NRxT> live in registers across the
// whole k loop; each step loads one row of the panel and does MR
// broadcast-FMAs. That is the classic GEMM microkernel shape (MR x NR outer
// products), written in upstream's vector dialect so that LLVM picks the
// instructions for the target (zmm FMAs on AVX-512). A single row (decode)
// is the same loop with MR = 1, k split over four accumulator chains: a
// GEMV that streams each panel once.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"
#include "targets/cpu/Silu.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <array>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUVECTORIZELINEAR
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// The operands of a packed linear generic:
///   y[lead..., p, c] += x[lead..., k] * w[p, k, c]
/// with loops (p, lead..., k, c) and a math.fma body.
struct PackedLinear {
  Value x, w, init;
  int64_t leadDims;
};

FailureOr<PackedLinear> matchPackedLinear(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return failure();
  Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
        init = op.getDpsInits()[0];
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  auto yType = dyn_cast<RankedTensorType>(init.getType());
  if (!xType || !wType || !yType || !wType.hasStaticShape() ||
      wType.getRank() != 3)
    return failure();
  Type element = wType.getElementType();
  if (!isa<FloatType>(element) || xType.getElementType() != element ||
      yType.getElementType() != element)
    return failure();
  int64_t loops = op.getNumLoops();
  int64_t lead = loops - 3;
  if (lead < 0 || xType.getRank() != lead + 1 || yType.getRank() != lead + 2)
    return failure();
  int64_t width = wType.getDimSize(2);
  if (width > llm::cpu::kMaxPanelWidth || yType.getDimSize(lead + 1) != width ||
      yType.getDimSize(lead) != wType.getDimSize(0) ||
      xType.getDimSize(lead) != wType.getDimSize(1))
    return failure();
  MLIRContext *ctx = op.getContext();
  auto dim = [&](int64_t d) { return getAffineDimExpr(d, ctx); };
  SmallVector<AffineExpr> xExprs, yExprs;
  for (int64_t d = 1; d <= lead; ++d) {
    xExprs.push_back(dim(d));
    yExprs.push_back(dim(d));
  }
  xExprs.push_back(dim(loops - 2));
  yExprs.append({dim(0), dim(loops - 1)});
  SmallVector<AffineMap> expected = {
      AffineMap::get(loops, 0, xExprs, ctx),
      AffineMap::get(loops, 0, {dim(0), dim(loops - 2), dim(loops - 1)}, ctx),
      AffineMap::get(loops, 0, yExprs, ctx)};
  if (op.getIndexingMapsArray() != ArrayRef<AffineMap>(expected))
    return failure();
  for (auto [i, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if ((it == utils::IteratorType::reduction) !=
        (static_cast<int64_t>(i) == loops - 2))
      return failure();
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return failure();
  auto fma = dyn_cast<math::FmaOp>(body.front());
  if (!fma || fma.getA() != body.getArgument(0) ||
      fma.getB() != body.getArgument(1) || fma.getC() != body.getArgument(2) ||
      body.getTerminator()->getOperand(0) != fma.getResult())
    return failure();
  return PackedLinear{x, w, init, lead};
}

/// Where the accumulators start. The lowering initialises the output with
/// zeros (linalg.fill) or with the bias broadcast over the rows (a
/// generic), then expands it into panels; the kernel can start its
/// registers from zeros or from the panel's slice of the bias instead, and
/// write into the uninitialised tensor: no fill pass over the output.
struct AccumulatorInit {
  Value dest; // the panelled output to write into
  Value bias; // [N] when the accumulators start from the bias
  bool zero = false;
};

bool fillsZero(linalg::FillOp fill) {
  FloatAttr value;
  return matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
         value.getValue().isZero();
}

AccumulatorInit analyseInit(PatternRewriter &rewriter, Value init) {
  AccumulatorInit result{init, Value(), false};
  // Zeros filled into the panelled output directly (canonicalisation moves
  // the expansion above the fill).
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (fill->hasOneUse() && fillsZero(fill)) {
      result.dest = fill.getOutputs()[0];
      result.zero = true;
    }
    return result;
  }
  auto expand = init.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || !expand->hasOneUse())
    return result;
  Operation *producer = expand.getSrc().getDefiningOp();
  if (!producer || producer->getNumResults() != 1 ||
      !isa<linalg::FillOp, linalg::GenericOp>(producer))
    return result;
  // Sizes read from the initialised tensor are the uninitialised one's.
  Value empty = cast<DestinationStyleOpInterface>(producer).getDpsInits()[0];
  auto otherUsers = llvm::make_filter_range(
      producer->getUsers(), [&](Operation *user) { return user != expand; });
  if (!llvm::all_of(otherUsers,
                    [](Operation *user) { return isa<tensor::DimOp>(user); }))
    return result;
  if (auto fill = dyn_cast<linalg::FillOp>(producer)) {
    if (!fillsZero(fill))
      return result;
    result.zero = true;
  } else if (auto generic = dyn_cast<linalg::GenericOp>(producer)) {
    // y[..., n] = bias[n]
    if (generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1)
      return result;
    Value bias = generic.getDpsInputs()[0];
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    int64_t loops = generic.getNumLoops();
    AffineMap last = AffineMap::get(
        loops, 0, getAffineDimExpr(loops - 1, generic.getContext()));
    Block &body = generic.getRegion().front();
    if (!biasType || biasType.getRank() != 1 ||
        biasType.getElementType() !=
            cast<ShapedType>(init.getType()).getElementType() ||
        generic.getIndexingMapsArray()[0] != last ||
        !generic.getIndexingMapsArray()[1].isIdentity() ||
        body.getOperations().size() != 1 ||
        body.getTerminator()->getOperand(0) != body.getArgument(0))
      return result;
    result.bias = bias;
  } else {
    return result;
  }
  for (Operation *user : llvm::to_vector(otherUsers))
    rewriter.modifyOpInPlace(user, [&] { user->setOperand(0, empty); });
  result.dest = tensor::ExpandShapeOp::create(
      rewriter, expand.getLoc(), expand.getResultType(), empty,
      expand.getReassociationIndices(), expand.getMixedOutputShape());
  return result;
}

/// The vector code of one tile of rows of a panelled linear: given x as
/// [M, K], the panel, the tile's row indices and each row's starting
/// accumulator vector<NR>, it returns each row's result vector.
using TileBodyFn = function_ref<SmallVector<Value>(
    OpBuilder &b, Location l, Value x, Value panel, ArrayRef<Value> rows,
    ArrayRef<Value> accs)>;

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v).getResult();
}

/// Independent accumulator chains for a group of `steps` steps: a single
/// row (decode) splits them over 4 or 2 chains so that the latency of each
/// multiply-add does not bound the weight stream; a tile of rows has one
/// accumulator per row already.
int64_t singleRowChains(int64_t tile, int64_t steps) {
  if (tile == 1)
    for (int64_t c : {4, 2})
      if (steps % c == 0)
        return c;
  return 1;
}

/// i + c (i itself when c = 0): the step of accumulator chain c.
Value offsetIndex(OpBuilder &b, Location loc, Value i, int64_t c) {
  return c == 0 ? i
                : arith::AddIOp::create(b, loc, i, indexConstant(b, loc, c))
                      .getResult();
}

/// What a row's accumulators become before they are written (a SwiGLU's
/// silu(gate) · up of the two halves); null: written as they are.
using EpilogueFn = function_ref<Value(OpBuilder &b, Location l, Value acc)>;

/// scf.for over rows [lo, hi) of the panel's output slice `acc` [M, NR] in
/// steps of `tile`: each row's accumulator starts from `start` (or is read
/// from `acc` when null), `body` computes the tile, and the results (after
/// `epilogue`, when given) are written back into `acc`.
Value rowTiles(OpBuilder &builder, Location loc, Value x, Value panel,
               Value acc, Value start, Value lo, Value hi, int64_t tile,
               VectorType vectorType, TileBodyFn body,
               EpilogueFn epilogue = nullptr) {
  Type element = vectorType.getElementType();
  Value zero = indexConstant(builder, loc, 0);
  Value padding = arith::ConstantOp::create(builder, loc, element,
                                            builder.getZeroAttr(element));
  SmallVector<bool> inBounds = {true};
  auto loop = scf::ForOp::create(
      builder, loc, lo, hi, indexConstant(builder, loc, tile), ValueRange{acc},
      [&](OpBuilder &b, Location l, Value row0, ValueRange iter) {
        SmallVector<Value> rows, starts;
        for (int64_t r = 0; r < tile; ++r)
          rows.push_back(
              r == 0 ? row0
                     : arith::AddIOp::create(b, l, row0, indexConstant(b, l, r))
                           .getResult());
        for (Value row : rows)
          starts.push_back(start ? start
                                 : vector::TransferReadOp::create(
                                       b, l, vectorType, iter[0],
                                       ValueRange{row, zero}, padding, inBounds)
                                       .getResult());
        SmallVector<Value> results = body(b, l, x, panel, rows, starts);
        Value out = iter[0];
        for (int64_t r = 0; r < tile; ++r)
          out = vector::TransferWriteOp::create(
                    b, l, epilogue ? epilogue(b, l, results[r]) : results[r],
                    out, ValueRange{rows[r], zero}, inBounds)
                    .getResult();
        scf::YieldOp::create(b, l, out);
      });
  return loop.getResult(0);
}

/// `v` [rows..., rest...] (`lead` row dims, at most one more) as
/// [M, rest...]: the row dims collapsed into one, or a unit one added when
/// there are none.
Value asRows(OpBuilder &b, Location loc, Value v, int64_t lead) {
  auto type = cast<RankedTensorType>(v.getType());
  bool tail = type.getRank() > lead;
  if (lead == 1)
    return v;
  if (lead == 0) {
    SmallVector<int64_t> shape = {1};
    SmallVector<ReassociationIndices> reassoc;
    if (tail) {
      shape.push_back(type.getDimSize(0));
      reassoc.push_back({0, 1});
    }
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), v,
        reassoc);
  }
  ReassociationIndices rowDims;
  for (int64_t d = 0; d < lead; ++d)
    rowDims.push_back(d);
  SmallVector<ReassociationIndices> reassoc = {rowDims};
  if (tail)
    reassoc.push_back({lead});
  return tensor::CollapseShapeOp::create(b, loc, v, reassoc);
}

/// A SwiGLU's product read from a packed linear's panels of 16 gate then
/// 16 up columns (llm-lower-to-linalg's kGatedSiluAttr generic) and what it
/// reads them through.
struct GatedOutput {
  linalg::GenericOp product;
  SmallVector<Operation *> halves;
};

/// The gated product that is the only reader of `op`'s result (y
/// [..., P, 32], its accumulators starting from zeros), through the slices
/// of its two halves in that order.
std::optional<GatedOutput> gatedReader(linalg::GenericOp op, Value init,
                                       int64_t width) {
  constexpr int64_t half = llm::cpu::kGatedHalf;
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (width != 2 * half || !fill || !fill->hasOneUse() || !fillsZero(fill))
    return std::nullopt;
  linalg::GenericOp product;
  SmallVector<Operation *> halves(2);
  for (Operation *user : op->getUsers()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    if (!slice || !slice->hasOneUse())
      return std::nullopt;
    auto reader = dyn_cast<linalg::GenericOp>(*slice->getUsers().begin());
    if (!reader || !reader->hasAttr(llm::cpu::kGatedSiluAttr) ||
        (product && reader != product) || reader.getNumDpsInputs() != 2)
      return std::nullopt;
    product = reader;
    std::optional<int64_t> offset =
        getConstantIntValue(slice.getMixedOffsets().back());
    std::optional<int64_t> size =
        getConstantIntValue(slice.getMixedSizes().back());
    int64_t which = offset == 0 ? 0 : offset == half ? 1 : -1;
    if (which < 0 || size != half ||
        reader.getDpsInputs()[which] != slice.getResult() || halves[which])
      return std::nullopt;
    halves[which] = slice;
  }
  if (!product || !halves[0] || !halves[1])
    return std::nullopt;
  return GatedOutput{product, halves};
}

/// silu(acc[:16]) · acc[16:] of a row's accumulators, with the SiLU
/// llm-lower-to-linalg uses.
Value gatedSilu(OpBuilder &b, Location l, Value acc) {
  constexpr int64_t half = llm::cpu::kGatedHalf;
  auto halfOf = [&](int64_t offset) {
    return vector::ExtractStridedSliceOp::create(b, l, acc, {offset}, {half},
                                                 {1})
        .getResult();
  };
  return arith::MulFOp::create(b, l, llm::cpu::buildSilu(b, l, halfOf(0)),
                               halfOf(half));
}

/// Replaces `op` (a generic computing y[rows..., p, c] over panels of
/// `width` columns from x[rows..., K], and from further per-row inputs
/// `rowInputs` [rows..., ...]) by an scf.forall over the `panels` whose
/// body runs `body` over full tiles of `rows` rows, then one row at a time.
/// `prepare` sees x as [M, K], the row inputs as [M, ...] and M before the
/// loop. With `gated`, the rows' results become the SwiGLU product that
/// read `op`'s panels, written in its place.
void vectorizeOverPanels(
    PatternRewriter &rewriter, linalg::GenericOp op, Value x, Value init,
    int64_t lead, int64_t panels, int64_t width, int64_t rows,
    function_ref<void(Value x, ArrayRef<Value> rowInputs, Value m)> prepare,
    TileBodyFn body, ValueRange rowInputs = {},
    std::optional<GatedOutput> gated = std::nullopt) {
  Location loc = op.getLoc();
  // The kernel goes where the gated product was: its destination is
  // defined after the linear.
  if (gated)
    rewriter.setInsertionPoint(gated->product);
  AccumulatorInit accInit = analyseInit(rewriter, init);
  // A gated product is written instead of the panels: half as wide.
  Value dest = gated ? gated->product.getDpsInits()[0] : accInit.dest;
  int64_t outWidth = gated ? llm::cpu::kGatedHalf : width;
  auto yType = cast<RankedTensorType>(dest.getType());
  Type element = yType.getElementType();
  // Rows: the leading dims as one (a lone row when there are none).
  Value y = dest;
  x = asRows(rewriter, loc, x, lead);
  SmallVector<ReassociationIndices> yReassoc;
  if (lead == 0) {
    yReassoc = {{0, 1}, {2}};
    y = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({1, panels, outWidth}, element), y,
        yReassoc);
  } else if (lead > 1) {
    ReassociationIndices rowDims;
    for (int64_t d = 0; d < lead; ++d)
      rowDims.push_back(d);
    yReassoc = {rowDims, {lead}, {lead + 1}};
    y = tensor::CollapseShapeOp::create(rewriter, loc, y, yReassoc);
  }
  SmallVector<Value> extra;
  for (Value v : rowInputs)
    extra.push_back(asRows(rewriter, loc, v, lead));
  Value m = tensor::DimOp::create(rewriter, loc, x, 0);
  prepare(x, extra, m);

  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
  };
  Value zero = index(0);
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(panels)},
      ValueRange{y}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value panel = forall.getInductionVar(0);
    Value out = forall.getRegionIterArgs()[0];
    SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0), panel,
                                         rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {m, rewriter.getIndexAttr(1),
                                       rewriter.getIndexAttr(outWidth)};
    SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
    auto sliceType =
        RankedTensorType::get({ShapedType::kDynamic, outWidth}, element);
    Value slice = tensor::ExtractSliceOp::create(rewriter, loc, sliceType, out,
                                                 offsets, sizes, strides);
    // Full tiles of `rows` rows, then the rest one row at a time.
    Value tileRows = index(rows);
    Value full = arith::MulIOp::create(
        rewriter, loc, arith::DivUIOp::create(rewriter, loc, m, tileRows),
        tileRows);
    // The accumulators' start, the same for every row.
    Value start;
    auto vectorType = VectorType::get({width}, element);
    if (accInit.zero) {
      start = arith::ConstantOp::create(
          rewriter, loc, vectorType,
          DenseElementsAttr::get(vectorType, rewriter.getZeroAttr(element)));
    } else if (accInit.bias) {
      Value column = arith::MulIOp::create(rewriter, loc, panel, index(width));
      start = vector::TransferReadOp::create(
          rewriter, loc, vectorType, accInit.bias, ValueRange{column},
          arith::ConstantOp::create(rewriter, loc, element,
                                    rewriter.getZeroAttr(element))
              .getResult(),
          ArrayRef<bool>{true});
    }
    EpilogueFn epilogue = gated ? EpilogueFn(gatedSilu) : nullptr;
    slice = rowTiles(rewriter, loc, x, panel, slice, start, zero, full, rows,
                     vectorType, body, epilogue);
    slice = rowTiles(rewriter, loc, x, panel, slice, start, full, m, 1,
                     vectorType, body, epilogue);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, slice, out, offsets,
                                          sizes, strides);
  }
  Value result = forall.getResult(0);
  if (lead == 0)
    result =
        tensor::CollapseShapeOp::create(rewriter, loc, yType, result, yReassoc);
  else if (lead > 1)
    result = tensor::ExpandShapeOp::create(
        rewriter, loc, yType, result, yReassoc,
        tensor::getMixedSizes(rewriter, loc, dest));
  if (!gated) {
    rewriter.replaceOp(op, result);
    return;
  }
  rewriter.replaceOp(gated->product, result);
  for (Operation *half : gated->halves)
    rewriter.eraseOp(half);
  rewriter.eraseOp(op);
}

/// Sums `partial` pairwise into one value.
Value treeSum(OpBuilder &b, Location l, SmallVector<Value> partial) {
  while (partial.size() > 1) {
    SmallVector<Value> halved;
    for (size_t i = 0; i + 1 < partial.size(); i += 2)
      halved.push_back(arith::AddFOp::create(b, l, partial[i], partial[i + 1]));
    if (partial.size() % 2)
      halved.push_back(partial.back());
    partial = halved;
  }
  return partial.front();
}

/// xs[r, g] = Σ_i x[r, g·G + i] for x [M, K]: f32 sums of f32, i32 sums
/// of i8 codes.
Value sumGroups(PatternRewriter &rewriter, Location loc, Value x, Value m,
                int64_t group) {
  MLIRContext *ctx = rewriter.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t k = xType.getDimSize(1), groups = k / group;
  bool integer = xType.getElementType().isInteger(8);
  Type sumType = integer ? Type(rewriter.getI32Type()) : rewriter.getF32Type();
  int64_t rows = xType.getDimSize(0);
  OpFoldResult rowSize = xType.isDynamicDim(0)
                             ? OpFoldResult(m)
                             : OpFoldResult(rewriter.getIndexAttr(rows));
  Value grouped = tensor::ExpandShapeOp::create(
      rewriter, loc,
      RankedTensorType::get({rows, groups, group}, xType.getElementType()), x,
      SmallVector<ReassociationIndices>{{0}, {1, 2}},
      SmallVector<OpFoldResult>{rowSize, rewriter.getIndexAttr(groups),
                                rewriter.getIndexAttr(group)});
  auto sumsType = RankedTensorType::get({rows, groups}, sumType);
  Value empty = tensor::EmptyOp::create(rewriter, loc, sumsType,
                                        xType.isDynamicDim(0) ? ValueRange{m}
                                                              : ValueRange{});
  Value zero =
      arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(sumType));
  Value init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
  AffineExpr r, g, i;
  bindDims(ctx, r, g, i);
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{sumsType}, ValueRange{grouped},
             ValueRange{init},
             ArrayRef<AffineMap>{AffineMap::get(3, 0, {r, g, i}, ctx),
                                 AffineMap::get(3, 0, {r, g}, ctx)},
             ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                           utils::IteratorType::parallel,
                                           utils::IteratorType::reduction},
             [&](OpBuilder &b, Location l, ValueRange a) {
               Value sum =
                   integer
                       ? Value(arith::AddIOp::create(
                             b, l, arith::ExtSIOp::create(b, l, sumType, a[0]),
                             a[1]))
                       : Value(arith::AddFOp::create(b, l, a[0], a[1]));
               linalg::YieldOp::create(b, l, sum);
             })
      .getResult(0);
}

/// Splat of an i32 or i8 constant.
Value splatInt(OpBuilder &b, Location l, VectorType type, int64_t value) {
  return arith::ConstantOp::create(
      b, l, type,
      DenseElementsAttr::get(type,
                             b.getIntegerAttr(type.getElementType(), value)));
}

/// acc + Σ_{i<4} a[4c + i]·b[4c + i] per lane c: a unsigned, b signed.
/// Each i's products are gathered with a shuffle (1-D vectors only, so
/// it lowers as it is), and the final add is tagged for
/// llm-cpu-x86-intrinsics with `vnni`.
Value dotProduct(OpBuilder &b, Location l, Value acc, Value a, Value x,
                 bool vnni) {
  auto wide = VectorType::get({64}, b.getI32Type());
  Value products =
      arith::MulIOp::create(b, l, arith::ExtUIOp::create(b, l, wide, a),
                            arith::ExtSIOp::create(b, l, wide, x));
  SmallVector<Value> strided;
  for (int64_t i = 0; i < 4; ++i) {
    SmallVector<int64_t> lanes;
    for (int64_t c = 0; c < 16; ++c)
      lanes.push_back(4 * c + i);
    strided.push_back(
        vector::ShuffleOp::create(b, l, products, products, lanes));
  }
  Value quads = arith::AddIOp::create(
      b, l, arith::AddIOp::create(b, l, strided[0], strided[1]),
      arith::AddIOp::create(b, l, strided[2], strided[3]));
  auto sum = arith::AddIOp::create(b, l, acc, quads);
  if (vnni)
    sum->setAttr(llm::cpu::kVnniDotAttr, b.getUnitAttr());
  return sum;
}

/// table[idx] per byte, the 64-byte table at `at` in `tables` (its last
/// dimension 64, `at` ending in 0): a gather whose index extension is
/// tagged for llm-cpu-x86-intrinsics (vpermb) with `vbmi` (bufferization
/// rebuilds the gather, and drops its attributes). The indices must be
/// below 64.
Value tableLookup(OpBuilder &b, Location l, Value tables, ValueRange at,
                  Value idx, bool vbmi) {
  auto bytes = cast<VectorType>(idx.getType());
  auto lanes = VectorType::get(bytes.getShape(), b.getI32Type());
  auto maskType = VectorType::get(bytes.getShape(), b.getI1Type());
  Value all = arith::ConstantOp::create(b, l, maskType,
                                        DenseElementsAttr::get(maskType, true));
  auto indices = arith::ExtUIOp::create(b, l, lanes, idx);
  if (vbmi)
    indices->setAttr(llm::cpu::kVbmiLookupAttr, b.getUnitAttr());
  return vector::GatherOp::create(b, l, bytes, tables, at, indices, all,
                                  splatInt(b, l, bytes, 0));
}

/// y + s·Σ + m·Σx for one group of a row: the group's integer sums Σ
/// (vector<NR x i32>), scale and offset vectors, and the row's sum of
/// activation codes over the group (i32).
Value applyGroup(OpBuilder &b, Location l, Value sums, Value scale,
                 Value offset, Value xs, Value y) {
  auto vectorType = cast<VectorType>(scale.getType());
  Value xsF = arith::SIToFPOp::create(b, l, b.getF32Type(), xs);
  y = vector::FMAOp::create(
      b, l, arith::SIToFPOp::create(b, l, vectorType, sums), scale, y);
  return vector::FMAOp::create(
      b, l, vector::BroadcastOp::create(b, l, vectorType, xsF), offset, y);
}

/// The loop nest shared by the integer kernels. Per group g: an scf.for
/// over the group's `steps` steps in strides of `chains`, carrying
/// `perChain` i32 accumulators (vector<16xi32>) per row of the tile and
/// chain (index (r·chains + c)·perChain + i); `step` adds step j of chain
/// c into them (`group` is what `perGroup` read for g). `rowSums` reduces
/// one row's accumulators to the group's sums vector<width x i32>, applied
/// as y += s·Σ + m·Σx_q; each row's result is a·y + start.
struct IntegerGroups {
  int64_t width, groups, steps, chains, perChain;
  Value scales, offsets, groupSums, rowScales;
};

using GroupReadFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value g)>;
using IntegerStepFn =
    function_ref<void(OpBuilder &, Location, Value j, int64_t chain,
                      ArrayRef<Value> group, MutableArrayRef<Value> accs)>;
using RowSumsFn =
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value> rowAccs)>;

SmallVector<Value> integerGroups(OpBuilder &b, Location l,
                                 const IntegerGroups &k, Value panel,
                                 ArrayRef<Value> rowIndex,
                                 ArrayRef<Value> starts, GroupReadFn perGroup,
                                 IntegerStepFn step, RowSumsFn rowSums) {
  Type f32 = b.getF32Type();
  auto vectorType = VectorType::get({k.width}, f32);
  auto laneType = VectorType::get({16}, b.getI32Type());
  int64_t tile = rowIndex.size(), perRow = k.chains * k.perChain;
  Value zero = indexConstant(b, l, 0);
  Value padding = arith::ConstantOp::create(b, l, f32, b.getZeroAttr(f32));
  SmallVector<bool> inBounds = {true};
  Value zerosF = arith::ConstantOp::create(
      b, l, vectorType, DenseElementsAttr::get(vectorType, b.getZeroAttr(f32)));
  Value zerosI = splatInt(b, l, laneType, 0);
  auto groupLoop = scf::ForOp::create(
      b, l, zero, indexConstant(b, l, k.groups), indexConstant(b, l, 1),
      SmallVector<Value>(tile, zerosF),
      [&](OpBuilder &gb, Location gl, Value g, ValueRange gAccs) {
        Value first =
            arith::MulIOp::create(gb, gl, g, indexConstant(gb, gl, k.steps));
        Value last = arith::AddIOp::create(gb, gl, first,
                                           indexConstant(gb, gl, k.steps));
        SmallVector<Value> group = perGroup(gb, gl, g);
        auto stepLoop = scf::ForOp::create(
            gb, gl, first, last, indexConstant(gb, gl, k.chains),
            SmallVector<Value>(tile * perRow, zerosI),
            [&](OpBuilder &kb, Location kl, Value j0, ValueRange partial) {
              SmallVector<Value> next(partial.begin(), partial.end());
              for (int64_t c = 0; c < k.chains; ++c)
                step(kb, kl, offsetIndex(kb, kl, j0, c), c, group, next);
              scf::YieldOp::create(kb, kl, next);
            });
        Value scale = vector::TransferReadOp::create(
            gb, gl, vectorType, k.scales, ValueRange{panel, g, zero}, padding,
            inBounds);
        Value offset = vector::TransferReadOp::create(
            gb, gl, vectorType, k.offsets, ValueRange{panel, g, zero}, padding,
            inBounds);
        SmallVector<Value> updated;
        for (int64_t r = 0; r < tile; ++r) {
          SmallVector<Value> rowAccs(stepLoop.getResults().begin() + r * perRow,
                                     stepLoop.getResults().begin() +
                                         (r + 1) * perRow);
          Value xs = tensor::ExtractOp::create(gb, gl, k.groupSums,
                                               ValueRange{rowIndex[r], g});
          updated.push_back(applyGroup(gb, gl, rowSums(gb, gl, rowAccs), scale,
                                       offset, xs, gAccs[r]));
        }
        scf::YieldOp::create(gb, gl, updated);
      });
  SmallVector<Value> results;
  for (int64_t r = 0; r < tile; ++r) {
    Value a = tensor::ExtractOp::create(b, l, k.rowScales, rowIndex[r]);
    results.push_back(vector::FMAOp::create(
        b, l, vector::BroadcastOp::create(b, l, vectorType, a),
        groupLoop.getResult(r), starts[r]));
  }
  return results;
}

struct VectorizePackedLinear : OpRewritePattern<linalg::GenericOp> {
  VectorizePackedLinear(MLIRContext *ctx, int64_t rows)
      : OpRewritePattern(ctx), rows(rows) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<PackedLinear> match = matchPackedLinear(op);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, "not a packed linear");
    auto wType = cast<RankedTensorType>(match->w.getType());
    int64_t depth = wType.getDimSize(1), width = wType.getDimSize(2);
    Value w = match->w;
    vectorizeOverPanels(
        rewriter, op, match->x, match->init, match->leadDims,
        wType.getDimSize(0), width, rows, [](Value, ArrayRef<Value>, Value) {},
        [&](OpBuilder &b, Location l, Value x, Value panel,
            ArrayRef<Value> rowIndex, ArrayRef<Value> starts) {
          return tileBody(b, l, x, w, panel, rowIndex, starts, depth, width);
        },
        {}, gatedReader(op, match->init, width));
    return success();
  }

  /// The tile's accumulators of vector<width> carried through the k loop;
  /// each step reads one panel row and does one broadcast-FMA per row.
  static SmallVector<Value> tileBody(OpBuilder &b, Location l, Value x, Value w,
                                     Value panel, ArrayRef<Value> rowIndex,
                                     ArrayRef<Value> starts, int64_t depth,
                                     int64_t width) {
    Type element = cast<ShapedType>(w.getType()).getElementType();
    auto vectorType = VectorType::get({width}, element);
    int64_t tile = rowIndex.size();
    Value zero = indexConstant(b, l, 0);
    Value padding =
        arith::ConstantOp::create(b, l, element, b.getZeroAttr(element));
    SmallVector<bool> inBounds = {true};
    // A single row (decode's GEMV) has one accumulator per column vector:
    // split k over `chains` independent ones so that FMA latency does not
    // bound the stream of weights.
    int64_t chains = tile == 1 && depth % 4 == 0 ? 4 : 1;
    Value zeros = arith::ConstantOp::create(
        b, l, vectorType,
        DenseElementsAttr::get(vectorType, b.getZeroAttr(element)));
    SmallVector<Value> accs;
    for (int64_t r = 0; r < tile; ++r)
      for (int64_t c = 0; c < chains; ++c)
        accs.push_back(c > 0 ? zeros : starts[r]);
    auto kLoop = scf::ForOp::create(
        b, l, zero, indexConstant(b, l, depth), indexConstant(b, l, chains),
        accs, [&](OpBuilder &kb, Location kl, Value k0, ValueRange kAccs) {
          SmallVector<Value> next(kAccs.begin(), kAccs.end());
          for (int64_t c = 0; c < chains; ++c) {
            Value k = offsetIndex(kb, kl, k0, c);
            Value weights = vector::TransferReadOp::create(
                kb, kl, vectorType, w, ValueRange{panel, k, zero}, padding,
                inBounds);
            for (int64_t r = 0; r < tile; ++r) {
              Value a = tensor::ExtractOp::create(kb, kl, x,
                                                  ValueRange{rowIndex[r], k});
              Value splat = vector::BroadcastOp::create(kb, kl, vectorType, a);
              auto fma = vector::FMAOp::create(kb, kl, splat, weights,
                                               next[r * chains + c]);
              // A tile of rows reads each panel many times: its next panel
              // is fetched meanwhile (llm-cpu-prefetch-panels).
              if (tile > 1 && r == 0)
                fma->setAttr(llm::cpu::kPrefetchNextPanelAttr,
                             kb.getUnitAttr());
              next[r * chains + c] = fma;
            }
          }
          scf::YieldOp::create(kb, kl, next);
        });
    SmallVector<Value> sums;
    for (int64_t r = 0; r < tile; ++r) {
      SmallVector<Value> partial;
      for (int64_t c = 0; c < chains; ++c)
        partial.push_back(kLoop.getResult(r * chains + c));
      sums.push_back(treeSum(b, l, partial));
    }
    return sums;
  }

  int64_t rows;
};

/// The operands of the generic llm-lower-to-linalg writes for a quantized
/// linear over packed panels:
///   y[lead..., p, c] += x[lead..., k] * (s[p, k/G, c] * q(p, k, c) + m[p, k/G,
///   c])
/// with codes [P, K·bits/8, NR] (8/bits consecutive k per byte).
struct QuantizedPanels {
  Value x, codes, scales, offsets, init;
  int64_t leadDims, bits, group;
};

FailureOr<QuantizedPanels> matchQuantizedPanels(linalg::GenericOp op) {
  auto bits = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedBitsAttr);
  auto group = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedGroupAttr);
  if (!bits || !group || op.getNumDpsInputs() != 4 ||
      op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return failure();
  QuantizedPanels q{op.getDpsInputs()[0], op.getDpsInputs()[1],
                    op.getDpsInputs()[2], op.getDpsInputs()[3],
                    op.getDpsInits()[0],  op.getNumLoops() - 3,
                    bits.getInt(),        group.getInt()};
  auto xType = dyn_cast<RankedTensorType>(q.x.getType());
  auto cType = dyn_cast<RankedTensorType>(q.codes.getType());
  auto sType = dyn_cast<RankedTensorType>(q.scales.getType());
  auto yType = dyn_cast<RankedTensorType>(q.init.getType());
  if (!xType || !cType || !sType || !yType || q.leadDims < 0 ||
      (q.bits != 2 && q.bits != 4 && q.bits != 8) || q.group < 1 ||
      q.group % (8 / q.bits) != 0 || !cType.hasStaticShape() ||
      !sType.hasStaticShape() || cType.getRank() != 3 || sType.getRank() != 3 ||
      q.offsets.getType() != sType || !xType.getElementType().isF32() ||
      !cType.getElementType().isInteger(8) || !sType.getElementType().isF32() ||
      yType.getElementType() != sType.getElementType() ||
      xType.getRank() != q.leadDims + 1 || yType.getRank() != q.leadDims + 2)
    return failure();
  int64_t panels = cType.getDimSize(0), width = cType.getDimSize(2);
  int64_t k = cType.getDimSize(1) * 8 / q.bits;
  if (width > llm::cpu::kMaxPanelWidth || k % q.group != 0 ||
      xType.getShape().back() != k || sType.getDimSize(0) != panels ||
      sType.getDimSize(1) != k / q.group || sType.getDimSize(2) != width ||
      yType.getDimSize(q.leadDims) != panels ||
      yType.getDimSize(q.leadDims + 1) != width)
    return failure();
  return q;
}

/// Register-tiled code for a quantized linear. Codes are loaded a panel row
/// of bytes at a time (8/bits codes of each column per byte), widened and
/// converted in registers. A tile of rows (prefill) dequantizes each code
/// row once, w = s·q + m, and shares it across the tile's rows. A single
/// row (decode) accumulates Σ x·q over the group in registers and then
/// applies the group's scale and offset once, y += s·Σx·q + m·Σx (MixPE's
/// dequantize after the GEMV): one FMA per weight instead of two. Σx per row
/// and group is computed once, before the panels.
struct VectorizeQuantizedPanels : OpRewritePattern<linalg::GenericOp> {
  VectorizeQuantizedPanels(MLIRContext *ctx, int64_t rows)
      : OpRewritePattern(ctx), rows(rows) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<QuantizedPanels> match = matchQuantizedPanels(op);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, "not quantized panels");
    QuantizedPanels q = *match;
    auto cType = cast<RankedTensorType>(q.codes.getType());
    int64_t width = cType.getDimSize(2);
    Value groupSums;
    vectorizeOverPanels(
        rewriter, op, q.x, q.init, q.leadDims, cType.getDimSize(0), width, rows,
        [&](Value x, ArrayRef<Value>, Value m) {
          groupSums = sumGroups(rewriter, op.getLoc(), x, m, q.group);
        },
        [&](OpBuilder &b, Location l, Value x, Value panel,
            ArrayRef<Value> rowIndex, ArrayRef<Value> starts) {
          return tileBody(b, l, q, x, groupSums, panel, rowIndex, starts,
                          width);
        });
    return success();
  }

  /// scf.for over the groups, and inside it over the group's bytes of
  /// codes, for one tile of rows.
  static SmallVector<Value> tileBody(OpBuilder &b, Location l,
                                     const QuantizedPanels &q, Value x,
                                     Value groupSums, Value panel,
                                     ArrayRef<Value> rowIndex,
                                     ArrayRef<Value> starts, int64_t width) {
    Type f32 = b.getF32Type();
    auto vectorType = VectorType::get({width}, f32);
    auto byteType = VectorType::get({width}, b.getI8Type());
    auto wideType = VectorType::get({width}, b.getI32Type());
    int64_t tile = rowIndex.size();
    int64_t perByte = 8 / q.bits;
    int64_t groupBytes = q.group / perByte;
    int64_t groups = cast<RankedTensorType>(q.scales.getType()).getDimSize(1);
    auto index = [&](OpBuilder &ib, int64_t v) {
      return indexConstant(ib, l, v);
    };
    Value zero = index(b, 0);
    Value padding = arith::ConstantOp::create(b, l, f32, b.getZeroAttr(f32));
    Value bytePadding = arith::ConstantOp::create(b, l, b.getI8Type(),
                                                  b.getZeroAttr(b.getI8Type()));
    SmallVector<bool> inBounds = {true};
    // A tile of rows (prefill) dequantizes each code row once and shares
    // it; a single row (decode) applies scale and offset per group, and
    // splits each group's bytes over independent accumulator chains (FMA
    // latency).
    bool dequantize = tile > 1;
    int64_t chains = singleRowChains(tile, groupBytes);
    Value zeros = arith::ConstantOp::create(
        b, l, vectorType,
        DenseElementsAttr::get(vectorType, b.getZeroAttr(f32)));
    auto groupLoop = scf::ForOp::create(
        b, l, zero, index(b, groups), index(b, 1), starts,
        [&](OpBuilder &gb, Location gl, Value g, ValueRange gAccs) {
          Value firstByte =
              arith::MulIOp::create(gb, gl, g, index(gb, groupBytes));
          Value lastByte =
              arith::AddIOp::create(gb, gl, firstByte, index(gb, groupBytes));
          Value scale = vector::TransferReadOp::create(
              gb, gl, vectorType, q.scales, ValueRange{panel, g, zero}, padding,
              inBounds);
          Value offset = vector::TransferReadOp::create(
              gb, gl, vectorType, q.offsets, ValueRange{panel, g, zero},
              padding, inBounds);
          SmallVector<Value> partialInit =
              dequantize ? SmallVector<Value>(gAccs)
                         : SmallVector<Value>(tile * chains, zeros);
          auto byteLoop = scf::ForOp::create(
              gb, gl, firstByte, lastByte, index(gb, chains), partialInit,
              [&](OpBuilder &kb, Location kl, Value j0, ValueRange partial) {
                SmallVector<Value> next(partial.begin(), partial.end());
                for (int64_t c = 0; c < chains; ++c) {
                  Value j = offsetIndex(kb, kl, j0, c);
                  Value bytes = vector::TransferReadOp::create(
                      kb, kl, byteType, q.codes, ValueRange{panel, j, zero},
                      bytePadding, inBounds);
                  Value wide = arith::ExtUIOp::create(kb, kl, wideType, bytes);
                  for (int64_t t = 0; t < perByte; ++t) {
                    Value code = wide;
                    if (t > 0)
                      code = arith::ShRUIOp::create(
                          kb, kl, code, splatInt(kb, kl, wideType, t * q.bits));
                    // The top code of a byte needs no mask.
                    if (t + 1 < perByte)
                      code = arith::AndIOp::create(
                          kb, kl, code,
                          splatInt(kb, kl, wideType, (1 << q.bits) - 1));
                    Value weights =
                        arith::UIToFPOp::create(kb, kl, vectorType, code);
                    if (dequantize)
                      weights =
                          vector::FMAOp::create(kb, kl, scale, weights, offset);
                    Value k = arith::AddIOp::create(
                        kb, kl,
                        arith::MulIOp::create(kb, kl, j, index(kb, perByte)),
                        index(kb, t));
                    for (int64_t r = 0; r < tile; ++r) {
                      Value a = tensor::ExtractOp::create(
                          kb, kl, x, ValueRange{rowIndex[r], k});
                      Value splat =
                          vector::BroadcastOp::create(kb, kl, vectorType, a);
                      next[r * chains + c] = vector::FMAOp::create(
                          kb, kl, splat, weights, next[r * chains + c]);
                    }
                  }
                }
                scf::YieldOp::create(kb, kl, next);
              });
          if (dequantize) {
            scf::YieldOp::create(gb, gl, byteLoop.getResults());
            return;
          }
          SmallVector<Value> updated;
          for (int64_t r = 0; r < tile; ++r) {
            SmallVector<Value> partial;
            for (int64_t c = 0; c < chains; ++c)
              partial.push_back(byteLoop.getResult(r * chains + c));
            Value sum = treeSum(gb, gl, partial);
            Value xs = tensor::ExtractOp::create(gb, gl, groupSums,
                                                 ValueRange{rowIndex[r], g});
            Value y = vector::FMAOp::create(gb, gl, sum, scale, gAccs[r]);
            y = vector::FMAOp::create(
                gb, gl, vector::BroadcastOp::create(gb, gl, vectorType, xs),
                offset, y);
            updated.push_back(y);
          }
          scf::YieldOp::create(gb, gl, updated);
        });
    return SmallVector<Value>(groupLoop.getResults());
  }

  int64_t rows;
};

/// The operands of the generic llm-lower-to-linalg writes for a quantized
/// linear with int8 activations:
///   y[lead..., p, c] += a[lead...]·x_q[lead..., k]·(s[p, k/G, c]·q + m)
/// with codes [P, K/(4·8/bits), 4·NR] packed for 4-way dot products
/// (3-bit codes: their low two bits in the 2-bit layout, their high bit
/// in `high` [P, K/32, 4·NR]).
struct IntegerDotPanels {
  Value x, codes, high, scales, offsets, rowScales, init;
  int64_t leadDims, bits, group;
  // With a codebook: each column's datatype << bits per panel and group
  // [P, K/G, 4·NR], and the 64-byte table of values + 128.
  Value kindShifts;
  DenseElementsAttr table;

  /// Codes per byte of `codes` (the low two bits of 3-bit codes), and
  /// their bits.
  int64_t perByte() const { return bits == 3 ? 4 : 8 / bits; }
  int64_t byteBits() const { return bits == 3 ? 2 : bits; }
};

FailureOr<IntegerDotPanels> matchIntegerDotPanels(linalg::GenericOp op) {
  auto bits = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedBitsAttr);
  auto group = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedGroupAttr);
  auto activations =
      op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedActivationsAttr);
  auto table = op->getAttrOfType<DenseElementsAttr>(llm::cpu::kLookupTableAttr);
  if (!bits || !group || !activations || activations.getInt() != 8 ||
      op->hasAttr(llm::cpu::kBitPlanesAttr))
    return failure();
  bool threeBit = bits.getInt() == 3;
  if (op.getNumDpsInputs() != 5 + (table ? 1 : 0) + (threeBit ? 1 : 0) ||
      op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return failure();
  SmallVector<Value> in = op.getDpsInputs();
  int64_t h = threeBit ? 1 : 0;
  IntegerDotPanels q{in[0],
                     in[1],
                     threeBit ? in[2] : Value(),
                     in[2 + h],
                     in[3 + h],
                     in[4 + h],
                     op.getDpsInits()[0],
                     op.getNumLoops() - 3,
                     bits.getInt(),
                     group.getInt(),
                     table ? in[5 + h] : Value(),
                     table};
  auto xType = dyn_cast<RankedTensorType>(q.x.getType());
  auto cType = dyn_cast<RankedTensorType>(q.codes.getType());
  auto sType = dyn_cast<RankedTensorType>(q.scales.getType());
  auto rType = dyn_cast<RankedTensorType>(q.rowScales.getType());
  auto yType = dyn_cast<RankedTensorType>(q.init.getType());
  int64_t quad = 4 * q.perByte();
  if (!xType || !cType || !sType || !rType || !yType || q.leadDims < 0 ||
      (q.bits != 2 && q.bits != 3 && q.bits != 4 && q.bits != 8) ||
      q.group % quad != 0 || !cType.hasStaticShape() ||
      !sType.hasStaticShape() || cType.getRank() != 3 || sType.getRank() != 3 ||
      q.offsets.getType() != sType || !xType.getElementType().isInteger(8) ||
      !cType.getElementType().isInteger(8) || !sType.getElementType().isF32() ||
      !rType.getElementType().isF32() ||
      yType.getElementType() != sType.getElementType() ||
      xType.getRank() != q.leadDims + 1 || rType.getRank() != q.leadDims ||
      yType.getRank() != q.leadDims + 2)
    return failure();
  int64_t panels = cType.getDimSize(0), width = sType.getDimSize(2);
  int64_t k = cType.getDimSize(1) * quad;
  if (width % 16 != 0 || width > llm::cpu::kMaxPanelWidth ||
      cType.getDimSize(2) != 4 * width || k % q.group != 0 ||
      xType.getShape().back() != k || sType.getDimSize(0) != panels ||
      sType.getDimSize(1) != k / q.group ||
      yType.getDimSize(q.leadDims) != panels ||
      yType.getDimSize(q.leadDims + 1) != width)
    return failure();
  if (threeBit &&
      (k % 32 != 0 ||
       q.high.getType() != RankedTensorType::get({panels, k / 32, 4 * width},
                                                 cType.getElementType())))
    return failure();
  if (table &&
      (table.getType() !=
           RankedTensorType::get({64}, IntegerType::get(op.getContext(), 8)) ||
       q.kindShifts.getType() !=
           RankedTensorType::get({panels, sType.getDimSize(1), 4 * width},
                                 cType.getElementType())))
    return failure();
  return q;
}

/// Register-tiled code for a quantized linear with int8 activations
/// (W8A8, W4A8): per group, Σ q·x_q in i32 with 4-way dot products of
/// unsigned codes and signed activations, 16 columns × 4 k per step (tagged
/// to become VNNI's vpdpbusd when `vnni`), then
/// y += s·Σq·x_q + m·Σx_q in f32 once per group, and the row's scale once
/// at the end. Integer sums are exact, so the result does not depend on how
/// k is split over accumulator chains.
struct VectorizeIntegerDotPanels : OpRewritePattern<linalg::GenericOp> {
  VectorizeIntegerDotPanels(MLIRContext *ctx, int64_t rows, bool vnni,
                            bool vbmi)
      : OpRewritePattern(ctx), rows(rows), vnni(vnni), vbmi(vbmi) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<IntegerDotPanels> match = matchIntegerDotPanels(op);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, "not integer dot panels");
    IntegerDotPanels q = *match;
    auto sType = cast<RankedTensorType>(q.scales.getType());
    int64_t width = sType.getDimSize(2);
    Value groupSums, rowScales, table;
    if (q.table)
      table = arith::ConstantOp::create(rewriter, op.getLoc(), q.table);
    vectorizeOverPanels(
        rewriter, op, q.x, q.init, q.leadDims, sType.getDimSize(0), width, rows,
        [&](Value x, ArrayRef<Value> rowInputs, Value m) {
          groupSums = sumGroups(rewriter, op.getLoc(), x, m, q.group);
          rowScales = rowInputs[0];
        },
        [&](OpBuilder &b, Location l, Value x, Value panel,
            ArrayRef<Value> rowIndex, ArrayRef<Value> starts) {
          return tileBody(b, l, q, x, groupSums, rowScales, table, panel,
                          rowIndex, starts, width);
        },
        ValueRange{q.rowScales});
    return success();
  }

  SmallVector<Value> tileBody(OpBuilder &b, Location l,
                              const IntegerDotPanels &q, Value x,
                              Value groupSums, Value rowScales, Value table,
                              Value panel, ArrayRef<Value> rowIndex,
                              ArrayRef<Value> starts, int64_t width) const {
    Type i32 = b.getI32Type(), i8 = b.getI8Type();
    auto laneType = VectorType::get({16}, i32);
    auto rowBytesType = VectorType::get({4 * width}, i8);
    auto chunkType = VectorType::get({64}, i8);
    int64_t tile = rowIndex.size();
    int64_t perByte = q.perByte(), quad = 4 * perByte, byteBits = q.byteBits();
    int64_t chunks = width / 16;
    int64_t steps = q.group / quad;
    auto index = [&](OpBuilder &ib, int64_t v) {
      return indexConstant(ib, l, v);
    };
    Value zero = index(b, 0);
    Value bytePadding = arith::ConstantOp::create(b, l, i8, b.getZeroAttr(i8));
    SmallVector<bool> inBounds = {true};
    // A single row has one i32 accumulator per 16 columns: split each
    // group's steps over chains (dot-product latency).
    int64_t chains = singleRowChains(tile, steps);
    IntegerGroups shape{
        width,     cast<RankedTensorType>(q.scales.getType()).getDimSize(1),
        steps,     chains,
        chunks,    q.scales,
        q.offsets, groupSums,
        rowScales};
    auto perGroup = [&](OpBuilder &gb, Location gl, Value g) {
      SmallVector<Value> kindShift;
      if (table)
        kindShift.push_back(vector::TransferReadOp::create(
            gb, gl, rowBytesType, q.kindShifts, ValueRange{panel, g, zero},
            bytePadding, inBounds));
      return kindShift;
    };
    auto step = [&](OpBuilder &kb, Location kl, Value j, int64_t c,
                    ArrayRef<Value> group, MutableArrayRef<Value> next) {
      Value bytes = vector::TransferReadOp::create(
          kb, kl, rowBytesType, q.codes, ValueRange{panel, j, zero},
          bytePadding, inBounds);
      // 3-bit codes: this step's 4 high bits of each byte of the high row
      // j/2 (the low nibble for even j).
      Value high;
      if (q.high) {
        Value two = index(kb, 2);
        high = vector::TransferReadOp::create(
            kb, kl, rowBytesType, q.high,
            ValueRange{panel, arith::DivUIOp::create(kb, kl, j, two), zero},
            bytePadding, inBounds);
        Value odd = arith::IndexCastUIOp::create(
            kb, kl, i8,
            arith::MulIOp::create(
                kb, kl, arith::RemUIOp::create(kb, kl, j, two), index(kb, 4)));
        high = arith::ShRUIOp::create(
            kb, kl, high,
            vector::BroadcastOp::create(kb, kl, rowBytesType, odd));
      }
      for (int64_t t = 0; t < perByte; ++t) {
        Value codes = bytes;
        if (t > 0)
          codes = arith::ShRUIOp::create(
              kb, kl, codes, splatInt(kb, kl, rowBytesType, t * byteBits));
        if (t + 1 < perByte)
          codes = arith::AndIOp::create(
              kb, kl, codes,
              splatInt(kb, kl, rowBytesType, (1 << byteBits) - 1));
        if (high) {
          // Bit t of the high nibble, moved to bit 2.
          Value moved =
              t <= 2 ? arith::ShLIOp::create(
                           kb, kl, high, splatInt(kb, kl, rowBytesType, 2 - t))
                           .getResult()
                     : arith::ShRUIOp::create(
                           kb, kl, high, splatInt(kb, kl, rowBytesType, t - 2))
                           .getResult();
          codes = arith::OrIOp::create(
              kb, kl, codes,
              arith::AndIOp::create(kb, kl, moved,
                                    splatInt(kb, kl, rowBytesType, 4)));
        }
        if (table)
          codes = arith::OrIOp::create(kb, kl, codes, group[0]);
        Value k = arith::MulIOp::create(
            kb, kl,
            arith::AddIOp::create(
                kb, kl, arith::MulIOp::create(kb, kl, j, index(kb, perByte)),
                index(kb, t)),
            index(kb, 4));
        // 64 bytes per 16 columns, looked up once for the tile's rows.
        SmallVector<Value> parts;
        for (int64_t h = 0; h < chunks; ++h) {
          Value part = chunks == 1
                           ? codes
                           : vector::ExtractStridedSliceOp::create(
                                 kb, kl, codes, ArrayRef<int64_t>{h * 64},
                                 ArrayRef<int64_t>{64}, ArrayRef<int64_t>{1})
                                 .getResult();
          parts.push_back(table ? tableLookup(kb, kl, table,
                                              ValueRange{index(kb, 0)}, part,
                                              vbmi)
                                : part);
        }
        for (int64_t r = 0; r < tile; ++r) {
          // x_q[row, k..k+3] as one i32, in every lane.
          Value four = vector::TransferReadOp::create(
              kb, kl, VectorType::get({4}, i8), x, ValueRange{rowIndex[r], k},
              bytePadding, inBounds);
          Value word = vector::BitCastOp::create(
              kb, kl, VectorType::get({1}, i32), four);
          Value splat = vector::BroadcastOp::create(kb, kl, laneType, word);
          Value xBytes = vector::BitCastOp::create(kb, kl, chunkType, splat);
          for (int64_t h = 0; h < chunks; ++h) {
            Value &acc = next[(r * chains + c) * chunks + h];
            acc = dotProduct(kb, kl, acc, parts[h], xBytes, vnni);
          }
        }
      }
    };
    // Chains summed per 16 columns, the 16-column parts side by side.
    auto rowSums = [&](OpBuilder &gb, Location gl, ArrayRef<Value> accs) {
      Value sums = splatInt(gb, gl, VectorType::get({width}, i32), 0);
      for (int64_t h = 0; h < chunks; ++h) {
        Value sum = accs[h];
        for (int64_t c = 1; c < chains; ++c)
          sum = arith::AddIOp::create(gb, gl, sum, accs[c * chunks + h]);
        sums = chunks == 1 ? sum
                           : vector::InsertStridedSliceOp::create(
                                 gb, gl, sum, sums, ArrayRef<int64_t>{h * 16},
                                 ArrayRef<int64_t>{1})
                                 .getResult();
      }
      return sums;
    };
    return integerGroups(b, l, shape, panel, rowIndex, starts, perGroup, step,
                         rowSums);
  }

  int64_t rows;
  bool vnni, vbmi;
};

/// The operands of the generic llm-lower-to-linalg writes for a quantized
/// linear with int8 activations over T-MAC bit planes (kBitPlanesAttr):
/// codes [P, K/16, bits/2, 64], one input per plane row.
struct BitPlanePanels {
  Value x, codes, scales, offsets, rowScales, init;
  int64_t leadDims, bits, group;
};

FailureOr<BitPlanePanels> matchBitPlanePanels(linalg::GenericOp op) {
  auto bits = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedBitsAttr);
  auto group = op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedGroupAttr);
  auto activations =
      op->getAttrOfType<IntegerAttr>(llm::cpu::kQuantizedActivationsAttr);
  if (!op->hasAttr(llm::cpu::kBitPlanesAttr) || !bits || !group ||
      !activations || activations.getInt() != 8 ||
      (bits.getInt() != 2 && bits.getInt() != 4) || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return failure();
  int64_t planeRows = bits.getInt() / 2;
  SmallVector<Value> in = op.getDpsInputs();
  if (static_cast<int64_t>(in.size()) != planeRows + 4 ||
      !llvm::all_of(ArrayRef(in).slice(1, planeRows),
                    [&](Value v) { return v == in[1]; }))
    return failure();
  BitPlanePanels q{in[0],
                   in[1],
                   in[planeRows + 1],
                   in[planeRows + 2],
                   in[planeRows + 3],
                   op.getDpsInits()[0],
                   op.getNumLoops() - 3,
                   bits.getInt(),
                   group.getInt()};
  auto xType = dyn_cast<RankedTensorType>(q.x.getType());
  auto cType = dyn_cast<RankedTensorType>(q.codes.getType());
  auto sType = dyn_cast<RankedTensorType>(q.scales.getType());
  auto rType = dyn_cast<RankedTensorType>(q.rowScales.getType());
  auto yType = dyn_cast<RankedTensorType>(q.init.getType());
  if (!xType || !cType || !sType || !rType || !yType || q.leadDims < 0 ||
      q.group % 16 != 0 || !cType.hasStaticShape() || !sType.hasStaticShape() ||
      cType.getRank() != 4 || sType.getRank() != 3 ||
      q.offsets.getType() != sType || !xType.getElementType().isInteger(8) ||
      !cType.getElementType().isInteger(8) || !sType.getElementType().isF32() ||
      !rType.getElementType().isF32() ||
      yType.getElementType() != sType.getElementType() ||
      xType.getRank() != q.leadDims + 1 || rType.getRank() != q.leadDims ||
      yType.getRank() != q.leadDims + 2)
    return failure();
  int64_t panels = cType.getDimSize(0), k = cType.getDimSize(1) * 16;
  if (sType.getDimSize(2) != 16 || cType.getDimSize(2) != planeRows ||
      cType.getDimSize(3) != 64 || k % q.group != 0 ||
      xType.getShape().back() != k || sType.getDimSize(0) != panels ||
      sType.getDimSize(1) != k / q.group ||
      yType.getDimSize(q.leadDims) != panels ||
      yType.getDimSize(q.leadDims + 1) != 16)
    return failure();
  return q;
}

/// T-MAC's tables of rows of int8 activations x [M, K]: for each 4 inputs
/// x[4u..4u+3] and each of the 16 subsets b of them,
/// T[u, b] = Σ_i bit_i(b)·x[4u + i] (|T| ≤ 508), split into bytes
/// T = lo + 256·hi (lo unsigned, hi signed), as [M, K/16, 2, 64]: per
/// chunk of 16 inputs a 64-byte row of lo bytes and one of hi bytes whose
/// byte 16t + b is entry b of the chunk's table t. Built once per row,
/// before the panels, with vector ops (4 shuffles and masked adds per
/// chunk).
Value activationTables(PatternRewriter &rewriter, Location loc, Value x,
                       Value m) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t chunks = xType.getDimSize(1) / 16;
  Type i8 = rewriter.getI8Type(), i16 = rewriter.getI16Type();
  auto tablesType =
      RankedTensorType::get({xType.getDimSize(0), chunks, 2, 64}, i8);
  Value tables = tensor::EmptyOp::create(rewriter, loc, tablesType,
                                         xType.isDynamicDim(0) ? ValueRange{m}
                                                               : ValueRange{});
  auto bytesType = VectorType::get({64}, i8);
  auto wordsType = VectorType::get({64}, i16);
  auto maskType = VectorType::get({64}, rewriter.getI1Type());
  SmallVector<Value> masks;
  SmallVector<SmallVector<int64_t>> spreads;
  for (int64_t i = 0; i < 4; ++i) {
    SmallVector<bool> mask;
    SmallVector<int64_t> spread;
    for (int64_t e = 0; e < 64; ++e) {
      mask.push_back(((e % 16) >> i) & 1);
      spread.push_back(4 * (e / 16) + i);
    }
    masks.push_back(arith::ConstantOp::create(
        rewriter, loc, maskType, DenseElementsAttr::get(maskType, mask)));
    spreads.push_back(spread);
  }
  Value zero = indexConstant(rewriter, loc, 0);
  Value one = indexConstant(rewriter, loc, 1);
  Value bytePadding =
      arith::ConstantOp::create(rewriter, loc, i8, rewriter.getZeroAttr(i8));
  Value noBytes = splatInt(rewriter, loc, bytesType, 0);
  Value noWords = splatInt(rewriter, loc, wordsType, 0);
  Value eight = splatInt(rewriter, loc, wordsType, 8);
  SmallVector<bool> inBounds = {true};
  auto rowLoop = scf::ForOp::create(
      rewriter, loc, zero, m, one, ValueRange{tables},
      [&](OpBuilder &rb, Location rl, Value row, ValueRange rowIter) {
        auto chunkLoop = scf::ForOp::create(
            rb, rl, zero, indexConstant(rb, rl, chunks), one, rowIter,
            [&](OpBuilder &b, Location l, Value j, ValueRange iter) {
              Value k = arith::MulIOp::create(b, l, j, indexConstant(b, l, 16));
              Value xs = vector::TransferReadOp::create(
                  b, l, VectorType::get({16}, i8), x, ValueRange{row, k},
                  bytePadding, inBounds);
              Value sum = noWords;
              for (int64_t i = 0; i < 4; ++i) {
                Value spread =
                    vector::ShuffleOp::create(b, l, xs, xs, spreads[i]);
                Value chosen =
                    arith::SelectOp::create(b, l, masks[i], spread, noBytes);
                sum = arith::AddIOp::create(
                    b, l, sum, arith::ExtSIOp::create(b, l, wordsType, chosen));
              }
              Value lo = arith::TruncIOp::create(b, l, bytesType, sum);
              Value hi = arith::TruncIOp::create(
                  b, l, bytesType, arith::ShRSIOp::create(b, l, sum, eight));
              Value out = iter[0];
              std::array<Value, 2> halves = {lo, hi};
              for (int64_t half = 0; half < 2; ++half)
                out = vector::TransferWriteOp::create(
                          b, l, halves[half], out,
                          ValueRange{row, j, indexConstant(b, l, half), zero},
                          inBounds)
                          .getResult();
              scf::YieldOp::create(b, l, out);
            });
        scf::YieldOp::create(rb, rl, chunkLoop.getResults());
      });
  return rowLoop.getResult(0);
}

/// T-MAC's lookup-table kernel for a quantized linear with int8
/// activations over bit planes: Σ_k q·x_q = Σ_b 2^b Σ_u T_u[idx_b,u], the
/// index of plane b over 4 inputs u a nibble of the codes. Per chunk of 16
/// inputs and plane, 64 indices (16 columns × the chunk's 4 tables) ORed
/// with their table's number look up the chunk's 64-byte lo and hi tables
/// (vpermb with `vbmi`), and 4-way dot products with 2^b sum them per
/// column in i32 (lo·2^b and 2^b·hi, vpdpbusd with `vnni`). Per group,
/// y += s·(Σlo + 256·Σhi) + m·Σx_q: the same integers as the dot-product
/// kernel, so the same result bit for bit. The tables are built once per
/// row before the panels; a tile of rows shares each index vector.
struct VectorizeBitPlanePanels : OpRewritePattern<linalg::GenericOp> {
  VectorizeBitPlanePanels(MLIRContext *ctx, int64_t rows, bool vnni, bool vbmi)
      : OpRewritePattern(ctx), rows(rows), vnni(vnni), vbmi(vbmi) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<BitPlanePanels> match = matchBitPlanePanels(op);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, "not bit plane panels");
    BitPlanePanels q = *match;
    auto sType = cast<RankedTensorType>(q.scales.getType());
    Value groupSums, rowScales, tables;
    vectorizeOverPanels(
        rewriter, op, q.x, q.init, q.leadDims, sType.getDimSize(0), 16, rows,
        [&](Value x, ArrayRef<Value> rowInputs, Value m) {
          groupSums = sumGroups(rewriter, op.getLoc(), x, m, q.group);
          tables = activationTables(rewriter, op.getLoc(), x, m);
          rowScales = rowInputs[0];
        },
        [&](OpBuilder &b, Location l, Value, Value panel,
            ArrayRef<Value> rowIndex, ArrayRef<Value> starts) {
          return tileBody(b, l, q, groupSums, rowScales, tables, panel,
                          rowIndex, starts);
        },
        ValueRange{q.rowScales});
    return success();
  }

  SmallVector<Value> tileBody(OpBuilder &b, Location l, const BitPlanePanels &q,
                              Value groupSums, Value rowScales, Value tables,
                              Value panel, ArrayRef<Value> rowIndex,
                              ArrayRef<Value> starts) const {
    Type i32 = b.getI32Type(), i8 = b.getI8Type();
    auto laneType = VectorType::get({16}, i32);
    auto bytesType = VectorType::get({64}, i8);
    int64_t tile = rowIndex.size();
    int64_t planeRows = q.bits / 2, steps = q.group / 16;
    auto index = [&](OpBuilder &ib, int64_t v) {
      return indexConstant(ib, l, v);
    };
    Value zero = index(b, 0);
    Value bytePadding = arith::ConstantOp::create(b, l, i8, b.getZeroAttr(i8));
    SmallVector<bool> inBounds = {true};
    // Byte 4c + t of an index vector looks up table t: entries 16t..16t+15.
    SmallVector<int8_t> ids;
    for (int64_t e = 0; e < 64; ++e)
      ids.push_back(static_cast<int8_t>((e % 4) << 4));
    Value tableIds = arith::ConstantOp::create(
        b, l, bytesType, DenseElementsAttr::get(bytesType, ArrayRef(ids)));
    Value nibble = splatInt(b, l, bytesType, 15);
    Value four = splatInt(b, l, bytesType, 4);
    SmallVector<Value> planeWeights;
    for (int64_t p = 0; p < q.bits; ++p)
      planeWeights.push_back(splatInt(b, l, bytesType, int64_t{1} << p));
    // Lo and hi sums per row and chain.
    int64_t chains = singleRowChains(tile, steps);
    IntegerGroups shape{
        16,        cast<RankedTensorType>(q.scales.getType()).getDimSize(1),
        steps,     chains,
        2,         q.scales,
        q.offsets, groupSums,
        rowScales};
    auto noGroupReads = [](OpBuilder &, Location, Value) {
      return SmallVector<Value>();
    };
    auto step = [&](OpBuilder &kb, Location kl, Value j, int64_t c,
                    ArrayRef<Value>, MutableArrayRef<Value> next) {
      for (int64_t pr = 0; pr < planeRows; ++pr) {
        Value bytes = vector::TransferReadOp::create(
            kb, kl, bytesType, q.codes,
            ValueRange{panel, j, index(kb, pr), zero}, bytePadding, inBounds);
        for (int64_t h = 0; h < 2; ++h) {
          Value idx =
              h == 0 ? arith::AndIOp::create(kb, kl, bytes, nibble).getResult()
                     : arith::ShRUIOp::create(kb, kl, bytes, four).getResult();
          idx = arith::OrIOp::create(kb, kl, idx, tableIds);
          Value weight = planeWeights[2 * pr + h];
          for (int64_t r = 0; r < tile; ++r) {
            Value lo = tableLookup(
                kb, kl, tables, ValueRange{rowIndex[r], j, index(kb, 0), zero},
                idx, vbmi);
            Value hi = tableLookup(
                kb, kl, tables, ValueRange{rowIndex[r], j, index(kb, 1), zero},
                idx, vbmi);
            Value &accLo = next[(r * chains + c) * 2];
            Value &accHi = next[(r * chains + c) * 2 + 1];
            accLo = dotProduct(kb, kl, accLo, lo, weight, vnni);
            accHi = dotProduct(kb, kl, accHi, weight, hi, vnni);
          }
        }
      }
    };
    // Σlo + 256·Σhi over the chains.
    auto rowSums = [&](OpBuilder &gb, Location gl, ArrayRef<Value> accs) {
      Value byteShift = splatInt(gb, gl, laneType, 8);
      Value sums;
      for (int64_t c = 0; c < chains; ++c) {
        Value sum = arith::AddIOp::create(
            gb, gl, accs[2 * c],
            arith::ShLIOp::create(gb, gl, accs[2 * c + 1], byteShift));
        sums = sums ? arith::AddIOp::create(gb, gl, sums, sum) : sum;
      }
      return sums;
    };
    return integerGroups(b, l, shape, panel, rowIndex, starts, noGroupReads,
                         step, rowSums);
  }

  int64_t rows;
  bool vnni, vbmi;
};

struct VectorizeLinear
    : llm::cpu::impl::LLMCpuVectorizeLinearBase<VectorizeLinear> {
  using Base::Base;
  void runOnOperation() override {
    if (rows < 1) {
      getOperation()->emitError("llm-cpu-vectorize-linear: rows must be at "
                                "least 1, got ")
          << static_cast<int64_t>(rows);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<VectorizePackedLinear, VectorizeQuantizedPanels>(&getContext(),
                                                                  rows);
    patterns.add<VectorizeIntegerDotPanels, VectorizeBitPlanePanels>(
        &getContext(), rows, vnni, vbmi);
    // One rewrite per generic; the new ops are not generics.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
