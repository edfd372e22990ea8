//===- LLMOps.cpp - llm op verifiers, shape inference and builders --------===//
//
// Each op has one shape function that checks the operands and computes the
// result type. The verifier runs it with an error emitter and compares the
// declared result type; builders run it silently to infer the result type
// (on invalid operands they fall back to the input type, and the verifier
// then reports the precise problem).
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Emits an error when `emitError` is set; shape functions called by
/// builders pass none and stay silent.
using ErrorFn = llvm::function_ref<InFlightDiagnostic()>;

template <typename... Args>
LogicalResult fail(ErrorFn emitError, Args &&...args) {
  if (emitError) {
    InFlightDiagnostic diag = emitError();
    (diag << ... << std::forward<Args>(args));
  }
  return failure();
}

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string formatDim(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::interleave(
      shape, [&](int64_t d) { s += formatDim(d); }, [&] { s += ", "; });
  return s + "]";
}

bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// The more static of two compatible dimensions.
int64_t mergeDims(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) ? b : a;
}

int64_t addDims(int64_t a, int64_t b) {
  if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b))
    return ShapedType::kDynamic;
  return a + b;
}

LogicalResult checkRank(ErrorFn emitError, StringRef name, RankedTensorType t,
                        int64_t rank, StringRef layout) {
  if (t.getRank() == rank)
    return success();
  return fail(emitError, name, " must have rank ", rank, " (", layout,
              "), got ", t);
}

LogicalResult checkDim(ErrorFn emitError, StringRef what, int64_t a,
                       StringRef whatOther, int64_t b) {
  if (dimsCompatible(a, b))
    return success();
  return fail(emitError, what, " (", a, ") does not match ", whatOther, " (", b,
              ")");
}

LogicalResult checkElementType(ErrorFn emitError, StringRef name,
                               RankedTensorType t, Type expected) {
  if (t.getElementType() == expected)
    return success();
  return fail(emitError, name, " element type ", t.getElementType(),
              " does not match the input element type ", expected);
}

/// Checks that `t` broadcasts (NumPy rules, right-aligned) to `target`.
LogicalResult checkBroadcastsTo(ErrorFn emitError, StringRef name,
                                RankedTensorType t, ArrayRef<int64_t> target) {
  ArrayRef<int64_t> shape = t.getShape();
  bool ok = shape.size() <= target.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) {
    int64_t d = shape[shape.size() - 1 - i];
    int64_t td = target[target.size() - 1 - i];
    ok = d == 1 || dimsCompatible(d, td);
  }
  if (ok)
    return success();
  return fail(emitError, name, " of type ", t, " does not broadcast to ",
              formatShape(target));
}

/// Compares a declared result type with the inferred one.
LogicalResult checkResult(Operation *op, StringRef name, Type declared,
                          RankedTensorType inferred) {
  auto declaredTensor = dyn_cast<RankedTensorType>(declared);
  if (declaredTensor &&
      declaredTensor.getElementType() == inferred.getElementType() &&
      succeeded(verifyCompatibleShape(declaredTensor.getShape(),
                                      inferred.getShape())))
    return success();
  return op->emitOpError() << name << " type " << declared
                           << " is incompatible with the inferred type "
                           << inferred;
}

LogicalResult checkEpsilon(Operation *op, float epsilon) {
  if (std::isfinite(epsilon) && epsilon >= 0.0f)
    return success();
  return op->emitOpError() << "epsilon must be finite and non-negative, got "
                           << epsilon;
}

//===----------------------------------------------------------------------===//
// Shape functions
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType> inferEmbedding(ErrorFn emitError, Value table,
                                           Value ids) {
  RankedTensorType tableType = tensorOf(table), idsType = tensorOf(ids);
  if (failed(checkRank(emitError, "table", tableType, 2, "[vocab, dim]")))
    return failure();
  SmallVector<int64_t> shape(idsType.getShape());
  shape.push_back(tableType.getDimSize(1));
  return RankedTensorType::get(shape, tableType.getElementType());
}

FailureOr<RankedTensorType> inferLinear(ErrorFn emitError, Value input,
                                        Value weight, Value bias) {
  RankedTensorType inputType = tensorOf(input), weightType = tensorOf(weight);
  Type elementType = inputType.getElementType();
  if (inputType.getRank() < 1)
    return fail(emitError, "input must have rank >= 1, got ", inputType);
  if (failed(checkRank(emitError, "weight", weightType, 2,
                       "[out_features, in_features]")) ||
      failed(checkElementType(emitError, "weight", weightType, elementType)) ||
      failed(checkDim(emitError, "input feature dimension",
                      inputType.getShape().back(), "weight in_features",
                      weightType.getDimSize(1))))
    return failure();
  int64_t outFeatures = weightType.getDimSize(0);
  if (bias) {
    RankedTensorType biasType = tensorOf(bias);
    if (failed(checkRank(emitError, "bias", biasType, 1, "[out_features]")) ||
        failed(checkElementType(emitError, "bias", biasType, elementType)) ||
        failed(checkDim(emitError, "bias size", biasType.getDimSize(0),
                        "weight out_features", outFeatures)))
      return failure();
    outFeatures = mergeDims(outFeatures, biasType.getDimSize(0));
  }
  SmallVector<int64_t> shape(inputType.getShape());
  shape.back() = outFeatures;
  return RankedTensorType::get(shape, elementType);
}

FailureOr<RankedTensorType> inferMatmul(ErrorFn emitError, Value lhs,
                                        Value rhs) {
  RankedTensorType lhsType = tensorOf(lhs), rhsType = tensorOf(rhs);
  if (lhsType.getRank() < 2 || rhsType.getRank() < 2)
    return fail(emitError, "operands must have rank >= 2, got ", lhsType,
                " and ", rhsType);
  if (failed(checkElementType(emitError, "rhs", rhsType,
                              lhsType.getElementType())) ||
      failed(checkDim(emitError, "lhs contraction dimension",
                      lhsType.getShape().back(), "rhs contraction dimension",
                      rhsType.getShape().drop_back().back())))
    return failure();
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(lhsType.getShape().drop_back(2),
                                          rhsType.getShape().drop_back(2),
                                          batch))
    return fail(emitError, "batch dimensions ",
                formatShape(lhsType.getShape().drop_back(2)), " and ",
                formatShape(rhsType.getShape().drop_back(2)),
                " do not broadcast");
  batch.push_back(lhsType.getShape().drop_back().back());
  batch.push_back(rhsType.getShape().back());
  return RankedTensorType::get(batch, lhsType.getElementType());
}

/// Shared by rms_norm and layer_norm: per-feature parameters of shape [dim].
FailureOr<RankedTensorType> inferNorm(ErrorFn emitError, Value input,
                                      ValueRange params) {
  RankedTensorType inputType = tensorOf(input);
  if (inputType.getRank() < 1)
    return fail(emitError, "input must have rank >= 1, got ", inputType);
  for (auto [index, param] : llvm::enumerate(params)) {
    if (!param)
      continue;
    std::string name = index == 0 ? "weight" : "bias";
    RankedTensorType paramType = tensorOf(param);
    if (failed(checkRank(emitError, name, paramType, 1, "[dim]")) ||
        failed(checkElementType(emitError, name, paramType,
                                inputType.getElementType())) ||
        failed(checkDim(emitError, name + " size", paramType.getDimSize(0),
                        "input feature dimension",
                        inputType.getShape().back())))
      return failure();
  }
  return inputType;
}

FailureOr<RankedTensorType> inferRope(ErrorFn emitError, Value input, Value cos,
                                      Value sin) {
  RankedTensorType inputType = tensorOf(input), cosType = tensorOf(cos);
  if (cosType != tensorOf(sin))
    return fail(emitError, "cos and sin must have the same type, got ", cosType,
                " and ", sin.getType());
  if (inputType.getRank() < 1 || cosType.getRank() < 1)
    return fail(emitError, "input and cos/sin must have rank >= 1");
  if (failed(checkElementType(emitError, "cos/sin", cosType,
                              inputType.getElementType())))
    return failure();
  int64_t rotary = cosType.getShape().back();
  int64_t dim = inputType.getShape().back();
  if (!ShapedType::isDynamic(rotary) && rotary % 2 != 0)
    return fail(emitError, "rotary dimension (last dimension of cos/sin, ",
                rotary, ") must be even");
  if (!ShapedType::isDynamic(rotary) && !ShapedType::isDynamic(dim) &&
      rotary > dim)
    return fail(emitError, "rotary dimension (", rotary,
                ") exceeds the input feature dimension (", dim, ")");
  SmallVector<int64_t> target(inputType.getShape());
  target.back() = rotary;
  if (failed(checkBroadcastsTo(emitError, "cos/sin", cosType, target)))
    return failure();
  return inputType;
}

struct AttentionTypes {
  RankedTensorType result;
  RankedTensorType presentKey, presentValue; // null without a past
};

FailureOr<AttentionTypes> inferAttention(ErrorFn emitError, Value query,
                                         Value key, Value value, Value mask,
                                         Value pastKey, Value pastValue,
                                         int64_t numHeads, int64_t numKvHeads) {
  constexpr StringLiteral layout = "[batch, heads, seq, head_dim]";
  RankedTensorType q = tensorOf(query), k = tensorOf(key), v = tensorOf(value);
  Type elementType = q.getElementType();
  if (failed(checkRank(emitError, "query", q, 4, layout)) ||
      failed(checkRank(emitError, "key", k, 4, layout)) ||
      failed(checkRank(emitError, "value", v, 4, layout)) ||
      failed(checkElementType(emitError, "key", k, elementType)) ||
      failed(checkElementType(emitError, "value", v, elementType)))
    return failure();
  if (numHeads <= 0 || numKvHeads <= 0)
    return fail(emitError, "head counts must be positive");
  if (numHeads % numKvHeads != 0)
    return fail(emitError, "num_heads (", numHeads,
                ") must be a multiple of num_kv_heads (", numKvHeads, ")");
  if (failed(checkDim(emitError, "query heads", q.getDimSize(1), "num_heads",
                      numHeads)) ||
      failed(checkDim(emitError, "key heads", k.getDimSize(1), "num_kv_heads",
                      numKvHeads)) ||
      failed(checkDim(emitError, "value heads", v.getDimSize(1), "num_kv_heads",
                      numKvHeads)) ||
      failed(checkDim(emitError, "key batch", k.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(emitError, "value batch", v.getDimSize(0), "query batch",
                      q.getDimSize(0))) ||
      failed(checkDim(emitError, "key head_dim", k.getDimSize(3),
                      "query head_dim", q.getDimSize(3))) ||
      failed(checkDim(emitError, "value seq", v.getDimSize(2), "key seq",
                      k.getDimSize(2))))
    return failure();

  int64_t batch =
      mergeDims(mergeDims(q.getDimSize(0), k.getDimSize(0)), v.getDimSize(0));
  int64_t seq = q.getDimSize(2);
  int64_t newKv = mergeDims(k.getDimSize(2), v.getDimSize(2));
  int64_t headDim = mergeDims(q.getDimSize(3), k.getDimSize(3));
  int64_t valueDim = v.getDimSize(3);
  int64_t total = newKv;

  AttentionTypes types;
  if (static_cast<bool>(pastKey) != static_cast<bool>(pastValue))
    return fail(emitError, "past_key and past_value must be given together");
  if (pastKey) {
    RankedTensorType pk = tensorOf(pastKey), pv = tensorOf(pastValue);
    if (failed(checkRank(emitError, "past_key", pk, 4, layout)) ||
        failed(checkRank(emitError, "past_value", pv, 4, layout)) ||
        failed(checkElementType(emitError, "past_key", pk, elementType)) ||
        failed(checkElementType(emitError, "past_value", pv, elementType)) ||
        failed(checkDim(emitError, "past_key batch", pk.getDimSize(0),
                        "query batch", batch)) ||
        failed(checkDim(emitError, "past_value batch", pv.getDimSize(0),
                        "query batch", batch)) ||
        failed(checkDim(emitError, "past_key heads", pk.getDimSize(1),
                        "num_kv_heads", numKvHeads)) ||
        failed(checkDim(emitError, "past_value heads", pv.getDimSize(1),
                        "num_kv_heads", numKvHeads)) ||
        failed(checkDim(emitError, "past_key head_dim", pk.getDimSize(3),
                        "query head_dim", headDim)) ||
        failed(checkDim(emitError, "past_value head_dim", pv.getDimSize(3),
                        "value head_dim", valueDim)) ||
        failed(checkDim(emitError, "past_value seq", pv.getDimSize(2),
                        "past_key seq", pk.getDimSize(2))))
      return failure();
    int64_t past = mergeDims(pk.getDimSize(2), pv.getDimSize(2));
    total = addDims(past, newKv);
    types.presentKey =
        RankedTensorType::get({batch, numKvHeads, total, headDim}, elementType);
    types.presentValue = RankedTensorType::get(
        {batch, numKvHeads, total, valueDim}, elementType);
  }
  if (mask) {
    RankedTensorType m = tensorOf(mask);
    if (failed(checkBroadcastsTo(emitError, "mask", m,
                                 {batch, numHeads, seq, total})))
      return failure();
  }
  types.result =
      RankedTensorType::get({batch, numHeads, seq, valueDim}, elementType);
  return types;
}

FailureOr<RankedTensorType> inferMoe(ErrorFn emitError, Value input,
                                     Value routerLogits, Value gate, Value up,
                                     Value down, int64_t topK) {
  RankedTensorType x = tensorOf(input), logits = tensorOf(routerLogits);
  RankedTensorType upType = tensorOf(up), downType = tensorOf(down);
  Type elementType = x.getElementType();
  if (x.getRank() < 1)
    return fail(emitError, "input must have rank >= 1, got ", x);
  if (logits.getRank() != x.getRank())
    return fail(emitError, "router_logits must have the input's rank (",
                x.getRank(), ") with experts last, got ", logits);
  for (int64_t i = 0; i + 1 < x.getRank(); ++i)
    if (failed(
            checkDim(emitError, "router_logits dimension " + std::to_string(i),
                     logits.getDimSize(i),
                     "input dimension " + std::to_string(i), x.getDimSize(i))))
      return failure();
  if (failed(checkRank(emitError, "up weight", upType, 3,
                       "[experts, ffn, dim]")) ||
      failed(checkRank(emitError, "down weight", downType, 3,
                       "[experts, dim, ffn]")) ||
      failed(checkElementType(emitError, "up weight", upType, elementType)) ||
      failed(checkElementType(emitError, "down weight", downType, elementType)))
    return failure();
  if (gate && tensorOf(gate) != upType)
    return fail(emitError, "gate weight type ", gate.getType(),
                " must equal the up weight type ", upType);
  int64_t dim = x.getShape().back();
  int64_t experts = upType.getDimSize(0);
  if (failed(checkDim(emitError, "router_logits experts",
                      logits.getShape().back(), "up weight experts",
                      experts)) ||
      failed(checkDim(emitError, "down weight experts", downType.getDimSize(0),
                      "up weight experts", experts)) ||
      failed(checkDim(emitError, "up weight in_features", upType.getDimSize(2),
                      "input feature dimension", dim)) ||
      failed(checkDim(emitError, "down weight out_features",
                      downType.getDimSize(1), "input feature dimension",
                      dim)) ||
      failed(checkDim(emitError, "down weight in_features",
                      downType.getDimSize(2), "up weight out_features",
                      upType.getDimSize(1))))
    return failure();
  experts = mergeDims(experts, logits.getShape().back());
  if (!ShapedType::isDynamic(experts) && topK > experts)
    return fail(emitError, "top_k (", topK, ") exceeds the number of experts (",
                experts, ")");
  return x;
}

/// The inferred type for builders, or `fallback` when the operands are
/// invalid (the verifier reports why).
Type orFallback(FailureOr<RankedTensorType> inferred, Value fallback) {
  return succeeded(inferred) ? Type(*inferred) : fallback.getType();
}

} // namespace

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

void EmbeddingOp::build(OpBuilder &b, OperationState &state, Value table,
                        Value ids) {
  build(b, state, orFallback(inferEmbedding(nullptr, table, ids), table), table,
        ids);
}

LogicalResult EmbeddingOp::verify() {
  auto inferred =
      inferEmbedding([&] { return emitOpError(); }, getTable(), getIds());
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

//===----------------------------------------------------------------------===//
// LinearOp and MatmulOp
//===----------------------------------------------------------------------===//

void LinearOp::build(OpBuilder &b, OperationState &state, Value input,
                     Value weight, Value bias) {
  build(b, state, orFallback(inferLinear(nullptr, input, weight, bias), input),
        input, weight, bias);
}

LogicalResult LinearOp::verify() {
  auto inferred = inferLinear([&] { return emitOpError(); }, getInput(),
                              getWeight(), getBias());
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

void MatmulOp::build(OpBuilder &b, OperationState &state, Value lhs,
                     Value rhs) {
  build(b, state, orFallback(inferMatmul(nullptr, lhs, rhs), lhs), lhs, rhs);
}

LogicalResult MatmulOp::verify() {
  auto inferred =
      inferMatmul([&] { return emitOpError(); }, getLhs(), getRhs());
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

//===----------------------------------------------------------------------===//
// KVQuantizeOp, KVDequantizeOp
//===----------------------------------------------------------------------===//

/// Rows [B, H, T, D] f32 and their codes [B, H, T, D·bits/8] i8 and scales
/// [B, H, T]: the shapes llm.kv_quantize and llm.kv_dequantize relate.
static LogicalResult verifyKVCodes(Operation *op, int64_t bits,
                                   RankedTensorType rows,
                                   RankedTensorType codes,
                                   RankedTensorType scales) {
  if (bits != 8 && bits != 4)
    return op->emitOpError() << "bits must be 8 or 4, got " << bits;
  if (rows.getRank() != 4 || codes.getRank() != 4 || scales.getRank() != 3)
    return op->emitOpError()
           << "expects rows [B, H, T, D], codes [B, H, T, D * bits / 8] and "
              "scales [B, H, T], got "
           << rows << ", " << codes << " and " << scales;
  int64_t d = rows.getDimSize(3);
  if (ShapedType::isDynamic(d) || d * bits % 8 != 0)
    return op->emitOpError()
           << "head dimension " << rows.getDimSize(3)
           << " must be static and fill bytes of " << bits << "-bit codes";
  if (codes.getDimSize(3) != d * bits / 8)
    return op->emitOpError() << "codes must have " << d * bits / 8
                             << " bytes per row, got " << codes;
  for (int64_t i = 0; i < 3; ++i)
    for (RankedTensorType other : {codes, scales})
      if (!ShapedType::isDynamic(rows.getDimSize(i)) &&
          !ShapedType::isDynamic(other.getDimSize(i)) &&
          other.getDimSize(i) != rows.getDimSize(i))
        return op->emitOpError()
               << "dimension " << i << " differs: " << rows << " and " << other;
  return success();
}

RankedTensorType KVQuantizeOp::codesType(RankedTensorType rowsType,
                                         int64_t bits) {
  SmallVector<int64_t> shape(rowsType.getShape());
  if (!ShapedType::isDynamic(shape.back()))
    shape.back() = shape.back() * bits / 8;
  return RankedTensorType::get(shape,
                               IntegerType::get(rowsType.getContext(), 8));
}

RankedTensorType KVQuantizeOp::scalesType(RankedTensorType rowsType) {
  return RankedTensorType::get(rowsType.getShape().drop_back(),
                               Float32Type::get(rowsType.getContext()));
}

void KVQuantizeOp::build(OpBuilder &b, OperationState &state, Value input,
                         int64_t bits) {
  auto rows = cast<RankedTensorType>(input.getType());
  build(b, state, codesType(rows, bits), scalesType(rows), input,
        b.getI64IntegerAttr(bits));
}

LogicalResult KVQuantizeOp::verify() {
  return verifyKVCodes(*this, getBits(), getInput().getType(),
                       getCodes().getType(), getScales().getType());
}

LogicalResult KVDequantizeOp::verify() {
  return verifyKVCodes(*this, getBits(), getResult().getType(),
                       getCodes().getType(), getScales().getType());
}

//===----------------------------------------------------------------------===//
// QuantizedLinearOp
//===----------------------------------------------------------------------===//

int64_t QuantizedLinearOp::getOutFeatures() {
  return getCodes().getType().getDimSize(0);
}

int64_t QuantizedLinearOp::getInFeatures() {
  return getCodes().getType().getDimSize(1) * 8 / getBits();
}

LogicalResult QuantizedLinearOp::verify() {
  auto emitError = [&] { return emitOpError(); };
  int64_t bits = getBits(), group = getGroupSize();
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    return emitOpError() << "bits must be 2, 3, 4 or 8, got " << bits;
  if (std::optional<uint64_t> activations = getActivationBits();
      activations && *activations != 8)
    return emitOpError() << "activations must be quantized to 8 bits, got "
                         << static_cast<int64_t>(*activations);
  RankedTensorType codes = getCodes().getType(), scales = getScales().getType();
  if (failed(checkRank(emitError, "codes", codes, 2,
                       "[out_features, in_features * bits / 8]")) ||
      failed(checkRank(emitError, "scales", scales, 2,
                       "[out_features, in_features / group_size]")))
    return failure();
  if (!codes.hasStaticShape() || !scales.hasStaticShape())
    return emitOpError() << "codes and scales must have static shapes, got "
                         << codes << " and " << scales;
  // 3-bit codes: a bit stream of 8 codes per 3 bytes.
  if (codes.getDimSize(1) * 8 % bits != 0)
    return emitOpError() << "codes " << codes << " do not hold whole " << bits
                         << "-bit codes (rows of a multiple of " << bits
                         << " bytes)";
  int64_t n = getOutFeatures(), k = getInFeatures();
  RankedTensorType input = getInput().getType();
  if (input.getRank() < 1)
    return emitOpError() << "input must have rank >= 1, got " << input;
  if (failed(checkDim(emitError, "input feature dimension",
                      input.getShape().back(), "in_features of the codes", k)))
    return failure();
  if (k % group != 0)
    return emitOpError() << "group_size " << group
                         << " does not divide in_features " << k;
  if (scales.getDimSize(0) != n || scales.getDimSize(1) != k / group)
    return emitOpError() << "scales must be " << formatShape({n, k / group})
                         << " (out_features x in_features / group_size), got "
                         << scales;
  if (failed(checkElementType(emitError, "scales", scales,
                              input.getElementType())))
    return failure();
  if (Value zeroPoints = getZeroPoints()) {
    auto zType = cast<RankedTensorType>(zeroPoints.getType());
    if (zType.getShape() != scales.getShape())
      return emitOpError() << "zero_points must have the shape of the scales "
                           << formatShape(scales.getShape()) << ", got "
                           << zType;
  }
  if (getCodebook() || getDatatypes()) {
    if (!getCodebook() || !getDatatypes())
      return emitOpError() << "a codebook needs its datatypes and datatypes "
                              "their codebook";
    if (getZeroPoints())
      return emitOpError() << "a codebook excludes zero_points";
    auto book = cast<RankedTensorType>(getCodebook().getType());
    auto kinds = cast<RankedTensorType>(getDatatypes().getType());
    if (book.getRank() != 2 || !book.hasStaticShape() ||
        book.getDimSize(1) != (int64_t{1} << bits) || book.getDimSize(0) < 1)
      return emitOpError() << "codebook must be [datatypes, 2^bits = "
                           << (int64_t{1} << bits) << "], got " << book;
    if (failed(checkElementType(emitError, "codebook", book,
                                input.getElementType())))
      return failure();
    if (kinds.getShape() != scales.getShape())
      return emitOpError() << "datatypes must have the shape of the scales "
                           << formatShape(scales.getShape()) << ", got "
                           << kinds;
  }
  Value bias = getBias();
  if (bias) {
    RankedTensorType biasType = tensorOf(bias);
    if (failed(checkRank(emitError, "bias", biasType, 1, "[out_features]")) ||
        failed(checkElementType(emitError, "bias", biasType,
                                input.getElementType())) ||
        failed(checkDim(emitError, "bias size", biasType.getDimSize(0),
                        "out_features", n)))
      return failure();
  }
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = n;
  return checkResult(*this, "result", getType(),
                     RankedTensorType::get(shape, input.getElementType()));
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

void RMSNormOp::build(OpBuilder &b, OperationState &state, Value input,
                      Value weight, float epsilon) {
  build(b, state, input.getType(), input, weight, b.getF32FloatAttr(epsilon));
}

LogicalResult RMSNormOp::verify() {
  if (failed(checkEpsilon(*this, getEpsilon().convertToFloat())))
    return failure();
  auto inferred =
      inferNorm([&] { return emitOpError(); }, getInput(), {getWeight()});
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

void LayerNormOp::build(OpBuilder &b, OperationState &state, Value input,
                        Value weight, Value bias, float epsilon) {
  build(b, state, input.getType(), input, weight, bias,
        b.getF32FloatAttr(epsilon));
}

LogicalResult LayerNormOp::verify() {
  if (failed(checkEpsilon(*this, getEpsilon().convertToFloat())))
    return failure();
  auto inferred = inferNorm([&] { return emitOpError(); }, getInput(),
                            {getWeight(), getBias()});
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

void RopeOp::build(OpBuilder &b, OperationState &state, Value input, Value cos,
                   Value sin, bool interleaved) {
  build(b, state, input.getType(), input, cos, sin,
        interleaved ? b.getUnitAttr() : UnitAttr());
}

LogicalResult RopeOp::verify() {
  auto inferred =
      inferRope([&] { return emitOpError(); }, getInput(), getCos(), getSin());
  if (failed(inferred))
    return failure();
  return checkResult(*this, "result", getType(), *inferred);
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &b, OperationState &state, Value query,
                        Value key, Value value, Value mask, Value pastKey,
                        Value pastValue, int64_t numHeads, int64_t numKvHeads,
                        bool causal, std::optional<float> scale,
                        std::optional<int64_t> slidingWindow) {
  auto types = inferAttention(nullptr, query, key, value, mask, pastKey,
                              pastValue, numHeads, numKvHeads);
  Type resultType = succeeded(types) ? Type(types->result) : query.getType();
  SmallVector<Type, 2> presentTypes;
  if (pastKey && pastValue) {
    presentTypes.push_back(succeeded(types) ? Type(types->presentKey)
                                            : pastKey.getType());
    presentTypes.push_back(succeeded(types) ? Type(types->presentValue)
                                            : pastValue.getType());
  }
  build(b, state, resultType, presentTypes, query, key, value, mask, pastKey,
        pastValue, b.getI64IntegerAttr(numHeads),
        b.getI64IntegerAttr(numKvHeads), causal ? b.getUnitAttr() : UnitAttr(),
        scale ? b.getF32FloatAttr(*scale) : FloatAttr(),
        slidingWindow ? b.getI64IntegerAttr(*slidingWindow) : IntegerAttr());
}

FailureOr<float> AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  int64_t headDim = getQuery().getType().getDimSize(3);
  if (ShapedType::isDynamic(headDim))
    return failure();
  return 1.0f / std::sqrt(static_cast<float>(headDim));
}

LogicalResult AttentionOp::verify() {
  if (std::optional<APFloat> scale = getScale()) {
    float s = scale->convertToFloat();
    if (!std::isfinite(s) || s <= 0.0f)
      return emitOpError() << "scale must be finite and positive, got " << s;
  }
  if (getSlidingWindow() && !getCausal())
    return emitOpError() << "sliding_window requires causal attention";
  auto types = inferAttention([&] { return emitOpError(); }, getQuery(),
                              getKey(), getValue(), getMask(), getPastKey(),
                              getPastValue(), getNumHeads(), getNumKvHeads());
  if (failed(types))
    return failure();
  if (failed(
          checkResult(*this, "result", getResult().getType(), types->result)))
    return failure();
  size_t expectedPresent = types->presentKey ? 2 : 0;
  if (getPresent().size() != expectedPresent)
    return emitOpError() << "expects " << expectedPresent
                         << " present results (key, value) "
                         << (expectedPresent ? "with" : "without")
                         << " a past KV cache, got " << getPresent().size();
  if (expectedPresent &&
      (failed(checkResult(*this, "present_key", getPresent()[0].getType(),
                          types->presentKey)) ||
       failed(checkResult(*this, "present_value", getPresent()[1].getType(),
                          types->presentValue))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

int64_t SoftmaxOp::getNormalizedAxis() {
  int64_t axis = getAxis();
  return axis < 0 ? axis + getType().getRank() : axis;
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getType().getRank();
  int64_t axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// TopKOp
//===----------------------------------------------------------------------===//

static FailureOr<RankedTensorType> inferTopK(ErrorFn emitError, Value input,
                                             int64_t k) {
  RankedTensorType type = tensorOf(input);
  if (type.getRank() < 1)
    return fail(emitError, "input must have rank >= 1, got ", type);
  int64_t last = type.getShape().back();
  if (!ShapedType::isDynamic(last) && k > last)
    return fail(emitError, "k (", k, ") exceeds the last dimension (", last,
                ")");
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = k;
  return RankedTensorType::get(shape, type.getElementType());
}

void TopKOp::build(OpBuilder &b, OperationState &state, Value input,
                   int64_t k) {
  Type values = orFallback(inferTopK(nullptr, input, k), input);
  auto shape = cast<RankedTensorType>(values).getShape();
  build(b, state, values, RankedTensorType::get(shape, b.getI64Type()), input,
        b.getI64IntegerAttr(k));
}

LogicalResult TopKOp::verify() {
  auto inferred = inferTopK([&] { return emitOpError(); }, getInput(), getK());
  if (failed(inferred))
    return failure();
  if (failed(checkResult(*this, "values", getValues().getType(), *inferred)))
    return failure();
  return checkResult(*this, "indices", getIndices().getType(),
                     inferred->clone(IntegerType::get(getContext(), 64)));
}

//===----------------------------------------------------------------------===//
// MoeOp
//===----------------------------------------------------------------------===//

LogicalResult MoeOp::verify() {
  auto inferred =
      inferMoe([&] { return emitOpError(); }, getInput(), getRouterLogits(),
               getGateWeight(), getUpWeight(), getDownWeight(), getTopK());
  if (failed(inferred))
    return failure();
  int64_t groups = getGroups(), experts = getNumExperts();
  if (groups > 1) {
    if (!ShapedType::isDynamic(experts) && experts % groups != 0)
      return emitOpError() << "groups (" << groups
                           << ") must divide the number of experts (" << experts
                           << ")";
    if (getTopK() % groups != 0)
      return emitOpError() << "groups (" << groups << ") must divide top_k ("
                           << getTopK() << ")";
  }
  return checkResult(*this, "result", getType(), *inferred);
}

#define GET_OP_CLASSES
#include "dialects/llm/LLMOps.cpp.inc"

//===----------------------------------------------------------------------===//
// DeviceCallOp
//===----------------------------------------------------------------------===//

LogicalResult DeviceCallOp::verify() {
  // The getter reads the attribute as unsigned.
  if (int64_t program = getProgramAttr().getInt(); program < 0)
    return emitOpError("program index ") << program << " is negative";
  if (getInputs().empty() || getInits().empty())
    return emitOpError("needs at least one input and one result");
  if (getInputs().size() + getInits().size() > 8)
    return emitOpError("takes at most 8 inputs and results together, got ")
           << getInputs().size() + getInits().size();
  if (TypeRange(getInits()) != getResultTypes())
    return emitOpError("result types differ from the inits'");
  for (Value v : llvm::concat<Value>(getInputs(), getInits())) {
    auto type = cast<RankedTensorType>(v.getType());
    if (!type.getElementType().isF32() || type.getRank() < 1)
      return emitOpError("device programs take and produce f32 tensors of "
                         "rank 1 or more, got ")
             << type;
  }
  return success();
}
