//===- DeviceCalls.cpp - CPU code that runs device programs ---------------===//

#include "targets/cpu/DeviceCalls.h"

#include "dialects/llm/LLMOps.h"
#include "runtime/ArtifactFormat.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::llm;
namespace artifact = llmc::artifact;

namespace {

/// `buffer` itself when it is contiguous row-major, else a fresh copy of
/// its shape (filled from it when `copyIn`).
Value contiguous(RewriterBase &rewriter, Location loc, Value buffer,
                 bool copyIn) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getLayout().isIdentity())
    return buffer;
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(memref::DimOp::create(rewriter, loc, buffer, d));
  Value copy = memref::AllocOp::create(
      rewriter, loc, MemRefType::get(type.getShape(), type.getElementType()),
      sizes);
  if (copyIn)
    memref::CopyOp::create(rewriter, loc, buffer, copy);
  return copy;
}

/// func.func private @llmc_device_call(i64, memref<*xf32>, memref<*xf32>).
func::FuncOp deviceCallDeclaration(RewriterBase &rewriter, ModuleOp module) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(artifact::kDeviceCallSymbol))
    return fn;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  MLIRContext *ctx = module.getContext();
  auto buffer = UnrankedMemRefType::get(Float32Type::get(ctx), 0);
  auto fn = func::FuncOp::create(
      rewriter, module.getLoc(), artifact::kDeviceCallSymbol,
      FunctionType::get(ctx, {IntegerType::get(ctx, 64), buffer, buffer}, {}));
  fn.setPrivate();
  return fn;
}

struct DeviceCallBufferization
    : public DstBufferizableOpInterfaceExternalModel<DeviceCallBufferization,
                                                     DeviceCallOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    // The program writes every element of its output.
    return &operand == &cast<DeviceCallOp>(op).getInputMutable();
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto call = cast<DeviceCallOp>(op);
    Location loc = call.getLoc();
    FailureOr<Value> input = getBuffer(rewriter, call.getInput(), options, state);
    FailureOr<Value> output = getBuffer(rewriter, call.getInit(), options, state);
    if (failed(input) || failed(output))
      return failure();
    func::FuncOp callee =
        deviceCallDeclaration(rewriter, call->getParentOfType<ModuleOp>());
    Value in = contiguous(rewriter, loc, *input, /*copyIn=*/true);
    Value out = contiguous(rewriter, loc, *output, /*copyIn=*/false);
    auto unranked = cast<FunctionType>(callee.getFunctionType()).getInput(1);
    Value program = arith::ConstantIntOp::create(rewriter, loc,
                                                 call.getProgram(), 64);
    func::CallOp::create(
        rewriter, loc, callee,
        ValueRange{program,
                   memref::CastOp::create(rewriter, loc, unranked, in),
                   memref::CastOp::create(rewriter, loc, unranked, out)});
    if (out != *output)
      memref::CopyOp::create(rewriter, loc, out, *output);
    replaceOpWithBufferizedValues(rewriter, op, *output);
    return success();
  }
};

} // namespace

void mlir::llm::cpu::registerDeviceCallBufferization(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LLMDialect *) {
    DeviceCallOp::attachInterface<DeviceCallBufferization>(*ctx);
  });
}

void mlir::llm::cpu::defineDeviceCallTrampoline(llvm::Module &module) {
  llvm::Function *call = module.getFunction(artifact::kDeviceCallSymbol);
  if (!call || !call->isDeclaration())
    return;
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::get(ctx, 0);
  auto global = [&](const char *name) {
    return new llvm::GlobalVariable(module, ptrType, /*isConstant=*/false,
                                    llvm::GlobalValue::ExternalLinkage,
                                    llvm::ConstantPointerNull::get(ptrType),
                                    name);
  };
  llvm::GlobalVariable *hook = global(artifact::kDeviceHookSymbol);
  llvm::GlobalVariable *context = global(artifact::kDeviceContextSymbol);
  SmallVector<llvm::Type *> params = {ptrType};
  for (llvm::Argument &arg : call->args())
    params.push_back(arg.getType());
  auto *hookType =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", call));
  SmallVector<llvm::Value *> args = {b.CreateLoad(ptrType, context)};
  for (llvm::Argument &arg : call->args())
    args.push_back(&arg);
  b.CreateCall(hookType, b.CreateLoad(ptrType, hook), args);
  b.CreateRetVoid();
}
