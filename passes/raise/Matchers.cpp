//===- Matchers.cpp - looking through exporter plumbing -------------------===//

#include "passes/raise/Matchers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>

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
  return s && std::fabs(*s - expected) <=
                  tolerance * std::max(1.0, std::fabs(expected));
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

Value mlir::llm::raise::stripToAligned(Value v) {
  int64_t fullRank = cast<RankedTensorType>(v.getType()).getRank();
  // pos[i]: the dim of the original value that dim i of the current one fills.
  SmallVector<int64_t> pos;
  for (int64_t i = 0; i < fullRank; ++i)
    pos.push_back(i);
  auto aligned = [&](Value c, ArrayRef<int64_t> p) {
    auto t = cast<RankedTensorType>(c.getType());
    for (int64_t i = 0; i < t.getRank(); ++i)
      if (t.getDimSize(i) != 1 && p[i] != i + (fullRank - t.getRank()))
        return false;
    return true;
  };
  Value best = v;
  while (true) {
    SmallVector<int64_t> next;
    Value src;
    if (auto b = v.getDefiningOp<linalg::BroadcastOp>()) {
      src = b.getInput();
      for (int64_t i = 0; i < static_cast<int64_t>(pos.size()); ++i)
        if (!llvm::is_contained(b.getDimensions(), i))
          next.push_back(pos[i]);
    } else if (auto c = v.getDefiningOp<tensor::CollapseShapeOp>()) {
      src = c.getSrc();
      auto srcType = c.getSrcType();
      for (auto [g, group] : llvm::enumerate(c.getReassociationIndices())) {
        bool placed = false;
        for (int64_t s : group) {
          bool unit = srcType.getDimSize(s) == 1;
          next.push_back(!unit && !placed ? pos[g] : -1);
          placed |= !unit;
        }
      }
    } else if (auto e = v.getDefiningOp<tensor::ExpandShapeOp>()) {
      src = e.getSrc();
      auto type = e.getResultType();
      for (const ReassociationIndices &group : e.getReassociationIndices()) {
        int64_t p = -1;
        for (int64_t d : group)
          if (type.getDimSize(d) != 1)
            p = pos[d];
        next.push_back(p);
      }
    }
    if (!src)
      return best;
    v = src;
    pos = next;
    if (aligned(v, pos))
      best = v;
  }
}

bool mlir::llm::raise::getConstantFloats(Value v,
                                         SmallVectorImpl<APFloat> &values) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  auto type = dyn_cast<RankedTensorType>(v.getType());
  auto element =
      type ? dyn_cast<FloatType>(type.getElementType()) : FloatType();
  if (!element)
    return false;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    llvm::append_range(values, dense.getValues<APFloat>());
    return true;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  unsigned bits = element.getWidth();
  if (!blob || bits % 8 != 0 ||
      blob->getData().size() !=
          static_cast<size_t>(type.getNumElements()) * bits / 8)
    return false;
  ArrayRef<char> data = blob->getData();
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, data.data() + i * bits / 8, bits / 8);
    values.push_back(APFloat(element.getFloatSemantics(), APInt(bits, raw)));
  }
  return true;
}
