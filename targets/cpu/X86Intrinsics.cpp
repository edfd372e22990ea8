//===- X86Intrinsics.cpp - llm-cpu-x86-intrinsics -------------------------===//
//
// llm-cpu-vectorize-linear writes the 4-way i8 dot products of quantized
// activations as plain vector arithmetic (widen, multiply, gather and add
// in fours) and codebook lookups as a vector.gather from a 64-byte table,
// and tags them where the target has the instruction (AVX512-VNNI
// vpdpbusd, AVX512-VBMI vpermb); this pass replaces the tagged ones with
// llvm.call_intrinsic. It runs after bufferization and buffer deallocation:
// those reject llvm.call_intrinsic, an op with unknown memory effects.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <utility>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUX86INTRINSICS
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// A byte operand of a dot product: bytes widened to i32, or a constant
/// whose i32 values fit the bytes (folding widens constant bytes).
struct ByteOperand {
  Value bytes;
  DenseElementsAttr constant; // i32 values, narrowed by `materialize`

  Value materialize(OpBuilder &b, Location loc) const {
    if (bytes)
      return bytes;
    auto type = VectorType::get({64}, b.getI8Type());
    SmallVector<int8_t> narrow;
    for (const APInt &v : constant.getValues<APInt>())
      narrow.push_back(static_cast<int8_t>(v.getSExtValue()));
    return arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, ArrayRef(narrow)));
  }
};

/// `wide` (vector<64xi32>) as bytes zero- or sign-extended.
FailureOr<ByteOperand> byteOperand(Value wide, bool isSigned) {
  auto i8x64 = VectorType::get({64}, IntegerType::get(wide.getContext(), 8));
  Operation *def = wide.getDefiningOp();
  if (!def)
    return failure();
  Value in;
  if (auto ext = dyn_cast<arith::ExtUIOp>(def); ext && !isSigned)
    in = ext.getIn();
  if (auto ext = dyn_cast<arith::ExtSIOp>(def); ext && isSigned)
    in = ext.getIn();
  if (in) {
    if (in.getType() != i8x64)
      return failure();
    return ByteOperand{in, DenseElementsAttr()};
  }
  DenseElementsAttr constant;
  if (!matchPattern(wide, m_Constant(&constant)))
    return failure();
  for (const APInt &v : constant.getValues<APInt>()) {
    int64_t x = v.getSExtValue();
    if (isSigned ? (x < -128 || x > 127) : (x < 0 || x > 255))
      return failure();
  }
  return ByteOperand{Value(), constant};
}

/// The unsigned and signed byte operands a, b (vector<64xi8>) of
///   acc + ((s0 + s1) + (s2 + s3)),  s_i = shuffle(p, p)[i, 4 + i, ...],
///   p = extui(a) * extsi(b)
/// with acc: vector<16xi32> (either factor may be a constant, or ones).
FailureOr<std::pair<ByteOperand, ByteOperand>>
matchDotProduct(arith::AddIOp op) {
  MLIRContext *ctx = op.getContext();
  auto i32x16 = VectorType::get({16}, IntegerType::get(ctx, 32));
  if (op.getType() != i32x16)
    return failure();
  auto pairOf = [](Value v) -> std::pair<Value, Value> {
    auto add = v.getDefiningOp<arith::AddIOp>();
    if (!add)
      return {};
    return {add.getLhs(), add.getRhs()};
  };
  auto [left, right] = pairOf(op.getRhs());
  if (!left || !right)
    return failure();
  auto [s0, s1] = pairOf(left);
  auto [s2, s3] = pairOf(right);
  Value products;
  int64_t i = 0;
  for (Value s : {s0, s1, s2, s3}) {
    auto shuffle = s ? s.getDefiningOp<vector::ShuffleOp>() : nullptr;
    if (!shuffle || shuffle.getV1() != shuffle.getV2() ||
        (products && shuffle.getV1() != products))
      return failure();
    products = shuffle.getV1();
    ArrayRef<int64_t> mask = shuffle.getMask();
    if (mask.size() != 16)
      return failure();
    for (int64_t c = 0; c < 16; ++c)
      if (mask[c] != 4 * c + i)
        return failure();
    ++i;
  }
  // Folding may have moved a constant operand to the right or dropped a
  // factor of ones.
  auto pairOfBytes =
      [](Value unsignedWide,
         Value signedWide) -> FailureOr<std::pair<ByteOperand, ByteOperand>> {
    FailureOr<ByteOperand> a = byteOperand(unsignedWide, false);
    FailureOr<ByteOperand> b = byteOperand(signedWide, true);
    if (failed(a) || failed(b))
      return failure();
    return std::make_pair(*a, *b);
  };
  if (auto mul = products.getDefiningOp<arith::MulIOp>()) {
    auto bytes = pairOfBytes(mul.getLhs(), mul.getRhs());
    return succeeded(bytes) ? bytes : pairOfBytes(mul.getRhs(), mul.getLhs());
  }
  auto i32x64 = VectorType::get({64}, IntegerType::get(ctx, 32));
  auto ones = DenseElementsAttr::get(
      i32x64, IntegerAttr::get(IntegerType::get(ctx, 32), 1));
  FailureOr<ByteOperand> a = byteOperand(products, false);
  if (succeeded(a) && a->bytes)
    return std::make_pair(*a, ByteOperand{Value(), ones});
  FailureOr<ByteOperand> b = byteOperand(products, true);
  if (succeeded(b) && b->bytes)
    return std::make_pair(ByteOperand{Value(), ones}, *b);
  return failure();
}

/// Whether `op` reads 64 bytes of a 64-byte table (a row of a buffer
/// whose last dimension is 64, from its start) at indices (i32) known to
/// be below 64 because they are zero-extended bytes of a value below 64
/// (code | datatype << bits, or a bit plane's nibble | table << 4, built
/// that way): the only gathers vpermb, which takes the low 6 bits of each
/// index, computes exactly. The indices' bound is the tagger's promise; the
/// shapes are checked.
bool isTableLookup(vector::GatherOp op) {
  MLIRContext *ctx = op.getContext();
  auto i8x64 = VectorType::get({64}, IntegerType::get(ctx, 8));
  auto base = dyn_cast<MemRefType>(op.getBase().getType());
  auto indices = op.getIndices().getDefiningOp<arith::ExtUIOp>();
  return base && base.getRank() >= 1 && base.getShape().back() == 64 &&
         base.getElementType().isInteger(8) && base.getLayout().isIdentity() &&
         op.getType() == i8x64 && !op.getOffsets().empty() &&
         matchPattern(op.getOffsets().back(), m_Zero()) && indices &&
         indices.getIn().getType() == i8x64 &&
         matchPattern(op.getMask(), m_One());
}

struct X86Intrinsics : llm::cpu::impl::LLMCpuX86IntrinsicsBase<X86Intrinsics> {
  void runOnOperation() override {
    SmallVector<arith::ExtUIOp> lookups;
    getOperation()->walk([&](arith::ExtUIOp op) {
      if (op->hasAttr(llm::cpu::kVbmiLookupAttr))
        lookups.push_back(op);
    });
    // One index vector may look up several tables (T-MAC's lo and hi
    // bytes, each row's tables).
    for (arith::ExtUIOp indices : lookups) {
      SmallVector<vector::GatherOp> gathers;
      for (Operation *user : indices->getUsers()) {
        auto op = dyn_cast<vector::GatherOp>(user);
        if (!op || op.getIndices() != indices.getResult() ||
            !isTableLookup(op)) {
          indices.emitError()
              << "llm-cpu-x86-intrinsics: the indices tagged '"
              << llm::cpu::kVbmiLookupAttr
              << "' do not feed lookups of 64 bytes in 64-byte tables";
          return signalPassFailure();
        }
        gathers.push_back(op);
      }
      for (vector::GatherOp op : gathers) {
        OpBuilder b(op);
        Location loc = op.getLoc();
        Value table = vector::LoadOp::create(b, loc, op.getType(), op.getBase(),
                                             op.getOffsets());
        // vpermb: result[i] = table[bytes[i] & 63].
        Value looked = LLVM::CallIntrinsicOp::create(
                           b, loc, op.getType(),
                           b.getStringAttr("llvm.x86.avx512.permvar.qi.512"),
                           ValueRange{table, indices.getIn()})
                           .getResult(0);
        op.replaceAllUsesWith(looked);
        op.erase();
      }
      indices.erase();
    }
    SmallVector<arith::AddIOp> tagged;
    getOperation()->walk([&](arith::AddIOp op) {
      if (op->hasAttr(llm::cpu::kVnniDotAttr))
        tagged.push_back(op);
    });
    for (arith::AddIOp op : tagged) {
      FailureOr<std::pair<ByteOperand, ByteOperand>> bytes =
          matchDotProduct(op);
      if (failed(bytes)) {
        op.emitError() << "llm-cpu-x86-intrinsics: the sum tagged '"
                       << llm::cpu::kVnniDotAttr
                       << "' is not a 4-way dot product of vector<64xi8>";
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value dot =
          LLVM::CallIntrinsicOp::create(
              b, op.getLoc(), op.getType(),
              b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
              ValueRange{op.getLhs(), bytes->first.materialize(b, op.getLoc()),
                         bytes->second.materialize(b, op.getLoc())})
              .getResult(0);
      op.replaceAllUsesWith(dot);
      op.erase();
    }
  }
};

} // namespace
