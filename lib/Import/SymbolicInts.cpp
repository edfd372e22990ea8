//===- SymbolicInts.cpp - arithmetic on symbolic sizes --------------------===//

#include "lib/Import/SymbolicInts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace llmc::onnx_import;

OpFoldResult llmc::onnx_import::foldIntOp(OpBuilder &b, Location loc, IntOp op,
                                          OpFoldResult lhs, OpFoldResult rhs) {
  std::optional<int64_t> l = getConstantIntValue(lhs),
                         r = getConstantIntValue(rhs);
  if (l && r) {
    switch (op) {
    case IntOp::Add:
      return b.getIndexAttr(*l + *r);
    case IntOp::Sub:
      return b.getIndexAttr(*l - *r);
    case IntOp::Mul:
      return b.getIndexAttr(*l * *r);
    case IntOp::Div:
      return b.getIndexAttr(*r == 0 ? 0 : *l / *r);
    case IntOp::Min:
      return b.getIndexAttr(std::min(*l, *r));
    case IntOp::Max:
      return b.getIndexAttr(std::max(*l, *r));
    }
  }
  // Identities keep the symbols recognisable (x * 1, x + 0, x / 1,
  // min(x, x)).
  if ((op == IntOp::Min || op == IntOp::Max) && lhs == rhs)
    return lhs;
  if ((op == IntOp::Mul || op == IntOp::Div) && r == 1)
    return lhs;
  if ((op == IntOp::Add || op == IntOp::Sub) && r == 0)
    return lhs;
  if (op == IntOp::Mul && l == 1)
    return rhs;
  if (op == IntOp::Add && l == 0)
    return rhs;
  Value x = getValueOrCreateConstantIndexOp(b, loc, lhs);
  Value y = getValueOrCreateConstantIndexOp(b, loc, rhs);
  switch (op) {
  case IntOp::Add:
    return arith::AddIOp::create(b, loc, x, y).getResult();
  case IntOp::Sub:
    return arith::SubIOp::create(b, loc, x, y).getResult();
  case IntOp::Mul:
    return arith::MulIOp::create(b, loc, x, y).getResult();
  case IntOp::Div:
    return arith::DivSIOp::create(b, loc, x, y).getResult();
  case IntOp::Min:
    return arith::MinSIOp::create(b, loc, x, y).getResult();
  case IntOp::Max:
    return arith::MaxSIOp::create(b, loc, x, y).getResult();
  }
  return lhs;
}

std::optional<SymbolicInts>
llmc::onnx_import::combineInts(OpBuilder &b, Location loc, IntOp op,
                               const SymbolicInts &lhs,
                               const SymbolicInts &rhs) {
  size_t n = std::max(lhs.elements.size(), rhs.elements.size());
  bool lOne = lhs.elements.size() == 1, rOne = rhs.elements.size() == 1;
  if ((!lOne && lhs.elements.size() != n) ||
      (!rOne && rhs.elements.size() != n))
    return std::nullopt;
  SymbolicInts out;
  out.dtype = lhs.dtype;
  out.scalar = lhs.scalar && rhs.scalar;
  for (size_t i = 0; i < n; ++i)
    out.elements.push_back(foldIntOp(b, loc, op, lhs.elements[lOne ? 0 : i],
                                     rhs.elements[rOne ? 0 : i]));
  return out;
}

FailureOr<SymbolicInts>
llmc::onnx_import::requireInts(NodeContext &ctx, int input, StringRef what) {
  if (failed(ctx.requireInput(input, what)))
    return failure();
  if (std::optional<SymbolicInts> v = ctx.ints(input))
    return *v;
  return ctx.emitError(Twine(what) + " (input " + Twine(input) +
                       ") must be a constant or computed from tensor sizes; "
                       "here it depends on tensor values");
}
