//===- CodeGen.cpp - LLVM dialect -> object code -> shared object ---------===//

#include "targets/cpu/CodeGen.h"

#include "targets/cpu/DeviceCalls.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::llm::cpu;

namespace {

constexpr llvm::StringLiteral kCInterfacePrefix = "_mlir_ciface_";

/// void llmc_packed_<name>(void **args) for each _mlir_ciface_<name>: one
/// symbol type the runtime can call whatever the entry point's arity.
void addPackedWrappers(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::get(ctx, 0);
  SmallVector<llvm::Function *> interfaces;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.getName().starts_with(kCInterfacePrefix))
      interfaces.push_back(&f);
  for (llvm::Function *f : interfaces) {
    std::string name =
        (kPackedPrefix + f->getName().drop_front(kCInterfacePrefix.size()))
            .str();
    auto *type =
        llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrType}, false);
    auto *wrapper = llvm::Function::Create(
        type, llvm::GlobalValue::ExternalLinkage, name, module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    SmallVector<llvm::Value *> args;
    for (auto [i, param] : llvm::enumerate(f->args())) {
      llvm::Value *slot = b.CreateConstGEP1_64(ptrType, wrapper->getArg(0), i);
      llvm::Value *pointer = b.CreateLoad(ptrType, slot);
      args.push_back(param.getType()->isPointerTy()
                         ? pointer
                         : b.CreateLoad(param.getType(), pointer));
    }
    b.CreateCall(f, args);
    b.CreateRetVoid();
  }
}

std::string hostFeatures() {
  SmallVector<std::string> features;
  for (auto &[name, enabled] : llvm::sys::getHostCPUFeatures())
    features.push_back((enabled ? "+" : "-") + name.str());
  llvm::sort(features);
  return llvm::join(features, ",");
}

} // namespace

void mlir::llm::cpu::resolveCpu(const CpuCodeGenOptions &options,
                                CpuTargetInfo &info) {
  bool host = options.cpu == "host";
  info.cpu = host ? llvm::sys::getHostCPUName().str() : options.cpu;
  info.features = host ? hostFeatures() : std::string();
  if (!options.features.empty())
    info.features += (info.features.empty() ? "" : ",") + options.features;
}

bool mlir::llm::cpu::targetHasFeature(const CpuCodeGenOptions &options,
                                      StringRef feature) {
  llvm::InitializeNativeTarget();
  CpuTargetInfo info;
  resolveCpu(options, info);
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return false;
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, info.cpu, info.features));
  return subtarget && subtarget->checkFeatures(("+" + feature).str());
}

FailureOr<std::string>
mlir::llm::cpu::emitObject(ModuleOp module, const CpuCodeGenOptions &options,
                           CpuTargetInfo &info) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return module.emitError("could not translate the module to LLVM IR");

  info.triple = llvm::sys::getDefaultTargetTriple();
  llvm::Triple triple(info.triple);
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError()
           << "no LLVM target for " << info.triple << ": " << error;
  resolveCpu(options, info);
  if (!target->hasTargetMachine())
    return module.emitError()
           << "LLVM target " << info.triple << " cannot generate code";
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, info.cpu, info.features, targetOptions, llvm::Reloc::PIC_,
      std::nullopt,
      options.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                              : llvm::CodeGenOptLevel::Default));
  if (!machine)
    return module.emitError()
           << "cannot create a target machine for cpu '" << info.cpu << "'";
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  addPackedWrappers(*llvmModule);
  defineDeviceCallTrampoline(*llvmModule);

  auto optimize = makeOptimizingTransformer(options.optLevel, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return module.emitError()
           << "LLVM optimisation failed: " << llvm::toString(std::move(err));

  SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return module.emitError("the target machine cannot emit object files");
  codegen.run(*llvmModule);
  return std::string(object.str());
}

LogicalResult mlir::llm::cpu::linkSharedObject(StringRef object,
                                               std::string &sharedObject,
                                               std::string &error) {
  // ld.lld beside the LLVM this was built with, else on PATH.
  std::string lld;
  for (StringRef name : {"ld.lld", "ld.lld-22"}) {
    if (auto path = llvm::sys::findProgramByName(name, {LLMC_LLVM_TOOLS_DIR})) {
      lld = *path;
      break;
    }
    if (auto path = llvm::sys::findProgramByName(name)) {
      lld = *path;
      break;
    }
  }
  if (lld.empty()) {
    error = "ld.lld not found (Debian package lld-22)";
    return failure();
  }
  SmallString<128> objectPath, sharedPath;
  int fd;
  if (auto ec =
          llvm::sys::fs::createTemporaryFile("llmc", "o", fd, objectPath)) {
    error = "cannot create a temporary file: " + ec.message();
    return failure();
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  llvm::FileRemover removeObject(objectPath);
  if (auto ec = llvm::sys::fs::createTemporaryFile("llmc", "so", sharedPath)) {
    error = "cannot create a temporary file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeShared(sharedPath);
  // No build id, hash style fixed: the same object links to the same bytes.
  SmallVector<StringRef> args = {
      lld,           "-shared", "--build-id=none", "--hash-style=gnu", "-z",
      "noexecstack", "-o",      sharedPath,        objectPath};
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(lld, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error = "ld.lld failed (" + std::to_string(rc) + ")" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  auto buffer = llvm::MemoryBuffer::getFile(sharedPath);
  if (!buffer) {
    error =
        "cannot read the linked shared object: " + buffer.getError().message();
    return failure();
  }
  sharedObject = (*buffer)->getBuffer().str();
  return success();
}
