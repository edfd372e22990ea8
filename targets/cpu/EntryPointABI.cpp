//===- EntryPointABI.cpp - llm-cpu-entry-abi ------------------------------===//
//
// Gives every public function the calling convention the runtime uses: all
// tensors are caller-owned buffers, results are written into output buffers
// (or, for a result tied to an argument, into that argument in place), and
// a C interface is emitted. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Passes.h"

#include "dialects/llm/LLMDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::llm::cpu {
#define GEN_PASS_DEF_LLMCPUENTRYABI
#include "targets/cpu/Passes.h.inc"
} // namespace mlir::llm::cpu

using namespace mlir;
using namespace mlir::llm;

namespace {

MemRefType bufferType(RankedTensorType t) {
  return MemRefType::get(t.getShape(), t.getElementType());
}

LogicalResult convert(func::FuncOp fn) {
  MLIRContext *ctx = fn.getContext();
  Block &body = fn.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());

  // Which arguments a result updates in place.
  SmallVector<std::optional<unsigned>> tiedTo(fn.getNumResults());
  llvm::SmallDenseSet<unsigned> written;
  for (unsigned r = 0; r < fn.getNumResults(); ++r) {
    auto tied =
        fn.getResultAttrOfType<IntegerAttr>(r, LLMDialect::kTiedArgAttrName);
    if (!tied)
      continue;
    int64_t arg = tied.getInt();
    if (arg < 0 || arg >= fn.getNumArguments() ||
        fn.getArgumentTypes()[arg] != fn.getResultTypes()[r])
      return fn.emitError() << "result " << r << " is tied to argument " << arg
                            << ", which is not of its type";
    tiedTo[r] = arg;
    written.insert(arg);
  }
  for (auto [r, type] : llvm::enumerate(fn.getResultTypes()))
    if (!isa<RankedTensorType>(type))
      return fn.emitError()
             << "result " << r << " is not a ranked tensor: " << type;

  OpBuilder b = OpBuilder::atBlockBegin(&body);
  Location loc = fn.getLoc();
  // Tensor arguments become buffers read through to_tensor.
  for (BlockArgument arg : body.getArguments()) {
    auto t = dyn_cast<RankedTensorType>(arg.getType());
    if (!t)
      continue;
    arg.setType(bufferType(t));
    auto tensor = bufferization::ToTensorOp::create(
        b, loc, t, arg, /*restrict=*/true,
        /*writable=*/written.contains(arg.getArgNumber()));
    arg.replaceAllUsesExcept(tensor, tensor);
  }
  // Results are materialised in their destinations; untied ones get an
  // output argument each, which keeps the result's attributes.
  SmallVector<DictionaryAttr> argAttrs;
  fn.getAllArgAttrs(argAttrs);
  b.setInsertionPoint(ret);
  for (auto [r, value] : llvm::enumerate(ret.getOperands())) {
    Value dest;
    if (tiedTo[r]) {
      dest = body.getArgument(*tiedTo[r]);
    } else {
      auto t = cast<RankedTensorType>(value.getType());
      dest = body.addArgument(bufferType(t), loc);
      NamedAttrList attrs(fn.getResultAttrDict(r));
      if (!attrs.get(LLMDialect::kRoleAttrName))
        attrs.set(LLMDialect::kRoleAttrName, b.getStringAttr("output"));
      argAttrs.push_back(attrs.getDictionary(ctx));
    }
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, value, dest, b.getUnitAttr(),
        b.getUnitAttr());
  }
  func::ReturnOp::create(b, ret.getLoc());
  ret.erase();
  fn.setType(FunctionType::get(ctx, body.getArgumentTypes(), {}));
  fn.setAllArgAttrs(argAttrs);
  fn.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
  fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
  return success();
}

struct EntryPointABI : llm::cpu::impl::LLMCpuEntryABIBase<EntryPointABI> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isPrivate() || fn.isExternal())
        continue;
      if (failed(convert(fn)))
        return signalPassFailure();
    }
  }
};

} // namespace
