//===- VnniDotProducts.cpp - llm-cpu-vnni-dot-products --------------------===//
//
// llm-cpu-vectorize-linear writes the 4-way i8 dot products of quantized
// activations as plain vector arithmetic (widen, multiply, sum in fours)
// and, for a target with AVX512-VNNI, tags them; this pass replaces the
// tagged ones with vpdpbusd (llvm.call_intrinsic). It runs after
// bufferization and buffer deallocation: those reject llvm.call_intrinsic,
// an op with unknown memory effects.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUVNNIDOTPRODUCTS
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;

namespace {

/// The unsigned and signed byte vectors of
///   multi_reduction<add>(shape_cast<16x4>(extui(a) * extsi(b)), acc) [1]
/// with a, b: vector<64xi8>, acc: vector<16xi32>.
FailureOr<std::pair<Value, Value>>
matchDotProduct(vector::MultiDimReductionOp op) {
  auto i8x64 = VectorType::get({64}, IntegerType::get(op.getContext(), 8));
  auto i32x16 = VectorType::get({16}, IntegerType::get(op.getContext(), 32));
  if (op.getKind() != vector::CombiningKind::ADD ||
      op.getAcc().getType() != i32x16 ||
      op.getReductionDims() != ArrayRef<int64_t>{1})
    return failure();
  auto cast = op.getSource().getDefiningOp<vector::ShapeCastOp>();
  auto mul =
      cast ? cast.getSource().getDefiningOp<arith::MulIOp>() : arith::MulIOp();
  if (!mul)
    return failure();
  auto a = mul.getLhs().getDefiningOp<arith::ExtUIOp>();
  auto b = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
  if (!a || !b || a.getIn().getType() != i8x64 || b.getIn().getType() != i8x64)
    return failure();
  return std::make_pair(a.getIn(), b.getIn());
}

struct VnniDotProducts
    : llm::cpu::impl::LLMCpuVnniDotProductsBase<VnniDotProducts> {
  void runOnOperation() override {
    SmallVector<vector::MultiDimReductionOp> tagged;
    getOperation()->walk([&](vector::MultiDimReductionOp op) {
      if (op->hasAttr(llm::cpu::kVnniDotAttr))
        tagged.push_back(op);
    });
    for (vector::MultiDimReductionOp op : tagged) {
      FailureOr<std::pair<Value, Value>> bytes = matchDotProduct(op);
      if (failed(bytes)) {
        op.emitError() << "llm-cpu-vnni-dot-products: the reduction tagged '"
                       << llm::cpu::kVnniDotAttr
                       << "' is not a 4-way dot product of vector<64xi8>";
        return signalPassFailure();
      }
      OpBuilder b(op);
      Value dot = LLVM::CallIntrinsicOp::create(
                      b, op.getLoc(), op.getAcc().getType(),
                      b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                      ValueRange{op.getAcc(), bytes->first, bytes->second})
                      .getResult(0);
      op.replaceAllUsesWith(dot);
      op.erase();
    }
  }
};

} // namespace
