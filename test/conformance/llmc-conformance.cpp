//===- llmc-conformance.cpp - ONNX backend node tests through llmc
//---------===//
//
// For each ONNX backend node test folder (model.onnx + test_data_set_0):
// import with the inputs' static shapes, append an @entry that calls @main
// on the test inputs and counts the output elements outside
// rtol 1e-3 / atol 1e-5 of the expected ones, lower with llm-raise,
// llm-lower-to-linalg and upstream's LLVM lowering, and JIT-run it in a
// child process (a crash fails that test only). Tests whose ops llmc does
// not claim, or that use types it does not handle, are skipped with the
// reason. Prints "N passed, N failed, N skipped".
//
//===----------------------------------------------------------------------===//

#include "lib/Import/GraphImporter.h"
#include "lib/Import/OnnxImporter.h"
#include "lib/Registration/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir;
using namespace llmc;
using namespace llmc::onnx_import;

static llvm::cl::list<std::string>
    testDirs(llvm::cl::Positional, llvm::cl::desc("<node test folders>"));
static llvm::cl::opt<std::string>
    listFile("list", llvm::cl::desc("File with one test folder per line"));
static llvm::cl::opt<bool> verbose("v", llvm::cl::desc("Print every result"));
static llvm::cl::opt<bool>
    inProcess("in-process",
              llvm::cl::desc("Run tests in this process (for debugging)"));

namespace {

constexpr const char *kLowering =
    "llm-raise,llm-lower-to-linalg,llm-cpu-to-llvm";

std::shared_ptr<onnx::ModelProto> readModel(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer)
    return nullptr;
  auto model = std::make_shared<onnx::ModelProto>();
  if (!model->ParseFromArray((*buffer)->getBufferStart(),
                             (*buffer)->getBufferSize()))
    return nullptr;
  return model;
}

bool readTensor(StringRef path, onnx::TensorProto &tensor) {
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  return buffer && tensor.ParseFromArray((*buffer)->getBufferStart(),
                                         (*buffer)->getBufferSize());
}

/// Element values as f64 for comparison (unsigned and bools included).
Value toF64(OpBuilder &b, Location loc, Value v, bool isUnsigned) {
  Type t = v.getType();
  Type f64 = b.getF64Type();
  if (auto f = dyn_cast<FloatType>(t))
    return f.getWidth() < 64 ? Value(arith::ExtFOp::create(b, loc, f64, v)) : v;
  auto i = cast<IntegerType>(t);
  if (isUnsigned || i.getWidth() == 1)
    return arith::UIToFPOp::create(b, loc, f64, v);
  return arith::SIToFPOp::create(b, loc, f64, v);
}

/// Appends @entry: calls @main on the inputs, returns the number of output
/// elements outside tolerance (or -1 for a shape mismatch).
LogicalResult buildEntry(ModuleOp module, GraphImporter &loader,
                         ArrayRef<onnx::TensorProto *> inputs,
                         ArrayRef<onnx::TensorProto *> outputs,
                         std::string &why) {
  MLIRContext *ctx = module.getContext();
  auto main = module.lookupSymbol<func::FuncOp>("main");
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = UnknownLoc::get(ctx);
  auto entry = func::FuncOp::create(b, loc, "entry",
                                    b.getFunctionType({}, {b.getI64Type()}));
  entry->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  b.setInsertionPointToEnd(entry.addEntryBlock());
  SmallVector<Value> args;
  for (onnx::TensorProto *t : inputs) {
    auto host = loader.loadTensor(*t, loc);
    if (failed(host)) {
      why = "cannot read an input";
      return failure();
    }
    args.push_back(loader.materialize(b, loc, *host, "input"));
  }
  if (TypeRange(main.getFunctionType().getInputs()) !=
      TypeRange(ValueRange(args))) {
    why = "input types differ from the imported signature";
    return failure();
  }
  auto call = func::CallOp::create(b, loc, main, args);
  if (call.getNumResults() != outputs.size()) {
    why = "output count differs";
    return failure();
  }
  Value bad = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
  for (auto [callResult, t] : llvm::zip(call.getResults(), outputs)) {
    Value result = callResult;
    auto host = loader.loadTensor(*t, loc);
    if (failed(host)) {
      why = "cannot read an expected output";
      return failure();
    }
    Value expected = loader.materialize(b, loc, *host, "expected");
    auto rt = cast<RankedTensorType>(result.getType());
    auto et = cast<RankedTensorType>(expected.getType());
    if (failed(verifyCompatibleShape(rt.getShape(), et.getShape()))) {
      why = "output shape differs from the expected one";
      return failure();
    }
    // A dynamic result size must match the expected one at run time.
    for (int64_t d = 0; d < rt.getRank(); ++d)
      if (rt.isDynamicDim(d)) {
        Value size = tensor::DimOp::create(b, loc, result, d);
        Value want = arith::ConstantIndexOp::create(b, loc, et.getDimSize(d));
        Value differs =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, size, want);
        bad = arith::AddIOp::create(
            b, loc, bad,
            arith::ExtUIOp::create(b, loc, b.getI64Type(), differs));
      }
    if (rt != et)
      result = tensor::CastOp::create(b, loc, et, result);
    auto signless = [&](Value v) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      auto i = dyn_cast<IntegerType>(t.getElementType());
      if (!i || i.isSignless())
        return v;
      return tensor::BitcastOp::create(
          b, loc, t.clone(b.getIntegerType(i.getWidth())), v);
    };
    bool isUnsigned = et.getElementType().isUnsignedInteger();
    result = signless(result);
    expected = signless(expected);
    rt = cast<RankedTensorType>(result.getType());
    int64_t rank = rt.getRank();
    Value zero = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({}, b.getI64Type()),
        ValueRange{arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0))});
    SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                   b.getMultiDimIdentityMap(rank),
                                   AffineMap::get(rank, 0, {}, ctx)};
    SmallVector<utils::IteratorType> iters(rank,
                                           utils::IteratorType::reduction);
    auto count = linalg::GenericOp::create(
        b, loc, TypeRange{zero.getType()}, ValueRange{result, expected},
        ValueRange{zero}, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value x = toF64(nb, nl, a[0], isUnsigned),
                y = toF64(nb, nl, a[1], isUnsigned);
          Value diff =
              math::AbsFOp::create(nb, nl, arith::SubFOp::create(nb, nl, x, y));
          Value tol = arith::AddFOp::create(
              nb, nl,
              arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(1e-5)),
              arith::MulFOp::create(
                  nb, nl,
                  arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(1e-3)),
                  math::AbsFOp::create(nb, nl, y)));
          // Outside tolerance, or NaN on one side only; equal values
          // (infinities included) always pass.
          Value off = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UGT,
                                            diff, tol);
          Value same =
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, x, y);
          Value bothNaN = arith::AndIOp::create(
              nb, nl,
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, x, x),
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, y, y));
          Value ok = arith::OrIOp::create(
              nb, nl, arith::OrIOp::create(nb, nl, same, bothNaN),
              arith::XOrIOp::create(
                  nb, nl, off,
                  arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true))));
          Value inc = arith::SelectOp::create(
              nb, nl, ok,
              arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(0)),
              arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(1)));
          linalg::YieldOp::create(
              nb, nl, arith::AddIOp::create(nb, nl, a[2], inc).getResult());
        });
    Value n =
        tensor::ExtractOp::create(b, loc, count.getResult(0), ValueRange{});
    bad = arith::AddIOp::create(b, loc, bad, n);
  }
  func::ReturnOp::create(b, loc, bad);
  return success();
}

enum class Outcome { Pass, Fail, Skip };

/// Runs one test in this process; the caller forks.
Outcome runTest(const std::string &dir, std::string &why) {
  std::string modelPath = dir + "/model.onnx";
  auto model = readModel(modelPath);
  if (!model) {
    why = "model does not parse";
    return Outcome::Skip;
  }
  // Claimed ops only.
  std::set<std::string> claimed;
  for (const std::string &line : supportedOnnxOps()) {
    StringRef s(line);
    claimed.insert(s.split(' ').second.split(' ').first.str());
  }
  for (const auto &node : model->graph().node())
    if ((!node.domain().empty() && node.domain() != "ai.onnx") ||
        !claimed.count(node.op_type())) {
      why = "op " + node.op_type() + " is not claimed";
      return Outcome::Skip;
    }
  std::set<std::string> initializers;
  for (const auto &init : model->graph().initializer())
    initializers.insert(init.name());
  std::vector<std::unique_ptr<onnx::TensorProto>> inputs, outputs;
  OnnxImportOptions options;
  std::string set = dir + "/test_data_set_0";
  int i = 0;
  for (const auto &input : model->graph().input()) {
    if (initializers.count(input.name()))
      continue;
    auto t = std::make_unique<onnx::TensorProto>();
    if (!readTensor(set + "/input_" + std::to_string(i++) + ".pb", *t)) {
      why = "missing test input";
      return Outcome::Skip;
    }
    if (!dtypeFromOnnx(t->data_type())) {
      why = "input type " + std::to_string(t->data_type()) + " is not handled";
      return Outcome::Skip;
    }
    options.inputShapes[input.name()] =
        SmallVector<int64_t>(t->dims().begin(), t->dims().end());
    inputs.push_back(std::move(t));
  }
  for (int o = 0; o < model->graph().output_size(); ++o) {
    auto t = std::make_unique<onnx::TensorProto>();
    if (!readTensor(set + "/output_" + std::to_string(o) + ".pb", *t)) {
      why = "missing expected output";
      return Outcome::Skip;
    }
    if (!dtypeFromOnnx(t->data_type())) {
      why = "output type " + std::to_string(t->data_type()) + " is not handled";
      return Outcome::Skip;
    }
    outputs.push_back(std::move(t));
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerOnnxImportDialects(registry);
  llmc::registerDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext ctx(registry);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (diagnostics.empty())
      diagnostics = d.str();
    return success();
  });
  auto buffer = llvm::MemoryBuffer::getFile(modelPath, false, false);
  OwningOpRef<ModuleOp> module =
      importOnnxBuffer(&ctx, (*buffer)->getBuffer(), dir, modelPath, options);
  if (!module) {
    why = "import: " + diagnostics;
    // Not op semantics but the import contract: shape-like operands must be
    // constants (node tests feed them at run time), opsets 13-17 only.
    for (StringRef limitation :
         {"must be a constant", "is outside the supported range",
          "is not a tensor"})
      if (StringRef(diagnostics).contains(limitation))
        return Outcome::Skip;
    return Outcome::Fail;
  }
  GraphImporter loader(&ctx, model, dir, modelPath, options);
  SmallVector<onnx::TensorProto *> in, out;
  for (auto &t : inputs)
    in.push_back(t.get());
  for (auto &t : outputs)
    out.push_back(t.get());
  if (failed(buildEntry(*module, loader, in, out, why)) ||
      failed(verify(*module))) {
    if (why.empty())
      why = "driver: " + diagnostics;
    return Outcome::Fail;
  }
  PassManager pm(&ctx);
  if (failed(parsePassPipeline(kLowering, pm)) || failed(pm.run(*module))) {
    why = "lowering: " + diagnostics;
    return Outcome::Fail;
  }
  auto transformer = makeOptimizingTransformer(2, 0, nullptr);
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  // memrefCopy and friends.
  SmallVector<StringRef> libs = {LLMC_MLIR_C_RUNNER_UTILS};
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine) {
    why = "JIT: " + llvm::toString(engine.takeError());
    return Outcome::Fail;
  }
  int64_t bad = -1;
  if (llvm::Error error =
          (*engine)->invoke("entry", ExecutionEngine::result(bad))) {
    why = "run: " + llvm::toString(std::move(error));
    return Outcome::Fail;
  }
  if (bad != 0) {
    why =
        std::to_string(bad) + " output elements outside rtol 1e-3 / atol 1e-5";
    return Outcome::Fail;
  }
  return Outcome::Pass;
}

} // namespace

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "llmc ONNX conformance runner\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerAllPasses();
  llmc::registerPasses();
  std::vector<std::string> dirs(testDirs.begin(), testDirs.end());
  if (!listFile.empty()) {
    std::ifstream in(listFile);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#')
        dirs.push_back(line);
  }
  int passed = 0, failed = 0, skipped = 0;
  for (const std::string &dir : dirs) {
    int pipeFd[2];
    if (pipe(pipeFd) != 0)
      return 2;
    std::cout.flush();
    if (inProcess) {
      std::string why;
      Outcome outcome = runTest(dir, why);
      llvm::outs() << dir << ": " << static_cast<int>(outcome) << " " << why
                   << "\n";
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(pipeFd[0]);
      std::string why;
      Outcome outcome = runTest(dir, why);
      (void)!write(pipeFd[1], why.data(), why.size());
      _exit(static_cast<int>(outcome));
    }
    close(pipeFd[1]);
    std::string why;
    char chunk[512];
    for (ssize_t n; (n = read(pipeFd[0], chunk, sizeof chunk)) > 0;)
      why.append(chunk, n);
    close(pipeFd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    Outcome outcome = Outcome::Fail;
    if (WIFEXITED(status) && WEXITSTATUS(status) <= 2)
      outcome = static_cast<Outcome>(WEXITSTATUS(status));
    else
      why = "crashed (signal " + std::to_string(WTERMSIG(status)) + ")";
    std::string name = llvm::sys::path::filename(dir).str();
    switch (outcome) {
    case Outcome::Pass:
      ++passed;
      if (verbose)
        llvm::outs() << "PASS " << name << "\n";
      break;
    case Outcome::Fail:
      ++failed;
      llvm::outs() << "FAIL " << name << ": " << why << "\n";
      break;
    case Outcome::Skip:
      ++skipped;
      if (verbose)
        llvm::outs() << "SKIP " << name << ": " << why << "\n";
      break;
    }
  }
  llvm::outs() << passed << " passed, " << failed << " failed, " << skipped
               << " skipped\n";
  return failed ? 1 : 0;
}
