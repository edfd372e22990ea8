//===- VnniDotProducts.cpp - llm-cpu-vnni-dot-products --------------------===//
//
// llm-cpu-vectorize-linear writes the 4-way i8 dot products of quantized
// activations as plain vector arithmetic (widen, multiply, gather and add
// in fours) and, for a target with AVX512-VNNI, tags the final add; this pass
// replaces the tagged ones with vpdpbusd (llvm.call_intrinsic). It runs after
// bufferization and buffer deallocation: those reject llvm.call_intrinsic,
// an op with unknown memory effects.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <utility>

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUVNNIDOTPRODUCTS
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

struct VnniDotProducts
    : llm::cpu::impl::LLMCpuVnniDotProductsBase<VnniDotProducts> {
  void runOnOperation() override {
    SmallVector<arith::AddIOp> tagged;
    getOperation()->walk([&](arith::AddIOp op) {
      if (op->hasAttr(llm::cpu::kVnniDotAttr))
        tagged.push_back(op);
    });
    for (arith::AddIOp op : tagged) {
      FailureOr<std::pair<Value, Value>> bytes = matchDotProduct(op);
      if (failed(bytes)) {
        op.emitError() << "llm-cpu-vnni-dot-products: the sum tagged '"
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
