//===- PhaseShapes.cpp - sizes of dynamic dims in one step ----------------===//

#include "passes/PhaseShapes.h"

#include "dialects/llm/EntryPoint.h"
#include "dialects/llm/ShapeTracing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::llm;

int64_t PhaseShapes::argumentDim(Value root, int64_t d) {
  StringRef role = argumentRole(root);
  int64_t keys = binding.position + binding.tokens;
  if (d == 0)
    return binding.batch;
  // Caches [B, Hkv, S, D] and the key mask [B, S] span the keys attended.
  if ((role.ends_with("_cache") && d == 2) || (role == "kv_mask" && d == 1))
    return keys;
  return binding.tokens;
}

int64_t PhaseShapes::evaluate(Value size, int depth) {
  if (depth > 32)
    return binding.tokens;
  APInt constant;
  if (matchPattern(size, m_ConstantInt(&constant)))
    return constant.getSExtValue();
  if (auto arg = dyn_cast<BlockArgument>(size))
    return argumentRole(arg) == "position" ? binding.position : binding.tokens;
  Operation *def = size.getDefiningOp();
  if (auto dim = dyn_cast<tensor::DimOp>(def)) {
    std::optional<int64_t> index = dim.getConstantIndex();
    return index ? dimSize(dim.getSource(), *index) : binding.tokens;
  }
  if (auto cast = dyn_cast<arith::IndexCastOp>(def))
    return evaluate(cast.getIn(), depth + 1);
  if (def && def->getNumOperands() == 2 &&
      isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp,
          arith::DivUIOp, arith::CeilDivSIOp, arith::MinSIOp, arith::MaxSIOp,
          arith::MinUIOp, arith::MaxUIOp>(def)) {
    int64_t a = evaluate(def->getOperand(0), depth + 1);
    int64_t b = evaluate(def->getOperand(1), depth + 1);
    if (isa<arith::AddIOp>(def))
      return a + b;
    if (isa<arith::SubIOp>(def))
      return a - b;
    if (isa<arith::MulIOp>(def))
      return a * b;
    if (isa<arith::DivSIOp, arith::DivUIOp>(def))
      return b ? a / b : 0;
    if (isa<arith::CeilDivSIOp>(def))
      return b ? (a + b - 1) / b : 0;
    if (isa<arith::MinSIOp, arith::MinUIOp>(def))
      return std::min(a, b);
    return std::max(a, b);
  }
  return binding.tokens;
}

int64_t PhaseShapes::dimSize(Value v, int64_t d) {
  auto type = dyn_cast<ShapedType>(v.getType());
  if (type && !type.isDynamicDim(d))
    return type.getDimSize(d);
  auto key = std::make_pair(v, d);
  if (auto it = cache.find(key); it != cache.end())
    return it->second;
  Value root;
  int64_t rootDim = 0;
  OpFoldResult size = traceDimSize(v, d, &root, &rootDim);
  int64_t result;
  if (auto attr = dyn_cast_if_present<Attribute>(size))
    result = cast<IntegerAttr>(attr).getInt();
  else if (auto value = dyn_cast_if_present<Value>(size))
    result = evaluate(value, 0);
  else if (root)
    result = argumentDim(root, rootDim);
  else
    result = argumentDim(v, d);
  cache[key] = std::max<int64_t>(result, 0);
  return cache[key];
}
