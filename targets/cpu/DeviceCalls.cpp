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

/// func.func private @llmc_device_call(i64, memref<*xf32> x 8).
func::FuncOp deviceCallDeclaration(RewriterBase &rewriter, ModuleOp module) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(artifact::kDeviceCallSymbol))
    return fn;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(module.getBody());
  MLIRContext *ctx = module.getContext();
  SmallVector<Type> inputs = {IntegerType::get(ctx, 64)};
  inputs.append(artifact::kDeviceCallBuffers,
                UnrankedMemRefType::get(Float32Type::get(ctx), 0));
  auto fn = func::FuncOp::create(rewriter, module.getLoc(),
                                 artifact::kDeviceCallSymbol,
                                 FunctionType::get(ctx, inputs, {}));
  fn.setPrivate();
  return fn;
}

struct DeviceCallBufferization
    : public DstBufferizableOpInterfaceExternalModel<DeviceCallBufferization,
                                                     DeviceCallOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    // The program writes every element of its outputs.
    return !cast<DeviceCallOp>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto call = cast<DeviceCallOp>(op);
    Location loc = call.getLoc();
    func::FuncOp callee =
        deviceCallDeclaration(rewriter, call->getParentOfType<ModuleOp>());
    Type unranked = callee.getFunctionType().getInput(1);
    SmallVector<Value> args = {
        arith::ConstantIntOp::create(rewriter, loc, call.getProgram(), 64)};
    SmallVector<Value> results;
    SmallVector<std::pair<Value, Value>> copyBack;
    for (OpOperand &operand : call->getOpOperands()) {
      FailureOr<Value> buffer =
          getBuffer(rewriter, operand.get(), options, state);
      if (failed(buffer))
        return failure();
      bool init = call.isDpsInit(&operand);
      Value flat = contiguous(rewriter, loc, *buffer, /*copyIn=*/!init);
      if (init) {
        results.push_back(*buffer);
        if (flat != *buffer)
          copyBack.push_back({flat, *buffer});
      }
      args.push_back(memref::CastOp::create(rewriter, loc, unranked, flat));
    }
    // Unused slots repeat the first buffer.
    while (args.size() < size_t(1 + artifact::kDeviceCallBuffers))
      args.push_back(args[1]);
    func::CallOp::create(rewriter, loc, callee, args);
    for (auto [from, to] : copyBack)
      memref::CopyOp::create(rewriter, loc, from, to);
    replaceOpWithBufferizedValues(rewriter, op, results);
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
