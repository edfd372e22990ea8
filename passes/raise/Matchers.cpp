//===- Matchers.cpp - looking through exporter plumbing -------------------===//

#include "passes/raise/Matchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm::raise;

SmallVector<int64_t> mlir::llm::raise::nonUnitShape(Value v) {
  SmallVector<int64_t> out;
  if (auto t = dyn_cast<ShapedType>(v.getType()))
    for (int64_t d : t.getShape())
      if (d != 1)
        out.push_back(d);
  return out;
}

Value mlir::llm::raise::stripUnitReshapes(Value v) {
  while (true) {
    Value source;
    if (auto e = v.getDefiningOp<tensor::ExpandShapeOp>())
      source = e.getSrc();
    else if (auto c = v.getDefiningOp<tensor::CollapseShapeOp>())
      source = c.getSrc();
    if (!source || nonUnitShape(source) != nonUnitShape(v))
      return v;
    v = source;
  }
}

Value mlir::llm::raise::stripBroadcast(Value v) {
  while (true) {
    v = stripUnitReshapes(v);
    auto b = v.getDefiningOp<linalg::BroadcastOp>();
    if (!b)
      return v;
    v = b.getInput();
  }
}

std::optional<double> mlir::llm::raise::getSplat(Value v) {
  v = stripBroadcast(v);
  // A fill of a constant (splats of dynamic shape).
  if (auto fill = v.getDefiningOp<linalg::FillOp>()) {
    Attribute scalar;
    if (!matchPattern(fill.getInputs()[0], m_Constant(&scalar)))
      return std::nullopt;
    if (auto f = dyn_cast<FloatAttr>(scalar))
      return f.getValueAsDouble();
    if (auto i = dyn_cast<IntegerAttr>(scalar))
      return static_cast<double>(i.getValue().getSExtValue());
    return std::nullopt;
  }
  DenseElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  Type element = attr.getElementType();
  if (isa<FloatType>(element))
    return attr.getSplatValue<APFloat>().convertToDouble();
  if (element.isInteger(1))
    return attr.getSplatValue<bool>() ? 1.0 : 0.0;
  if (isa<IntegerType>(element))
    return static_cast<double>(attr.getSplatValue<APInt>().getSExtValue());
  return std::nullopt;
}

bool mlir::llm::raise::isSplat(Value v, double expected, double tolerance) {
  std::optional<double> s = getSplat(v);
  return s && std::fabs(*s - expected) <= tolerance * std::max(1.0, std::fabs(expected));
}

bool mlir::llm::raise::isConstant(Value v) {
  return stripBroadcast(v).getDefiningOp<arith::ConstantOp>() != nullptr;
}

Value mlir::llm::raise::matchMeanOverLastDim(Value v) {
  auto div = stripUnitReshapes(v).getDefiningOp<arith::DivFOp>();
  if (!div)
    return {};
  auto reduce = div.getLhs().getDefiningOp<linalg::ReduceOp>();
  if (!reduce || reduce.getInputs().size() != 1)
    return {};
  Value input = reduce.getInputs()[0];
  auto type = cast<RankedTensorType>(input.getType());
  int64_t last = type.getRank() - 1;
  if (reduce.getDimensions() != ArrayRef<int64_t>{last} ||
      ShapedType::isDynamic(type.getDimSize(last)) ||
      !isSplat(div.getRhs(), static_cast<double>(type.getDimSize(last))) ||
      !isSplat(reduce.getInits()[0], 0.0))
    return {};
  Block &body = reduce.getCombiner().front();
  if (body.getOperations().size() != 2 || !isa<arith::AddFOp>(body.front()))
    return {};
  return input;
}

Value mlir::llm::raise::matchInverseSqrt(Value v) {
  v = stripUnitReshapes(v);
  if (auto r = v.getDefiningOp<math::RsqrtOp>())
    return r.getOperand();
  auto div = v.getDefiningOp<arith::DivFOp>();
  if (!div || !isSplat(div.getLhs(), 1.0))
    return {};
  auto sqrt = stripUnitReshapes(div.getRhs()).getDefiningOp<math::SqrtOp>();
  return sqrt ? sqrt.getOperand() : Value();
}
