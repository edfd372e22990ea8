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
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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

/// The tensor.empty whose buffer `value` is computed in, followed back
/// through reshapes, scf.forall shared outputs and destination-style ops'
/// inits; null when it is something else.
tensor::EmptyOp rootEmpty(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto empty = dyn_cast<tensor::EmptyOp>(def))
      return empty;
    unsigned result = cast<OpResult>(value).getResultNumber();
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def))
      value = expand.getSrc();
    else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def))
      value = collapse.getSrc();
    else if (auto forall = dyn_cast<scf::ForallOp>(def))
      value = forall.getOutputs()[result];
    else if (auto dps = dyn_cast<DestinationStyleOpInterface>(def);
             dps && dps.hasPureTensorSemantics())
      value = dps.getDpsInits()[result];
    else
      return nullptr;
  }
  return nullptr;
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
    // A result computed in a buffer of its own (the logits) is computed in
    // the output buffer instead: upstream's eliminate-empty-tensors does
    // not look through the kernels' reshapes. The final copy is then one
    // of the buffer onto itself, which bufferization drops.
    tensor::EmptyOp empty = tiedTo[r] ? nullptr : rootEmpty(value);
    // Besides the chain, only sizes may be read from the empty tensor (they
    // are the output's as well).
    bool inPlace = empty && empty.getType() == value.getType() &&
                   llvm::count_if(empty->getUsers(), [](Operation *user) {
                     return !isa<tensor::DimOp>(user);
                   }) == 1;
    if (inPlace) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(empty);
      empty.replaceAllUsesWith(
          bufferization::ToTensorOp::create(b, loc, empty.getType(), dest,
                                            /*restrict=*/true,
                                            /*writable=*/true)
              .getResult());
      empty.erase();
    }
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, value, dest,
        inPlace ? UnitAttr() : b.getUnitAttr(), b.getUnitAttr());
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
