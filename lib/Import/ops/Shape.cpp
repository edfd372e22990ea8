//===- Shape.cpp - ONNX shape and data-movement ops
//------------------------===//
//
// Constant, Identity, Shape, Reshape, (Un)Squeeze, Flatten, Expand,
// ConstantOfShape, Range, Concat, Slice, Split and Transpose. With static
// shapes the shape plumbing of exported graphs evaluates entirely on the
// host; data movement of run-time tensors becomes tensor/linalg ops.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/HostEval.h"
#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"
#include "lib/Import/SymbolicInts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

int64_t numel(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

HostTensor scalarTensor(DType dtype, ArrayRef<int64_t> shape, double v) {
  HostTensor t = HostTensor::zeros(dtype, shape);
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    t.setDouble(i, v);
  return t;
}

/// Reshapes a run-time value to `shape` (`?` allowed where `sizes` says):
/// expand_shape/collapse_shape when the dims group (dynamic dims matching
/// one to one), tensor.reshape otherwise.
Value reshapeValue(NodeContext &ctx, Value v, ArrayRef<int64_t> shape,
                   ArrayRef<OpFoldResult> sizes) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  auto type = cast<RankedTensorType>(v.getType());
  if (type.hasStaticShape() && !ShapedType::isDynamicShape(shape))
    return reshapeTo(b, loc, v, shape);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  if (type.getShape() == shape)
    return v;
  if (resultType.getRank() > type.getRank()) {
    if (auto reassoc = getReassociationIndicesForReshape(type, resultType))
      return tensor::ExpandShapeOp::create(b, loc, resultType, v, *reassoc,
                                           sizes);
  } else if (resultType.getRank() < type.getRank()) {
    if (auto reassoc = getReassociationIndicesForReshape(type, resultType))
      return tensor::CollapseShapeOp::create(b, loc, resultType, v, *reassoc);
  }
  SmallVector<Value> dims;
  for (OpFoldResult s : sizes)
    dims.push_back(getValueOrCreateConstantIndexOp(b, loc, s));
  Value shapeTensor = tensor::FromElementsOp::create(b, loc, dims);
  return tensor::ReshapeOp::create(b, loc, resultType, v, shapeTensor);
}

/// A symbolic size tensor reshaped (rank 0 <-> rank 1 of one element).
LogicalResult reshapeSymbolic(NodeContext &ctx, SymbolicInts ints,
                              ArrayRef<int64_t> shape) {
  if (shape.size() > 1 ||
      numel(shape) != static_cast<int64_t>(ints.elements.size()))
    return ctx.emitError("reshaping sizes to rank " + Twine(shape.size()) +
                         " is not supported");
  ints.scalar = shape.empty();
  ctx.setOutput(0, std::move(ints));
  return success();
}

/// True when input `i` is symbolic sizes (not a plain constant).
bool isSymbolic(NodeContext &ctx, int i) {
  return !ctx.constant(i) && ctx.ints(i).has_value();
}

/// The sizes of input `i` when it is a run-time tensor (empty otherwise).
SmallVector<OpFoldResult> runtimeSizes(NodeContext &ctx, int i) {
  SmallVector<OpFoldResult> sizes;
  if (!ctx.constant(i) && !isSymbolic(ctx, i))
    for (int64_t d = 0, r = ctx.type(i).getRank(); d < r; ++d)
      sizes.push_back(ctx.dimSize(ctx.value(i), d));
  return sizes;
}

LogicalResult importConstant(NodeContext &ctx) {
  for (const auto &a : ctx.node().attribute()) {
    StringRef name = a.name();
    if (name == "value") {
      auto t = ctx.tensorAttr(a);
      if (failed(t))
        return failure();
      ctx.setOutput(0, std::move(*t));
      return success();
    }
    if (name == "value_float" || name == "value_int") {
      bool fp = name == "value_float";
      ctx.setOutput(0, scalarTensor(fp ? DType::F32 : DType::I64, {},
                                    fp ? a.f() : static_cast<double>(a.i())));
      return success();
    }
    if (name == "value_floats" || name == "value_ints") {
      bool fp = name == "value_floats";
      int64_t n = fp ? a.floats_size() : a.ints_size();
      HostTensor t = HostTensor::zeros(fp ? DType::F32 : DType::I64, {n});
      for (int64_t i = 0; i < n; ++i)
        fp ? t.setDouble(i, a.floats(i)) : t.setInt(i, a.ints(i));
      ctx.setOutput(0, std::move(t));
      return success();
    }
  }
  return ctx.emitError("has no supported value attribute (value, value_float, "
                       "value_floats, value_int, value_ints)");
}

LogicalResult importIdentity(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  if (const HostTensor *c = ctx.constant(0))
    ctx.setOutput(0, *c);
  else if (isSymbolic(ctx, 0))
    ctx.setOutput(0, *ctx.ints(0));
  else
    ctx.setOutput(0, ctx.value(0));
  return success();
}

LogicalResult importShape(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  ArrayRef<int64_t> shape = ctx.type(0).getShape();
  int64_t rank = shape.size();
  int64_t start = ctx.intAttr("start", 0), end = ctx.intAttr("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  int64_t n = std::max<int64_t>(end - start, 0);
  if (!ShapedType::isDynamicShape(shape.slice(start, n))) {
    HostTensor t = HostTensor::zeros(DType::I64, {n});
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, shape[start + i]);
    ctx.setOutput(0, std::move(t));
    return success();
  }
  // Dynamic dims stay symbolic: later Gather/Concat/Reshape use them as sizes.
  SymbolicInts dims;
  Value v = ctx.value(0);
  for (int64_t i = start; i < end; ++i)
    dims.elements.push_back(ctx.dimSize(v, i));
  ctx.setOutput(0, std::move(dims));
  return success();
}

LogicalResult importReshape(NodeContext &ctx) {
  auto target = requireInts(ctx, 1, "shape");
  if (failed(ctx.requireInput(0, "data")) || failed(target))
    return failure();
  RankedTensorType type = ctx.type(0);
  bool allowZero = ctx.intAttr("allowzero", 0) != 0;
  bool runtime = !ctx.constant(0) && !isSymbolic(ctx, 0);
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  int64_t inferred = -1;
  for (auto [i, e] : llvm::enumerate(target->elements)) {
    std::optional<int64_t> c = getConstantIntValue(e);
    if (c && *c == 0 && !allowZero) {
      if (static_cast<int64_t>(i) >= type.getRank())
        return ctx.emitError("shape copies dimension " + Twine(i) +
                             " that the input does not have");
      shape.push_back(type.getDimSize(i));
      sizes.push_back(runtime
                          ? ctx.dimSize(ctx.value(0), i)
                          : OpFoldResult(b.getIndexAttr(type.getDimSize(i))));
    } else if (c && *c == -1) {
      if (inferred >= 0)
        return ctx.emitError("shape has more than one -1");
      inferred = i;
      shape.push_back(ShapedType::kDynamic);
      sizes.push_back(OpFoldResult());
    } else if (c && *c < 0) {
      return ctx.emitError("shape has a negative dimension " + Twine(*c));
    } else {
      shape.push_back(c ? *c : ShapedType::kDynamic);
      sizes.push_back(e);
    }
  }
  if (inferred >= 0) {
    // Element count over the product of the other target sizes.
    OpFoldResult total = b.getIndexAttr(1), known = b.getIndexAttr(1);
    for (int64_t d = 0; d < type.getRank(); ++d)
      total =
          foldIntOp(b, loc, IntOp::Mul, total,
                    runtime ? ctx.dimSize(ctx.value(0), d)
                            : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
    for (size_t i = 0; i < sizes.size(); ++i)
      if (static_cast<int64_t>(i) != inferred)
        known = foldIntOp(b, loc, IntOp::Mul, known, sizes[i]);
    std::optional<int64_t> t = getConstantIntValue(total),
                           k = getConstantIntValue(known);
    if (t && k && (*k == 0 || *t % *k != 0))
      return ctx.emitError("cannot reshape " + Twine(*t) +
                           " elements into the requested shape");
    sizes[inferred] = foldIntOp(b, loc, IntOp::Div, total, known);
    if (std::optional<int64_t> v = getConstantIntValue(sizes[inferred]))
      shape[inferred] = *v;
  } else if (type.hasStaticShape() && !ShapedType::isDynamicShape(shape) &&
             numel(shape) != type.getNumElements()) {
    return ctx.emitError("cannot reshape " + Twine(type.getNumElements()) +
                         " elements into " + Twine(numel(shape)));
  }
  if (const HostTensor *c = ctx.constant(0)) {
    if (!ShapedType::isDynamicShape(shape)) {
      ctx.setOutput(0, c->reshaped(shape));
      return success();
    }
  }
  if (isSymbolic(ctx, 0))
    return reshapeSymbolic(ctx, *ctx.ints(0), shape);
  ctx.setOutput(0, reshapeValue(ctx, ctx.value(0), shape, sizes));
  return success();
}

/// Axes from the `axes` input (opset >= 13) or attribute.
FailureOr<SmallVector<int64_t>> axesOf(NodeContext &ctx, int input) {
  if (ctx.hasInput(input)) {
    auto c = ctx.requireConstant(input, "axes");
    if (failed(c))
      return failure();
    return (*c)->toInts();
  }
  if (auto attr = ctx.intsAttr("axes"))
    return *attr;
  return SmallVector<int64_t>();
}

/// Unsqueeze, Squeeze and Flatten are reshapes whose sizes follow the input.
LogicalResult reshapeLike(NodeContext &ctx, SmallVector<int64_t> shape,
                          SmallVector<OpFoldResult> sizes) {
  if (isSymbolic(ctx, 0))
    return reshapeSymbolic(ctx, *ctx.ints(0), shape);
  if (const HostTensor *c = ctx.constant(0)) {
    ctx.setOutput(0, c->reshaped(shape));
    return success();
  }
  ctx.setOutput(0, reshapeValue(ctx, ctx.value(0), shape, sizes));
  return success();
}

LogicalResult importUnsqueeze(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  auto axes = axesOf(ctx, 1);
  if (failed(axes))
    return failure();
  RankedTensorType type = ctx.type(0);
  int64_t outRank = type.getRank() + axes->size();
  SmallVector<bool> isNew(outRank, false);
  for (int64_t a : *axes) {
    auto axis = ctx.normalizeAxis(a, outRank);
    if (failed(axis))
      return failure();
    if (isNew[*axis])
      return ctx.emitError("repeated axis " + Twine(a));
    isNew[*axis] = true;
  }
  OpBuilder &b = ctx.builder();
  SmallVector<OpFoldResult> inSizes = runtimeSizes(ctx, 0);
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0, j = 0; i < outRank; ++i) {
    if (isNew[i]) {
      shape.push_back(1);
      sizes.push_back(b.getIndexAttr(1));
    } else {
      shape.push_back(type.getDimSize(j));
      if (!inSizes.empty())
        sizes.push_back(inSizes[j]);
      ++j;
    }
  }
  return reshapeLike(ctx, shape, sizes);
}

LogicalResult importSqueeze(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  auto axes = axesOf(ctx, 1);
  if (failed(axes))
    return failure();
  RankedTensorType type = ctx.type(0);
  SmallVector<bool> drop(type.getRank(), axes->empty());
  if (axes->empty()) {
    for (int64_t i = 0; i < type.getRank(); ++i)
      drop[i] = type.getDimSize(i) == 1;
  }
  for (int64_t a : *axes) {
    auto axis = ctx.normalizeAxis(a, type.getRank());
    if (failed(axis))
      return failure();
    if (type.getDimSize(*axis) != 1 &&
        !ShapedType::isDynamic(type.getDimSize(*axis)))
      return ctx.emitError("cannot squeeze axis " + Twine(a) + " of size " +
                           Twine(type.getDimSize(*axis)));
    drop[*axis] = true;
  }
  SmallVector<OpFoldResult> inSizes = runtimeSizes(ctx, 0);
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (drop[i])
      continue;
    shape.push_back(type.getDimSize(i));
    if (!inSizes.empty())
      sizes.push_back(inSizes[i]);
  }
  return reshapeLike(ctx, shape, sizes);
}

LogicalResult importFlatten(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  RankedTensorType type = ctx.type(0);
  int64_t axis = ctx.intAttr("axis", 1);
  if (axis < 0)
    axis += type.getRank();
  if (axis < 0 || axis > type.getRank())
    return ctx.emitError("axis is out of range");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  // [d0 * ... * d(axis-1), d(axis) * ... * d(n-1)], symbolically.
  OpFoldResult outer = b.getIndexAttr(1), inner = b.getIndexAttr(1);
  bool runtime = !ctx.constant(0) && !isSymbolic(ctx, 0);
  for (int64_t d = 0; d < type.getRank(); ++d) {
    OpFoldResult size = runtime
                            ? ctx.dimSize(ctx.value(0), d)
                            : OpFoldResult(b.getIndexAttr(type.getDimSize(d)));
    OpFoldResult &acc = d < axis ? outer : inner;
    acc = foldIntOp(b, loc, IntOp::Mul, acc, size);
  }
  SmallVector<int64_t> shape = {
      getConstantIntValue(outer).value_or(ShapedType::kDynamic),
      getConstantIntValue(inner).value_or(ShapedType::kDynamic)};
  return reshapeLike(ctx, shape, {outer, inner});
}

LogicalResult importExpand(NodeContext &ctx) {
  auto target = requireInts(ctx, 1, "shape");
  if (failed(ctx.requireInput(0, "input")) || failed(target))
    return failure();
  RankedTensorType type = ctx.type(0);
  SmallVector<int64_t> requested;
  for (OpFoldResult e : target->elements)
    requested.push_back(getConstantIntValue(e).value_or(ShapedType::kDynamic));
  auto shape = broadcastShape(type.getShape(), requested);
  if (failed(shape))
    return ctx.emitError("input does not broadcast to the requested shape");
  if (const HostTensor *c = ctx.constant(0)) {
    if (!ShapedType::isDynamicShape(*shape) && ctx.mayEvaluate(numel(*shape))) {
      HostTensor out = HostTensor::zeros(c->dtype(), *shape);
      bool fp = isFloat(c->dtype());
      forEachBroadcast({c}, *shape, [&](int64_t o, ArrayRef<int64_t> in) {
        fp ? out.setDouble(o, c->getDouble(in[0]))
           : out.setInt(o, c->getInt(in[0]));
      });
      ctx.setOutput(0, std::move(out));
      return success();
    }
  }
  OpBuilder &b = ctx.builder();
  Value v = ctx.value(0);
  SmallVector<OpFoldResult> sizes;
  int64_t offset = shape->size() - type.getRank();
  int64_t reqOffset = shape->size() - requested.size();
  for (int64_t i = 0; i < static_cast<int64_t>(shape->size()); ++i) {
    int64_t j = i - offset, r = i - reqOffset;
    if (j >= 0 && type.getDimSize(j) != 1)
      sizes.push_back(ctx.dimSize(v, j));
    else if (r >= 0)
      sizes.push_back(target->elements[r]);
    else
      sizes.push_back(b.getIndexAttr(1));
  }
  ctx.setOutput(0, broadcastTo(b, ctx.loc(), v, *shape, sizes));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &ctx) {
  auto target = requireInts(ctx, 0, "shape");
  if (failed(target))
    return failure();
  SmallVector<int64_t> shape;
  for (OpFoldResult e : target->elements)
    shape.push_back(getConstantIntValue(e).value_or(ShapedType::kDynamic));
  HostTensor value = scalarTensor(DType::F32, {1}, 0.0);
  if (const onnx::AttributeProto *a = ctx.attr("value")) {
    auto t = ctx.tensorAttr(*a);
    if (failed(t))
      return failure();
    if (t->numel() != 1)
      return ctx.emitError("value must have one element");
    value = *t;
  }
  RankedTensorType type =
      RankedTensorType::get(shape, toMlirType(value.dtype(), ctx.context()));
  double v = value.getDouble(0);
  if (!ShapedType::isDynamicShape(shape) && ctx.mayEvaluate(numel(shape))) {
    ctx.setOutput(0, scalarTensor(value.dtype(), shape, v));
    return success();
  }
  ctx.setOutput(0, splat(ctx.builder(), ctx.loc(), type, v, target->elements));
  return success();
}

LogicalResult importRange(NodeContext &ctx) {
  if (ctx.constant(0) && ctx.constant(1) && ctx.constant(2)) {
    const HostTensor *start = ctx.constant(0), *limit = ctx.constant(1),
                     *delta = ctx.constant(2);
    DType dtype = start->dtype();
    double s = start->getDouble(0), l = limit->getDouble(0),
           d = delta->getDouble(0);
    if (d == 0)
      return ctx.emitError("delta is zero");
    int64_t n =
        std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0);
    if (!ctx.mayEvaluate(n))
      return ctx.emitError("range of " + Twine(n) + " elements is too large");
    HostTensor out = HostTensor::zeros(dtype, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setDouble(i, s + i * d);
    ctx.setOutput(0, std::move(out));
    return success();
  }
  // A range over run-time sizes: start + i * delta for i < ceil((limit - start)
  // / delta).
  auto start = requireInts(ctx, 0, "start");
  auto limit = requireInts(ctx, 1, "limit");
  auto delta = ctx.requireConstant(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  int64_t step = (*delta)->getInt(0);
  if (step <= 0)
    return ctx.emitError("a run-time range needs a positive constant delta");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  OpFoldResult count =
      foldIntOp(b, loc, IntOp::Sub, limit->elements[0], start->elements[0]);
  if (step != 1)
    count = foldIntOp(
        b, loc, IntOp::Div,
        foldIntOp(b, loc, IntOp::Add, count, b.getIndexAttr(step - 1)),
        b.getIndexAttr(step));
  count = foldIntOp(b, loc, IntOp::Max, count, b.getIndexAttr(0));
  Type element = toMlirType(start->dtype, ctx.context());
  auto type = RankedTensorType::get(
      {getConstantIntValue(count).value_or(ShapedType::kDynamic)}, element);
  SmallVector<Value> dynamic;
  if (type.isDynamicDim(0))
    dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, count));
  Value first = getValueOrCreateConstantIndexOp(b, loc, start->elements[0]);
  auto gen = tensor::GenerateOp::create(
      b, loc, type, dynamic, [&](OpBuilder &nb, Location nl, ValueRange idx) {
        Value i = idx[0];
        if (step != 1)
          i = arith::MulIOp::create(
              nb, nl, i, arith::ConstantIndexOp::create(nb, nl, step));
        Value v = isConstantIntValue(start->elements[0], 0)
                      ? i
                      : Value(arith::AddIOp::create(nb, nl, first, i));
        tensor::YieldOp::create(
            nb, nl, arith::IndexCastOp::create(nb, nl, element, v).getResult());
      });
  ctx.setOutput(0, gen.getResult());
  return success();
}

LogicalResult importConcat(NodeContext &ctx) {
  SmallVector<int> inputs;
  for (int i = 0; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i))
      inputs.push_back(i);
  if (inputs.empty())
    return ctx.emitError("expects at least one input");
  RankedTensorType first = ctx.type(inputs[0]);
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), first.getRank());
  if (failed(axis))
    return failure();
  SmallVector<const HostTensor *> constants;
  for (int i : inputs) {
    RankedTensorType t = ctx.type(i);
    if (t.getRank() != first.getRank() ||
        t.getElementType() != first.getElementType())
      return ctx.emitError("inputs differ in rank or element type");
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != *axis && t.getDimSize(d) != first.getDimSize(d) &&
          !ShapedType::isDynamic(t.getDimSize(d)) &&
          !ShapedType::isDynamic(first.getDimSize(d)))
        return ctx.emitError("inputs differ in dimension " + Twine(d));
    if (const HostTensor *c = ctx.constant(i))
      constants.push_back(c);
  }
  // Sizes: concatenate the symbols.
  if (first.getRank() == 1 && constants.size() != inputs.size() &&
      llvm::all_of(inputs, [&](int i) { return ctx.ints(i).has_value(); })) {
    SymbolicInts out;
    out.dtype = *dtypeFromMlir(first.getElementType());
    for (int i : inputs)
      llvm::append_range(out.elements, ctx.ints(i)->elements);
    ctx.setOutput(0, std::move(out));
    return success();
  }
  // Empty inputs (e.g. a zero-length past) contribute nothing.
  if (constants.size() == inputs.size()) {
    ctx.setOutput(0, concatHost(constants, *axis));
    return success();
  }
  SmallVector<Value> values;
  for (int i : inputs)
    if (ctx.type(i).getDimSize(*axis) != 0)
      values.push_back(ctx.value(i));
  if (values.size() == 1) {
    ctx.setOutput(0, values[0]);
    return success();
  }
  ctx.setOutput(
      0, tensor::ConcatOp::create(ctx.builder(), ctx.loc(), *axis, values));
  return success();
}

/// Per-dimension start, size and step of an ONNX Slice; starts and sizes
/// may be symbolic (run-time lengths).
struct SliceSpec {
  SmallVector<OpFoldResult> starts, sizes;
  SmallVector<int64_t> steps;
};

FailureOr<SliceSpec> sliceSpec(NodeContext &ctx, RankedTensorType type,
                               Value data) {
  auto starts = requireInts(ctx, 1, "starts");
  auto ends = requireInts(ctx, 2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> axes, steps;
  if (ctx.hasInput(3)) {
    auto a = ctx.requireConstant(3, "axes");
    if (failed(a))
      return failure();
    axes = (*a)->toInts();
  } else {
    for (size_t i = 0; i < starts->elements.size(); ++i)
      axes.push_back(i);
  }
  if (ctx.hasInput(4)) {
    auto st = ctx.requireConstant(4, "steps");
    if (failed(st))
      return failure();
    steps = (*st)->toInts();
  } else {
    steps.assign(starts->elements.size(), 1);
  }
  size_t n = starts->elements.size();
  if (ends->elements.size() != n || axes.size() != n || steps.size() != n)
    return ctx.emitError("starts, ends, axes and steps differ in length");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  int64_t rank = type.getRank();
  SliceSpec spec;
  spec.steps.assign(rank, 1);
  for (int64_t d = 0; d < rank; ++d) {
    spec.starts.push_back(b.getIndexAttr(0));
    spec.sizes.push_back(
        data ? ctx.dimSize(data, d)
             : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
  }
  for (size_t k = 0; k < n; ++k) {
    auto axis = ctx.normalizeAxis(axes[k], rank);
    if (failed(axis))
      return failure();
    int64_t step = steps[k];
    if (step == 0)
      return ctx.emitError("step is zero");
    OpFoldResult dim = spec.sizes[*axis];
    std::optional<int64_t> dimC = getConstantIntValue(dim);
    std::optional<int64_t> sC = getConstantIntValue(starts->elements[k]);
    std::optional<int64_t> eC = getConstantIntValue(ends->elements[k]);
    if (step < 0) {
      if (!dimC || !sC || !eC)
        return ctx.emitError(
            "a negative step needs constant bounds and a static dimension");
      int64_t start =
          std::clamp<int64_t>(*sC < 0 ? *sC + *dimC : *sC, 0, *dimC - 1);
      int64_t end =
          std::clamp<int64_t>(*eC < 0 ? *eC + *dimC : *eC, -1, *dimC - 1);
      spec.starts[*axis] = b.getIndexAttr(start);
      spec.sizes[*axis] =
          b.getIndexAttr(start > end ? (start - end - step - 1) / -step : 0);
      spec.steps[*axis] = step;
      continue;
    }
    // Negative constants count from the end; everything clamps to [0, dim].
    auto normalize = [&](OpFoldResult v,
                         std::optional<int64_t> c) -> OpFoldResult {
      if (c && *c >= std::numeric_limits<int32_t>::max())
        return dim;
      if (c && *c < 0)
        v = foldIntOp(b, loc, IntOp::Add, v, dim);
      if (getConstantIntValue(v)) // run-time sizes are never negative
        v = foldIntOp(b, loc, IntOp::Max, v, b.getIndexAttr(0));
      return foldIntOp(b, loc, IntOp::Min, v, dim);
    };
    OpFoldResult start = normalize(starts->elements[k], sC);
    OpFoldResult end = normalize(ends->elements[k], eC);
    OpFoldResult size = foldIntOp(b, loc, IntOp::Sub, end, start);
    if (step != 1)
      size = foldIntOp(
          b, loc, IntOp::Div,
          foldIntOp(b, loc, IntOp::Add, size, b.getIndexAttr(step - 1)),
          b.getIndexAttr(step));
    // Clamped bounds give end >= start except for a start past the end.
    if (!isZeroInteger(start))
      size = foldIntOp(b, loc, IntOp::Max, size, b.getIndexAttr(0));
    spec.starts[*axis] = start;
    spec.sizes[*axis] = size;
    spec.steps[*axis] = step;
  }
  return spec;
}

LogicalResult importSlice(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  RankedTensorType type = ctx.type(0);
  const HostTensor *c = ctx.constant(0);
  bool symbolic = isSymbolic(ctx, 0);
  auto spec = sliceSpec(ctx, type, c || symbolic ? Value() : ctx.value(0));
  if (failed(spec))
    return failure();
  auto constants =
      [](ArrayRef<OpFoldResult> v) -> std::optional<SmallVector<int64_t>> {
    SmallVector<int64_t> out;
    for (OpFoldResult e : v) {
      std::optional<int64_t> x = getConstantIntValue(e);
      if (!x)
        return std::nullopt;
      out.push_back(*x);
    }
    return out;
  };
  auto starts = constants(spec->starts), sizes = constants(spec->sizes);
  if (symbolic) {
    if (!starts || !sizes || spec->steps[0] != 1)
      return ctx.emitError("slicing sizes needs constant bounds");
    SymbolicInts in = *ctx.ints(0), out;
    out.dtype = in.dtype;
    for (int64_t i = 0; i < (*sizes)[0]; ++i)
      out.elements.push_back(in.elements[(*starts)[0] + i]);
    ctx.setOutput(0, std::move(out));
    return success();
  }
  if (c && starts && sizes) {
    ctx.setOutput(0, sliceHost(*c, *starts, spec->steps, *sizes));
    return success();
  }
  if (llvm::any_of(spec->steps, [](int64_t s) { return s < 0; }))
    return ctx.emitError(
        "negative steps on a run-time tensor are not supported");
  OpBuilder &b = ctx.builder();
  SmallVector<OpFoldResult> strides;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    strides.push_back(b.getIndexAttr(spec->steps[d]));
    shape.push_back(
        getConstantIntValue(spec->sizes[d]).value_or(ShapedType::kDynamic));
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  ctx.setOutput(0, tensor::ExtractSliceOp::create(b, ctx.loc(), resultType,
                                                  ctx.value(0), spec->starts,
                                                  spec->sizes, strides));
  return success();
}

LogicalResult importSplit(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  RankedTensorType type = ctx.type(0);
  auto axis = ctx.normalizeAxis(ctx.intAttr("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = type.getDimSize(*axis);
  if (ShapedType::isDynamic(dim))
    return ctx.emitError("splitting a dynamic dimension needs static shapes");
  SmallVector<int64_t> parts;
  if (ctx.hasInput(1)) {
    auto split = ctx.requireConstant(1, "split");
    if (failed(split))
      return failure();
    parts = (*split)->toInts();
  } else if (auto attr = ctx.intsAttr("split")) {
    parts = *attr;
  } else {
    int64_t n = ctx.numOutputs();
    if (dim % n != 0)
      return ctx.emitError("dimension " + Twine(dim) + " does not split into " +
                           Twine(n) + " equal parts");
    parts.assign(n, dim / n);
  }
  if (static_cast<int64_t>(parts.size()) != ctx.numOutputs())
    return ctx.emitError("split has " + Twine(parts.size()) + " parts for " +
                         Twine(ctx.numOutputs()) + " outputs");
  int64_t total = 0;
  for (int64_t p : parts)
    total += p;
  if (total != dim)
    return ctx.emitError("split sizes add up to " + Twine(total) +
                         ", not the dimension size " + Twine(dim));
  const HostTensor *c = ctx.constant(0);
  OpBuilder &b = ctx.builder();
  int64_t offset = 0;
  for (auto [i, p] : llvm::enumerate(parts)) {
    SmallVector<int64_t> starts(type.getRank(), 0), steps(type.getRank(), 1);
    SmallVector<int64_t> sizes(type.getShape());
    starts[*axis] = offset;
    sizes[*axis] = p;
    if (c) {
      ctx.setOutput(i, sliceHost(*c, starts, steps, sizes));
    } else {
      Value v = ctx.value(0);
      SmallVector<OpFoldResult> inSizes = mixedSizes(b, ctx.loc(), v);
      SmallVector<OpFoldResult> offs, szs, strides;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        offs.push_back(b.getIndexAttr(starts[d]));
        szs.push_back(d == *axis ? OpFoldResult(b.getIndexAttr(p))
                                 : inSizes[d]);
        strides.push_back(b.getIndexAttr(1));
      }
      auto resultType = RankedTensorType::get(sizes, type.getElementType());
      ctx.setOutput(i, tensor::ExtractSliceOp::create(b, ctx.loc(), resultType,
                                                      v, offs, szs, strides));
    }
    offset += p;
  }
  return success();
}

/// Tile: out[..., r*d, ...] repeats the input r times along each dim. On
/// run-time tensors: insert a unit dim before every dim, broadcast it to
/// the repeat count, and collapse each (repeat, dim) pair.
LogicalResult importTile(NodeContext &ctx) {
  auto repeats = ctx.requireConstant(1, "repeats");
  if (failed(ctx.requireInput(0, "input")) || failed(repeats))
    return failure();
  RankedTensorType type = ctx.type(0);
  SmallVector<int64_t> reps = (*repeats)->toInts();
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(reps.size()) != rank)
    return ctx.emitError("repeats has " + Twine(reps.size()) +
                         " entries for rank " + Twine(rank));
  if (llvm::any_of(reps, [](int64_t r) { return r < 0; }))
    return ctx.emitError("repeats must be non-negative");
  SmallVector<int64_t> outShape;
  for (int64_t d = 0; d < rank; ++d)
    outShape.push_back(ShapedType::isDynamic(type.getDimSize(d))
                           ? ShapedType::kDynamic
                           : type.getDimSize(d) * reps[d]);
  if (const HostTensor *c = ctx.constant(0)) {
    if (!ShapedType::isDynamicShape(outShape) &&
        ctx.mayEvaluate(numel(outShape))) {
      HostTensor out = HostTensor::zeros(c->dtype(), outShape);
      SmallVector<int64_t> inStrides = stridesOf(c->shape());
      for (int64_t o = 0, n = out.numel(); o < n; ++o) {
        int64_t rem = o, in = 0;
        for (int64_t d = rank - 1; d >= 0; --d) {
          int64_t coord = rem % outShape[d];
          rem /= outShape[d];
          in += (coord % c->shape()[d]) * inStrides[d];
        }
        isFloat(c->dtype()) ? out.setDouble(o, c->getDouble(in))
                            : out.setInt(o, c->getInt(in));
      }
      ctx.setOutput(0, std::move(out));
      return success();
    }
  }
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value v = ctx.value(0);
  SmallVector<OpFoldResult> sizes = mixedSizes(b, loc, v);
  SmallVector<int64_t> expandedShape, broadcastShape;
  SmallVector<OpFoldResult> expandedSizes, broadcastSizes, outSizes;
  SmallVector<ReassociationIndices> pairs;
  for (int64_t d = 0; d < rank; ++d) {
    expandedShape.append({1, type.getDimSize(d)});
    expandedSizes.append({b.getIndexAttr(1), sizes[d]});
    broadcastShape.append({reps[d], type.getDimSize(d)});
    broadcastSizes.append({b.getIndexAttr(reps[d]), sizes[d]});
    outSizes.push_back(
        foldIntOp(b, loc, IntOp::Mul, sizes[d], b.getIndexAttr(reps[d])));
    pairs.push_back({2 * d, 2 * d + 1});
  }
  Value expanded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(expandedShape, type.getElementType()), v,
      pairs, expandedSizes);
  Value tiled = broadcastTo(b, loc, expanded, broadcastShape, broadcastSizes);
  ctx.setOutput(0, tensor::CollapseShapeOp::create(
                       b, loc,
                       RankedTensorType::get(outShape, type.getElementType()),
                       tiled, pairs));
  return success();
}

LogicalResult importTranspose(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  int64_t rank = ctx.type(0).getRank();
  SmallVector<int64_t> perm;
  if (auto p = ctx.intsAttr("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  bool isPermutation = static_cast<int64_t>(sorted.size()) == rank;
  for (int64_t i = 0; isPermutation && i < rank; ++i)
    isPermutation = sorted[i] == i;
  if (!isPermutation)
    return ctx.emitError("perm is not a permutation of the " + Twine(rank) +
                         " axes");
  if (const HostTensor *c = ctx.constant(0)) {
    if (ctx.mayEvaluate(c->numel())) {
      ctx.setOutput(0, transposeHost(*c, perm));
      return success();
    }
  }
  ctx.setOutput(0, transpose(ctx.builder(), ctx.loc(), ctx.value(0), perm));
  return success();
}

} // namespace

void llmc::onnx_import::registerShapeOps(OpRegistry &r) {
  r.add("Constant", 13, importConstant);
  r.add("Identity", 13, importIdentity);
  r.add("Identity", 16, importIdentity);
  r.add("Shape", 13, importShape);
  r.add("Shape", 15, importShape);
  r.add("Reshape", 13, importReshape);
  r.add("Reshape", 14, importReshape);
  r.add("Unsqueeze", 13, importUnsqueeze);
  r.add("Squeeze", 13, importSqueeze);
  r.add("Flatten", 13, importFlatten);
  r.add("Expand", 13, importExpand);
  r.add("ConstantOfShape", 9, importConstantOfShape);
  r.add("Range", 11, importRange);
  r.add("Concat", 13, importConcat);
  r.add("Slice", 13, importSlice);
  r.add("Split", 13, importSplit);
  r.add("Transpose", 13, importTranspose);
  r.add("Tile", 13, importTile);
}
