//===- llmc-conformance.cpp - ONNX backend node tests through llmc
//---------===//
//
// For each ONNX backend node test folder (model.onnx + test_data_set_0):
// import with the inputs' static shapes, compile the model to an artifact
// the way llm-compile --mode=function does (llm-raise, llm-lower-to-linalg,
// the CPU lowering, object code, ld.lld), load it with the runtime, call it
// on the test inputs and compare every output element with rtol 1e-3 /
// atol 1e-5, in a child process (a crash fails that test only). Tests whose
// ops llmc does not claim, that use types it does not handle, or whose
// output sizes depend on the data (the caller of a function-mode artifact
// sizes the outputs) are skipped with the reason. Prints
// "N passed, N failed, N skipped".
//
//===----------------------------------------------------------------------===//

#include "lib/Compiler/Compiler.h"
#include "lib/Import/GraphImporter.h"
#include "lib/Import/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include "llmc/runtime.h"

#include <cmath>
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

/// Outputs that are not within rtol 1e-3 / atol 1e-5 of the expected ones
/// (NaN on both sides, and equal values including infinities, pass).
int64_t countMismatches(const HostTensor &got, const HostTensor &want) {
  int64_t bad = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double x = got.getDouble(i), y = want.getDouble(i);
    if (x == y || (std::isnan(x) && std::isnan(y)))
      continue;
    if (!(std::fabs(x - y) <= 1e-5 + 1e-3 * std::fabs(y)))
      ++bad;
  }
  return bad;
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
  registerCompilerDialects(registry);
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
  auto main = module->lookupSymbol<func::FuncOp>("main");
  if (!main || main.getNumArguments() != inputs.size() ||
      main.getNumResults() != outputs.size()) {
    why = "the imported signature does not match the test data";
    return Outcome::Fail;
  }
  // Compilation rewrites @main: keep what the comparison needs.
  SmallVector<Type> resultTypes(main.getResultTypes());
  for (Type t : resultTypes)
    if (!cast<ShapedType>(t).hasStaticShape()) {
      why = "output sizes depend on the data";
      return Outcome::Skip;
    }

  // Compile to an artifact and load it, as a user of llm-compile would.
  CompileOptions compileOptions;
  compileOptions.mode = EntryMode::Function;
  std::string artifactBytes, compileDiagnostics;
  if (!compileModule(*module, "model.onnx", compileOptions, artifactBytes,
                     compileDiagnostics)) {
    why =
        "compile: " + (diagnostics.empty() ? compileDiagnostics : diagnostics);
    return Outcome::Fail;
  }
  llmc_artifact *artifact = nullptr;
  if (llmc_artifact_open_buffer(artifactBytes.data(), artifactBytes.size(),
                                &artifact) != LLMC_OK) {
    why = std::string("runtime: ") + llmc_last_error();
    return Outcome::Fail;
  }

  GraphImporter loader(&ctx, model, dir, modelPath, options);
  Location loc = UnknownLoc::get(&ctx);
  std::vector<HostTensor> hostInputs, expected, results;
  for (auto &t : inputs) {
    auto host = loader.loadTensor(*t, loc);
    if (failed(host)) {
      why = "cannot read an input";
      return Outcome::Fail;
    }
    hostInputs.push_back(*host);
  }
  for (auto &t : outputs) {
    auto host = loader.loadTensor(*t, loc);
    if (failed(host)) {
      why = "cannot read an expected output";
      return Outcome::Fail;
    }
    auto type = cast<ShapedType>(resultTypes[expected.size()]);
    if (type.getShape() != host->shape()) {
      why = "output shape differs from the expected one";
      return Outcome::Fail;
    }
    results.push_back(HostTensor::zeros(host->dtype(), host->shape()));
    expected.push_back(*host);
  }
  std::vector<void *> buffers;
  std::vector<const int64_t *> shapes;
  for (HostTensor &t : hostInputs) {
    // The runtime does not write inputs; the call signature is not const.
    buffers.push_back(const_cast<char *>(t.bytes().data()));
    shapes.push_back(t.shape().data());
  }
  for (HostTensor &t : results) {
    buffers.push_back(t.mutableData());
    shapes.push_back(t.shape().data());
  }
  llmc_status status =
      llmc_artifact_call(artifact, "main", buffers.data(), shapes.data());
  llmc_artifact_close(artifact);
  if (status != LLMC_OK) {
    why = std::string("runtime: ") + llmc_last_error();
    return Outcome::Fail;
  }
  int64_t bad = 0;
  for (size_t o = 0; o < results.size(); ++o)
    bad += countMismatches(results[o], expected[o]);
  if (bad != 0) {
    why =
        std::to_string(bad) + " output elements outside rtol 1e-3 / atol 1e-5";
    return Outcome::Fail;
  }
  return Outcome::Pass;
}

} // namespace

int main(int argc, char **argv) {
  llvm::sys::PrintStackTraceOnErrorSignal(argv[0]);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "llmc ONNX conformance runner\n");
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
