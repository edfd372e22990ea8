//===- Shape.cpp - ONNX shape and data-movement ops ------------------------===//
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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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

/// Reshapes a run-time value to `shape` (`?` allowed where `sizes` says).
Value reshapeValue(NodeContext &ctx, Value v, ArrayRef<int64_t> shape,
                   ArrayRef<OpFoldResult> sizes) {
  OpBuilder &b = ctx.builder();
  auto type = cast<RankedTensorType>(v.getType());
  if (type.hasStaticShape() && !ShapedType::isDynamicShape(shape))
    return reshapeTo(b, ctx.loc(), v, shape);
  // Dynamic: tensor.reshape with the sizes as an index tensor.
  SmallVector<Value> dims;
  for (OpFoldResult s : sizes)
    dims.push_back(getValueOrCreateConstantIndexOp(b, ctx.loc(), s));
  Value shapeTensor = tensor::FromElementsOp::create(b, ctx.loc(), dims);
  return tensor::ReshapeOp::create(
      b, ctx.loc(), RankedTensorType::get(shape, type.getElementType()), v,
      shapeTensor);
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
  OpBuilder &b = ctx.builder();
  SmallVector<Value> dims;
  for (int64_t i = start; i < end; ++i) {
    Value d = tensor::DimOp::create(b, ctx.loc(), ctx.value(0), i);
    dims.push_back(arith::IndexCastOp::create(b, ctx.loc(), b.getI64Type(), d));
  }
  ctx.setOutput(0, tensor::FromElementsOp::create(b, ctx.loc(), dims));
  return success();
}

LogicalResult importReshape(NodeContext &ctx) {
  auto target = ctx.requireConstant(1, "shape");
  if (failed(ctx.requireInput(0, "data")) || failed(target))
    return failure();
  RankedTensorType type = ctx.type(0);
  bool allowZero = ctx.intAttr("allowzero", 0) != 0;
  SmallVector<int64_t> shape = (*target)->toInts();
  OpBuilder &b = ctx.builder();
  SmallVector<OpFoldResult> inSizes;
  if (!type.hasStaticShape())
    inSizes = mixedSizes(b, ctx.loc(), ctx.value(0));
  SmallVector<OpFoldResult> sizes(shape.size());
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= static_cast<size_t>(type.getRank()))
        return ctx.emitError("shape copies dimension " + Twine(i) +
                             " that the input does not have");
      shape[i] = type.getDimSize(i);
      if (!inSizes.empty())
        sizes[i] = inSizes[i];
    } else if (shape[i] == -1) {
      if (inferred >= 0)
        return ctx.emitError("shape has more than one -1");
      inferred = i;
      continue;
    } else if (shape[i] < 0) {
      return ctx.emitError("shape has a negative dimension " + Twine(shape[i]));
    }
    if (!sizes[i])
      sizes[i] = b.getIndexAttr(shape[i]);
    if (!ShapedType::isDynamic(shape[i]))
      known *= shape[i];
  }
  if (inferred >= 0) {
    if (type.hasStaticShape()) {
      if (known == 0 || type.getNumElements() % known != 0)
        return ctx.emitError("cannot reshape " + Twine(type.getNumElements()) +
                             " elements into the requested shape");
      shape[inferred] = type.getNumElements() / known;
      sizes[inferred] = b.getIndexAttr(shape[inferred]);
    } else {
      shape[inferred] = ShapedType::kDynamic;
      // Element count over the product of the known target dims.
      Value total = arith::ConstantIndexOp::create(b, ctx.loc(), 1);
      for (OpFoldResult s : inSizes)
        total = arith::MulIOp::create(b, ctx.loc(), total,
                                      getValueOrCreateConstantIndexOp(b, ctx.loc(), s));
      Value div = total;
      for (size_t i = 0; i < shape.size(); ++i)
        if (static_cast<int64_t>(i) != inferred)
          div = arith::DivUIOp::create(b, ctx.loc(), div,
                                       getValueOrCreateConstantIndexOp(b, ctx.loc(), sizes[i]));
      sizes[inferred] = div;
    }
  } else if (type.hasStaticShape() && known != type.getNumElements()) {
    return ctx.emitError("cannot reshape " + Twine(type.getNumElements()) +
                         " elements into " + Twine(known));
  }
  if (const HostTensor *c = ctx.constant(0)) {
    ctx.setOutput(0, c->reshaped(shape));
    return success();
  }
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
  SmallVector<OpFoldResult> inSizes = ctx.constant(0)
      ? SmallVector<OpFoldResult>() : mixedSizes(b, ctx.loc(), ctx.value(0));
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
    if (type.getDimSize(*axis) != 1 && !ShapedType::isDynamic(type.getDimSize(*axis)))
      return ctx.emitError("cannot squeeze axis " + Twine(a) + " of size " +
                           Twine(type.getDimSize(*axis)));
    drop[*axis] = true;
  }
  OpBuilder &b = ctx.builder();
  SmallVector<OpFoldResult> inSizes = ctx.constant(0)
      ? SmallVector<OpFoldResult>() : mixedSizes(b, ctx.loc(), ctx.value(0));
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
  if (!type.hasStaticShape())
    return ctx.emitError("needs static input shapes (use --input-shape)");
  int64_t outer = numel(type.getShape().take_front(axis));
  int64_t inner = numel(type.getShape().drop_front(axis));
  OpBuilder &b = ctx.builder();
  return reshapeLike(ctx, {outer, inner},
                     {b.getIndexAttr(outer), b.getIndexAttr(inner)});
}

LogicalResult importExpand(NodeContext &ctx) {
  auto target = ctx.requireConstant(1, "shape");
  if (failed(ctx.requireInput(0, "input")) || failed(target))
    return failure();
  RankedTensorType type = ctx.type(0);
  SmallVector<int64_t> requested = (*target)->toInts();
  auto shape = broadcastShape(type.getShape(), requested);
  if (failed(shape))
    return ctx.emitError("input does not broadcast to the requested shape");
  if (const HostTensor *c = ctx.constant(0)) {
    if (!ShapedType::isDynamicShape(*shape) && ctx.mayEvaluate(numel(*shape))) {
      HostTensor out = HostTensor::zeros(c->dtype(), *shape);
      bool fp = isFloat(c->dtype());
      forEachBroadcast({c}, *shape, [&](int64_t o, ArrayRef<int64_t> in) {
        fp ? out.setDouble(o, c->getDouble(in[0])) : out.setInt(o, c->getInt(in[0]));
      });
      ctx.setOutput(0, std::move(out));
      return success();
    }
  }
  OpBuilder &b = ctx.builder();
  Value v = ctx.value(0);
  SmallVector<OpFoldResult> inSizes = mixedSizes(b, ctx.loc(), v);
  SmallVector<OpFoldResult> sizes;
  int64_t offset = shape->size() - type.getRank();
  for (int64_t i = 0; i < static_cast<int64_t>(shape->size()); ++i) {
    int64_t j = i - offset;
    if (j >= 0 && (type.getDimSize(j) != 1 || (*shape)[i] == 1))
      sizes.push_back(inSizes[j]);
    else
      sizes.push_back(b.getIndexAttr((*shape)[i]));
  }
  ctx.setOutput(0, broadcastTo(b, ctx.loc(), v, *shape, sizes));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &ctx) {
  auto target = ctx.requireConstant(0, "shape");
  if (failed(target))
    return failure();
  SmallVector<int64_t> shape = (*target)->toInts();
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
  double v = isFloat(value.dtype()) ? value.getDouble(0)
                                    : static_cast<double>(value.getInt(0));
  if (ctx.mayEvaluate(numel(shape))) {
    ctx.setOutput(0, scalarTensor(value.dtype(), shape, v));
    return success();
  }
  ctx.setOutput(0, splat(ctx.builder(), ctx.loc(), type, v));
  return success();
}

LogicalResult importRange(NodeContext &ctx) {
  auto start = ctx.requireConstant(0, "start");
  auto limit = ctx.requireConstant(1, "limit");
  auto delta = ctx.requireConstant(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  DType dtype = (*start)->dtype();
  double s = (*start)->getDouble(0), l = (*limit)->getDouble(0),
         d = (*delta)->getDouble(0);
  if (d == 0)
    return ctx.emitError("delta is zero");
  int64_t n = std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0);
  if (!ctx.mayEvaluate(n))
    return ctx.emitError("range of " + Twine(n) + " elements is too large");
  HostTensor out = HostTensor::zeros(dtype, {n});
  for (int64_t i = 0; i < n; ++i)
    out.setDouble(i, s + i * d);
  ctx.setOutput(0, std::move(out));
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
    if (t.getRank() != first.getRank() || t.getElementType() != first.getElementType())
      return ctx.emitError("inputs differ in rank or element type");
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != *axis && t.getDimSize(d) != first.getDimSize(d) &&
          !ShapedType::isDynamic(t.getDimSize(d)) &&
          !ShapedType::isDynamic(first.getDimSize(d)))
        return ctx.emitError("inputs differ in dimension " + Twine(d));
    if (const HostTensor *c = ctx.constant(i))
      constants.push_back(c);
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
  ctx.setOutput(0, tensor::ConcatOp::create(ctx.builder(), ctx.loc(), *axis, values));
  return success();
}

/// Per-dimension start, size and step of a static ONNX Slice.
struct SliceSpec {
  SmallVector<int64_t> starts, sizes, steps;
};

FailureOr<SliceSpec> sliceSpec(NodeContext &ctx, RankedTensorType type) {
  auto starts = ctx.requireConstant(1, "starts");
  auto ends = ctx.requireConstant(2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> s = (*starts)->toInts(), e = (*ends)->toInts();
  SmallVector<int64_t> axes, steps;
  if (ctx.hasInput(3)) {
    auto a = ctx.requireConstant(3, "axes");
    if (failed(a))
      return failure();
    axes = (*a)->toInts();
  } else {
    for (size_t i = 0; i < s.size(); ++i)
      axes.push_back(i);
  }
  if (ctx.hasInput(4)) {
    auto st = ctx.requireConstant(4, "steps");
    if (failed(st))
      return failure();
    steps = (*st)->toInts();
  } else {
    steps.assign(s.size(), 1);
  }
  if (e.size() != s.size() || axes.size() != s.size() || steps.size() != s.size())
    return ctx.emitError("starts, ends, axes and steps differ in length");
  int64_t rank = type.getRank();
  SliceSpec spec;
  spec.starts.assign(rank, 0);
  spec.steps.assign(rank, 1);
  spec.sizes.assign(type.getShape().begin(), type.getShape().end());
  for (size_t k = 0; k < axes.size(); ++k) {
    auto axis = ctx.normalizeAxis(axes[k], rank);
    if (failed(axis))
      return failure();
    int64_t dim = type.getDimSize(*axis);
    if (ShapedType::isDynamic(dim))
      return ctx.emitError("slicing dynamic dimension " + Twine(*axis) +
                           " needs static shapes (use --input-shape)");
    int64_t step = steps[k];
    if (step == 0)
      return ctx.emitError("step is zero");
    int64_t start = s[k] < 0 ? s[k] + dim : s[k];
    int64_t end = e[k] < 0 ? e[k] + dim : e[k];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      spec.sizes[*axis] = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      spec.sizes[*axis] = start > end ? (start - end - step - 1) / -step : 0;
    }
    spec.starts[*axis] = start;
    spec.steps[*axis] = step;
  }
  return spec;
}

LogicalResult importSlice(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "data")))
    return failure();
  RankedTensorType type = ctx.type(0);
  auto spec = sliceSpec(ctx, type);
  if (failed(spec))
    return failure();
  if (const HostTensor *c = ctx.constant(0)) {
    ctx.setOutput(0, sliceHost(*c, spec->starts, spec->steps, spec->sizes));
    return success();
  }
  if (llvm::any_of(spec->steps, [](int64_t s) { return s < 0; }))
    return ctx.emitError("negative steps on a run-time tensor are not supported");
  OpBuilder &b = ctx.builder();
  Value v = ctx.value(0);
  SmallVector<OpFoldResult> inSizes = mixedSizes(b, ctx.loc(), v);
  SmallVector<OpFoldResult> offsets, sizes, strides;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    offsets.push_back(b.getIndexAttr(spec->starts[d]));
    sizes.push_back(ShapedType::isDynamic(spec->sizes[d]) ? inSizes[d]
                                                          : b.getIndexAttr(spec->sizes[d]));
    strides.push_back(b.getIndexAttr(spec->steps[d]));
  }
  auto resultType = RankedTensorType::get(spec->sizes, type.getElementType());
  ctx.setOutput(0, tensor::ExtractSliceOp::create(b, ctx.loc(), resultType, v,
                                                  offsets, sizes, strides));
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
        szs.push_back(d == *axis ? OpFoldResult(b.getIndexAttr(p)) : inSizes[d]);
        strides.push_back(b.getIndexAttr(1));
      }
      auto resultType = RankedTensorType::get(sizes, type.getElementType());
      ctx.setOutput(i, tensor::ExtractSliceOp::create(b, ctx.loc(), resultType, v,
                                                      offs, szs, strides));
    }
    offset += p;
  }
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
  for (int64_t i = 0; i < static_cast<int64_t>(sorted.size()); ++i)
    if (static_cast<int64_t>(sorted.size()) != rank || sorted[i] != i)
      return ctx.emitError("perm is not a permutation of the " + Twine(rank) + " axes");
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
}
