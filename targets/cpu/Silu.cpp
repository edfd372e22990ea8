//===- Silu.cpp - SiLU as arithmetic --------------------------------------===//

#include "targets/cpu/Silu.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

Value mlir::llm::cpu::buildSilu(OpBuilder &b, Location loc, Value x) {
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  auto element = cast<FloatType>(getElementTypeOrSelf(x.getType()));
  Value one = createScalarOrSplatConstant(
      b, loc, x.getType(), APFloat(element.getFloatSemantics(), 1));
  Value d = arith::AddFOp::create(b, loc, one, e);
  return arith::DivFOp::create(b, loc, x, d);
}
