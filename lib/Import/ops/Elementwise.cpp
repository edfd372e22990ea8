//===- Elementwise.cpp - ONNX elementwise ops
//------------------------------===//
//
// Arithmetic, comparisons, activations, Cast, Clip and Where. On host
// constants they are evaluated; otherwise they become arith/math ops on
// tensors after explicit broadcasting (splat constants are materialised at
// the result shape, so `x * 2` stays one op).
//
//===----------------------------------------------------------------------===//

#include "lib/Import/HostEval.h"
#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"
#include "lib/Import/SymbolicInts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

enum class Compare { Equal, Less, Greater, LessOrEqual, GreaterOrEqual };

FailureOr<SmallVector<int64_t>> resultShape(NodeContext &ctx,
                                            ArrayRef<int> indices) {
  SmallVector<int64_t> shape;
  for (int i : indices) {
    auto s = broadcastShape(shape, ctx.type(i).getShape());
    if (failed(s)) {
      (void)ctx.emitError("input shapes do not broadcast");
      return failure();
    }
    shape = *s;
  }
  return shape;
}

int64_t numel(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Host evaluation is possible when every listed input is a constant.
bool canEvaluate(NodeContext &ctx, ArrayRef<int> indices,
                 ArrayRef<int64_t> shape) {
  for (int i : indices)
    if (ctx.hasInput(i) && !ctx.constant(i))
      return false;
  return !ShapedType::isDynamicShape(shape) && ctx.mayEvaluate(numel(shape));
}

double applyFloat(Binary op, double a, double b) {
  switch (op) {
  case Binary::Add:
    return a + b;
  case Binary::Sub:
    return a - b;
  case Binary::Mul:
    return a * b;
  case Binary::Div:
    return a / b;
  case Binary::Pow:
    return std::pow(a, b);
  case Binary::Max:
    return std::fmax(a, b);
  case Binary::Min:
    return std::fmin(a, b);
  }
  return 0;
}

int64_t applyInt(Binary op, int64_t a, int64_t b) {
  switch (op) {
  case Binary::Add:
    return a + b;
  case Binary::Sub:
    return a - b;
  case Binary::Mul:
    return a * b;
  case Binary::Div:
    return b == 0 ? 0 : a / b;
  case Binary::Pow:
    return static_cast<int64_t>(std::pow(a, b));
  case Binary::Max:
    return std::max(a, b);
  case Binary::Min:
    return std::min(a, b);
  }
  return 0;
}

Value buildBinary(OpBuilder &b, Location loc, Binary op, Value x, Value y) {
  Type element = getElementTypeOrSelf(x.getType());
  bool isUnsigned = element.isUnsignedInteger();
  // Integer arithmetic runs on signless types; the result is re-tagged.
  Value r = buildArith(b, loc, op, toSignless(b, loc, x), toSignless(b, loc, y),
                       isUnsigned);
  if (isUnsigned)
    r = tensor::BitcastOp::create(
        b, loc, cast<RankedTensorType>(r.getType()).clone(element), r);
  return r;
}

/// Add, Sub, Mul, Div, Pow (two inputs) and Max, Min (one or more).
LogicalResult importBinary(NodeContext &ctx, Binary op) {
  SmallVector<int> indices;
  for (int i = 0; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i))
      indices.push_back(i);
  if (indices.empty())
    return ctx.emitError("expects at least one input");
  Type element = ctx.type(indices[0]).getElementType();
  // Pow's exponent may have any numeric type; the other ops need one type.
  for (int i : indices)
    if (ctx.type(i).getElementType() != element && op != Binary::Pow)
      return ctx.emitError("input element types differ");
  auto shape = resultShape(ctx, indices);
  if (failed(shape))
    return failure();

  // Arithmetic on sizes (rank <= 1 integers from Shape) stays symbolic.
  if (isa<IntegerType>(element) && indices.size() == 2 && op != Binary::Pow &&
      shape->size() <= 1 && !canEvaluate(ctx, indices, *shape)) {
    std::optional<SymbolicInts> l = ctx.ints(indices[0]),
                                r = ctx.ints(indices[1]);
    IntOp intOp[] = {IntOp::Add, IntOp::Sub, IntOp::Mul, IntOp::Div,
                     IntOp::Add, IntOp::Max, IntOp::Min};
    if (l && r)
      if (auto out = combineInts(ctx.builder(), ctx.loc(),
                                 intOp[static_cast<int>(op)], *l, *r)) {
        ctx.setOutput(0, std::move(*out));
        return success();
      }
  }

  if (canEvaluate(ctx, indices, *shape)) {
    SmallVector<const HostTensor *> ins;
    for (int i : indices)
      ins.push_back(ctx.constant(i));
    DType dtype = ins[0]->dtype();
    HostTensor out = HostTensor::zeros(dtype, *shape);
    forEachBroadcast(ins, *shape, [&](int64_t o, ArrayRef<int64_t> in) {
      if (isFloat(dtype)) {
        double acc = ins[0]->getDouble(in[0]);
        for (size_t k = 1; k < ins.size(); ++k)
          acc = applyFloat(op, acc, ins[k]->getDouble(in[k]));
        out.setDouble(o, acc);
      } else {
        int64_t acc = ins[0]->getInt(in[0]);
        for (size_t k = 1; k < ins.size(); ++k)
          acc = applyInt(op, acc, ins[k]->getInt(in[k]));
        out.setInt(o, acc);
      }
    });
    ctx.setOutput(0, std::move(out));
    return success();
  }

  // Pow's exponent may have another float type: bring it to the base's.
  SmallVector<Value> operands = broadcastInputs(ctx, indices, *shape);
  Value acc = operands[0];
  for (size_t k = 1; k < operands.size(); ++k) {
    Value rhs = convertElements(ctx.builder(), ctx.loc(), operands[k], element);
    acc = buildBinary(ctx.builder(), ctx.loc(), op, acc, rhs);
  }
  ctx.setOutput(0, acc);
  return success();
}

LogicalResult importCompare(NodeContext &ctx, Compare op) {
  if (failed(ctx.requireInput(0, "A")) || failed(ctx.requireInput(1, "B")))
    return failure();
  if (ctx.type(0).getElementType() != ctx.type(1).getElementType())
    return ctx.emitError("input element types differ");
  auto shape = resultShape(ctx, {0, 1});
  if (failed(shape))
    return failure();
  bool fp = isa<FloatType>(ctx.type(0).getElementType());
  // Sizes compared with constants: decidable when the constant is negative
  // (Equal(shape, -1), which exports use to spell Expand/Reshape targets).
  if (!fp && op == Compare::Equal && shape->size() <= 1 &&
      !canEvaluate(ctx, {0, 1}, *shape)) {
    std::optional<SymbolicInts> l = ctx.ints(0), r = ctx.ints(1);
    if (l && r &&
        (l->elements.size() == r->elements.size() || l->elements.size() == 1 ||
         r->elements.size() == 1)) {
      size_t n = std::max(l->elements.size(), r->elements.size());
      HostTensor out = HostTensor::zeros(DType::Bool, *shape);
      bool decided = true;
      for (size_t i = 0; i < n && decided; ++i) {
        OpFoldResult a = l->elements[l->elements.size() == 1 ? 0 : i];
        OpFoldResult c = r->elements[r->elements.size() == 1 ? 0 : i];
        std::optional<int64_t> ac = getConstantIntValue(a),
                               cc = getConstantIntValue(c);
        if (ac && cc)
          out.setInt(i, *ac == *cc);
        else if (a == c)
          out.setInt(i, 1);
        else if ((ac && *ac < 0) || (cc && *cc < 0))
          out.setInt(i, 0);
        else
          decided = false;
      }
      if (decided) {
        ctx.setOutput(0, std::move(out));
        return success();
      }
    }
  }
  if (canEvaluate(ctx, {0, 1}, *shape)) {
    const HostTensor *a = ctx.constant(0), *b = ctx.constant(1);
    HostTensor out = HostTensor::zeros(DType::Bool, *shape);
    forEachBroadcast({a, b}, *shape, [&](int64_t o, ArrayRef<int64_t> in) {
      double x = a->getDouble(in[0]), y = b->getDouble(in[1]);
      bool r = false;
      switch (op) {
      case Compare::Equal:
        r = x == y;
        break;
      case Compare::Less:
        r = x < y;
        break;
      case Compare::Greater:
        r = x > y;
        break;
      case Compare::LessOrEqual:
        r = x <= y;
        break;
      case Compare::GreaterOrEqual:
        r = x >= y;
        break;
      }
      out.setInt(o, r);
    });
    ctx.setOutput(0, std::move(out));
    return success();
  }
  SmallVector<Value> operands = broadcastInputs(ctx, {0, 1}, *shape);
  OpBuilder &b = ctx.builder();
  Value x = operands[0], y = operands[1];
  Value result;
  if (fp) {
    arith::CmpFPredicate pred[] = {
        arith::CmpFPredicate::OEQ, arith::CmpFPredicate::OLT,
        arith::CmpFPredicate::OGT, arith::CmpFPredicate::OLE,
        arith::CmpFPredicate::OGE};
    result =
        arith::CmpFOp::create(b, ctx.loc(), pred[static_cast<int>(op)], x, y);
  } else {
    arith::CmpIPredicate pred[] = {
        arith::CmpIPredicate::eq, arith::CmpIPredicate::slt,
        arith::CmpIPredicate::sgt, arith::CmpIPredicate::sle,
        arith::CmpIPredicate::sge};
    result =
        arith::CmpIOp::create(b, ctx.loc(), pred[static_cast<int>(op)], x, y);
  }
  ctx.setOutput(0, result);
  return success();
}

enum class Unary {
  Sqrt,
  Reciprocal,
  Neg,
  Exp,
  Erf,
  Tanh,
  Sigmoid,
  Relu,
  Abs,
  Log,
  Not
};

double evalUnary(Unary op, double x) {
  switch (op) {
  case Unary::Sqrt:
    return std::sqrt(x);
  case Unary::Reciprocal:
    return 1.0 / x;
  case Unary::Neg:
    return -x;
  case Unary::Exp:
    return std::exp(x);
  case Unary::Erf:
    return std::erf(x);
  case Unary::Tanh:
    return std::tanh(x);
  case Unary::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case Unary::Relu:
    return x > 0 ? x : 0;
  case Unary::Abs:
    return std::fabs(x);
  case Unary::Log:
    return std::log(x);
  case Unary::Not:
    return x == 0;
  }
  return 0;
}

LogicalResult importUnary(NodeContext &ctx, Unary op) {
  if (failed(ctx.requireInput(0, "X")))
    return failure();
  RankedTensorType type = ctx.type(0);
  bool fp = isa<FloatType>(type.getElementType());
  bool intOk = op == Unary::Neg || op == Unary::Abs || op == Unary::Relu ||
               op == Unary::Not;
  if (!fp && !intOk)
    return ctx.emitError(
        "expects a floating-point input, got " +
        std::string(dtypeName(*dtypeFromMlir(type.getElementType()))));
  if (canEvaluate(ctx, {0}, type.getShape())) {
    const HostTensor *x = ctx.constant(0);
    HostTensor out = HostTensor::zeros(x->dtype(), x->shape());
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      if (fp)
        out.setDouble(i, evalUnary(op, x->getDouble(i)));
      else
        out.setInt(i, static_cast<int64_t>(
                          evalUnary(op, static_cast<double>(x->getInt(i)))));
    }
    ctx.setOutput(0, std::move(out));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  auto sizes = mixedSizes(b, loc, x);
  auto constant = [&](double v) { return splat(b, loc, type, v, sizes); };
  Value r;
  switch (op) {
  case Unary::Sqrt:
    r = math::SqrtOp::create(b, loc, x);
    break;
  case Unary::Reciprocal:
    r = arith::DivFOp::create(b, loc, constant(1.0), x);
    break;
  case Unary::Neg:
    r = fp ? Value(arith::NegFOp::create(b, loc, x))
           : Value(arith::SubIOp::create(b, loc, constant(0), x));
    break;
  case Unary::Exp:
    r = math::ExpOp::create(b, loc, x);
    break;
  case Unary::Erf:
    r = math::ErfOp::create(b, loc, x);
    break;
  case Unary::Tanh:
    r = math::TanhOp::create(b, loc, x);
    break;
  case Unary::Sigmoid: {
    // 1 / (1 + exp(-x)); llm-raise recognises x * sigmoid(x) as SiLU.
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    Value d = arith::AddFOp::create(b, loc, constant(1.0), e);
    r = arith::DivFOp::create(b, loc, constant(1.0), d);
    break;
  }
  case Unary::Relu:
    r = fp ? Value(arith::MaximumFOp::create(b, loc, x, constant(0)))
           : Value(arith::MaxSIOp::create(b, loc, x, constant(0)));
    break;
  case Unary::Abs:
    r = fp ? Value(math::AbsFOp::create(b, loc, x))
           : Value(math::AbsIOp::create(b, loc, x));
    break;
  case Unary::Log:
    r = math::LogOp::create(b, loc, x);
    break;
  case Unary::Not:
    r = arith::XOrIOp::create(b, loc, x, constant(1));
    break;
  }
  ctx.setOutput(0, r);
  return success();
}

LogicalResult importCast(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  int64_t code = ctx.intAttr("to", 0);
  std::optional<DType> to = dtypeFromOnnx(static_cast<int>(code));
  if (!to)
    return ctx.emitError("unsupported target type code " + Twine(code));
  if (const HostTensor *c = ctx.constant(0)) {
    ctx.setOutput(0, castHost(*c, *to));
    return success();
  }
  if (std::optional<SymbolicInts> ints = ctx.ints(0);
      ints && !isFloat(*to) && *to != DType::Bool) {
    ints->dtype = *to;
    ctx.setOutput(0, std::move(*ints));
    return success();
  }
  ctx.setOutput(0, convertElements(ctx.builder(), ctx.loc(), ctx.value(0),
                                   toMlirType(*to, ctx.context())));
  return success();
}

LogicalResult importClip(NodeContext &ctx) {
  if (failed(ctx.requireInput(0, "input")))
    return failure();
  RankedTensorType type = ctx.type(0);
  bool fp = isa<FloatType>(type.getElementType());
  auto bound = [&](int i) -> FailureOr<std::optional<double>> {
    if (!ctx.hasInput(i))
      return std::optional<double>();
    auto c = ctx.requireConstant(i, i == 1 ? "min" : "max");
    if (failed(c))
      return failure();
    return std::optional<double>(fp ? (*c)->getDouble(0)
                                    : static_cast<double>((*c)->getInt(0)));
  };
  auto lo = bound(1), hi = bound(2);
  if (failed(lo) || failed(hi))
    return failure();
  if (const HostTensor *x = ctx.constant(0)) {
    HostTensor out = HostTensor::zeros(x->dtype(), x->shape());
    for (int64_t i = 0, n = x->numel(); i < n; ++i) {
      double v = x->getDouble(i);
      if (*lo)
        v = std::max(v, **lo);
      if (*hi)
        v = std::min(v, **hi);
      out.setDouble(i, v);
    }
    ctx.setOutput(0, std::move(out));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Value x = ctx.value(0);
  auto sizes = mixedSizes(b, ctx.loc(), x);
  if (*lo) {
    Value c = splat(b, ctx.loc(), type, **lo, sizes);
    x = fp ? Value(arith::MaximumFOp::create(b, ctx.loc(), x, c))
           : Value(arith::MaxSIOp::create(b, ctx.loc(), x, c));
  }
  if (*hi) {
    Value c = splat(b, ctx.loc(), type, **hi, sizes);
    x = fp ? Value(arith::MinimumFOp::create(b, ctx.loc(), x, c))
           : Value(arith::MinSIOp::create(b, ctx.loc(), x, c));
  }
  ctx.setOutput(0, x);
  return success();
}

LogicalResult importWhere(NodeContext &ctx) {
  if (failed(ctx.requireInputs({"condition", "X", "Y"})))
    return failure();
  if (!ctx.type(0).getElementType().isInteger(1))
    return ctx.emitError("condition must be bool");
  if (ctx.type(1).getElementType() != ctx.type(2).getElementType())
    return ctx.emitError("X and Y element types differ");
  auto shape = resultShape(ctx, {0, 1, 2});
  if (failed(shape))
    return failure();
  // A constant condition choosing between sizes.
  if (const HostTensor *c = ctx.constant(0);
      c && shape->size() <= 1 && !canEvaluate(ctx, {0, 1, 2}, *shape)) {
    std::optional<SymbolicInts> x = ctx.ints(1), y = ctx.ints(2);
    if (x && y) {
      int64_t n = shape->empty() ? 1 : (*shape)[0];
      SymbolicInts out;
      out.dtype = x->dtype;
      out.scalar = shape->empty();
      auto pick = [](const SymbolicInts &s, int64_t i) {
        return s.elements[s.elements.size() == 1 ? 0 : i];
      };
      for (int64_t i = 0; i < n; ++i)
        out.elements.push_back(
            c->getInt(c->numel() == 1 ? 0 : i) ? pick(*x, i) : pick(*y, i));
      ctx.setOutput(0, std::move(out));
      return success();
    }
  }
  if (canEvaluate(ctx, {0, 1, 2}, *shape)) {
    const HostTensor *c = ctx.constant(0), *x = ctx.constant(1),
                     *y = ctx.constant(2);
    HostTensor out = HostTensor::zeros(x->dtype(), *shape);
    bool fp = isFloat(x->dtype());
    forEachBroadcast({c, x, y}, *shape, [&](int64_t o, ArrayRef<int64_t> in) {
      const HostTensor *src = c->getInt(in[0]) ? x : y;
      int64_t idx = c->getInt(in[0]) ? in[1] : in[2];
      if (fp)
        out.setDouble(o, src->getDouble(idx));
      else
        out.setInt(o, src->getInt(idx));
    });
    ctx.setOutput(0, std::move(out));
    return success();
  }
  SmallVector<Value> operands = broadcastInputs(ctx, {0, 1, 2}, *shape);
  ctx.setOutput(0,
                arith::SelectOp::create(ctx.builder(), ctx.loc(), operands[0],
                                        operands[1], operands[2]));
  return success();
}

} // namespace

void llmc::onnx_import::registerElementwiseOps(OpRegistry &r) {
  auto binary = [](Binary op) {
    return [op](NodeContext &c) { return importBinary(c, op); };
  };
  auto compare = [](Compare op) {
    return [op](NodeContext &c) { return importCompare(c, op); };
  };
  auto unary = [](Unary op) {
    return [op](NodeContext &c) { return importUnary(c, op); };
  };
  r.add("Add", 13, binary(Binary::Add));
  r.add("Sub", 13, binary(Binary::Sub));
  r.add("Mul", 13, binary(Binary::Mul));
  r.add("Div", 13, binary(Binary::Div));
  r.add("Pow", 13, binary(Binary::Pow));
  r.add("Max", 13, binary(Binary::Max));
  r.add("Min", 13, binary(Binary::Min));
  r.add("Equal", 13, compare(Compare::Equal));
  r.add("Less", 13, compare(Compare::Less));
  r.add("Greater", 13, compare(Compare::Greater));
  r.add("LessOrEqual", 12, compare(Compare::LessOrEqual));
  r.add("GreaterOrEqual", 12, compare(Compare::GreaterOrEqual));
  r.add("Sqrt", 13, unary(Unary::Sqrt));
  r.add("Reciprocal", 13, unary(Unary::Reciprocal));
  r.add("Neg", 13, unary(Unary::Neg));
  r.add("Exp", 13, unary(Unary::Exp));
  r.add("Erf", 13, unary(Unary::Erf));
  r.add("Tanh", 13, unary(Unary::Tanh));
  r.add("Sigmoid", 13, unary(Unary::Sigmoid));
  r.add("Relu", 14, unary(Unary::Relu));
  r.add("Relu", 13, unary(Unary::Relu));
  r.add("Abs", 13, unary(Unary::Abs));
  r.add("Log", 13, unary(Unary::Log));
  r.add("Not", 1, unary(Unary::Not));
  r.add("Cast", 13, importCast);
  r.add("Clip", 13, importClip);
  r.add("Where", 16, importWhere);
  r.add("Where", 9, importWhere);
}
