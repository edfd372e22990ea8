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

/// The unsigned and signed byte vectors a, b (vector<64xi8>) of
///   acc + ((s0 + s1) + (s2 + s3)),  s_i = shuffle(p, p)[i, 4 + i, ...],
///   p = extui(a) * extsi(b)
/// with acc: vector<16xi32>.
FailureOr<std::pair<Value, Value>> matchDotProduct(arith::AddIOp op) {
  MLIRContext *ctx = op.getContext();
  auto i8x64 = VectorType::get({64}, IntegerType::get(ctx, 8));
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
  auto mul = products.getDefiningOp<arith::MulIOp>();
  auto a = mul ? mul.getLhs().getDefiningOp<arith::ExtUIOp>() : nullptr;
  auto b = mul ? mul.getRhs().getDefiningOp<arith::ExtSIOp>() : nullptr;
  if (!a || !b || a.getIn().getType() != i8x64 || b.getIn().getType() != i8x64)
    return failure();
  return std::make_pair(a.getIn(), b.getIn());
}

/// Whether `op` reads 64 bytes of a 64-byte table at indices (i32) known
/// to be below 64 because they are zero-extended bytes of a value
/// below 64 (code | datatype << bits, built that way): the only gathers
/// vpermb, which takes the low 6 bits of each index, computes exactly.
/// The indices' bound is the tagger's promise; the shapes are checked.
bool isTableLookup(vector::GatherOp op) {
  MLIRContext *ctx = op.getContext();
  auto i8x64 = VectorType::get({64}, IntegerType::get(ctx, 8));
  auto base = dyn_cast<MemRefType>(op.getBase().getType());
  auto indices = op.getIndices().getDefiningOp<arith::ExtUIOp>();
  return base && base.getRank() == 1 && base.getDimSize(0) == 64 &&
         base.getElementType().isInteger(8) && base.getLayout().isIdentity() &&
         op.getType() == i8x64 && op.getOffsets().size() == 1 &&
         matchPattern(op.getOffsets()[0], m_Zero()) && indices &&
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
    for (arith::ExtUIOp indices : lookups) {
      auto op = indices->hasOneUse()
                    ? dyn_cast<vector::GatherOp>(*indices->user_begin())
                    : vector::GatherOp();
      if (!op || op.getIndices() != indices.getResult() || !isTableLookup(op)) {
        indices.emitError()
            << "llm-cpu-x86-intrinsics: the indices tagged '"
            << llm::cpu::kVbmiLookupAttr
            << "' do not feed one lookup of 64 bytes in a 64-byte table";
        return signalPassFailure();
      }
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value table = vector::LoadOp::create(b, loc, op.getType(), op.getBase(),
                                           op.getOffsets());
      Value bytes = op.getIndices().getDefiningOp<arith::ExtUIOp>().getIn();
      // vpermb: result[i] = table[bytes[i] & 63].
      Value looked = LLVM::CallIntrinsicOp::create(
                         b, loc, op.getType(),
                         b.getStringAttr("llvm.x86.avx512.permvar.qi.512"),
                         ValueRange{table, bytes})
                         .getResult(0);
      op.replaceAllUsesWith(looked);
      op.erase();
      indices.erase();
    }
    SmallVector<arith::AddIOp> tagged;
    getOperation()->walk([&](arith::AddIOp op) {
      if (op->hasAttr(llm::cpu::kVnniDotAttr))
        tagged.push_back(op);
    });
    for (arith::AddIOp op : tagged) {
      FailureOr<std::pair<Value, Value>> bytes = matchDotProduct(op);
      if (failed(bytes)) {
        op.emitError() << "llm-cpu-x86-intrinsics: the sum tagged '"
                       << llm::cpu::kVnniDotAttr
                       << "' is not a 4-way dot product of vector<64xi8>";
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value dot = LLVM::CallIntrinsicOp::create(
                      b, op.getLoc(), op.getType(),
                      b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                      ValueRange{op.getLhs(), bytes->first, bytes->second})
                      .getResult(0);
      op.replaceAllUsesWith(dot);
      op.erase();
    }
  }
};

} // namespace
