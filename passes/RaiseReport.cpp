//===- RaiseReport.cpp - llm-raise-report
//------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMRAISEREPORT
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

enum class Kind { Recognised, Compute, Layout, ShapeComputation, Structure };

/// Shape computation: ops that compute sizes at run time (what static shape
/// specialisation must remove). Layout: data movement between ops.
Kind classify(Operation *op) {
  if (op->getDialect() && isa<LLMDialect>(op->getDialect()))
    return Kind::Recognised;
  if (isa<tensor::DimOp, tensor::FromElementsOp, tensor::ReshapeOp,
          arith::IndexCastOp, arith::IndexCastUIOp>(op))
    return Kind::ShapeComputation;
  if (op->getNumResults() == 1 && !isa<arith::ConstantOp>(op)) {
    Type t = op->getResult(0).getType();
    Type element = getElementTypeOrSelf(t);
    if (element.isIndex() ||
        (isa<IntegerType>(element) && !element.isInteger(1) &&
         op->getDialect() && isa<arith::ArithDialect>(op->getDialect())))
      return Kind::ShapeComputation;
  }
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
          tensor::ExtractSliceOp, tensor::InsertSliceOp, tensor::ConcatOp,
          tensor::EmptyOp, linalg::TransposeOp, linalg::BroadcastOp,
          arith::ConstantOp>(op))
    return Kind::Layout;
  if (op->hasTrait<OpTrait::IsTerminator>() || isa<FunctionOpInterface>(op))
    return Kind::Structure;
  return Kind::Compute;
}

using Counts = llvm::MapVector<StringRef, int>;

void print(llvm::raw_ostream &os, StringRef title, Counts &counts) {
  int total = 0;
  for (auto &[name, n] : counts)
    total += n;
  os << "  " << title << ": " << total;
  if (total) {
    os << " (";
    bool first = true;
    SmallVector<std::pair<StringRef, int>> sorted(counts.begin(), counts.end());
    llvm::sort(sorted);
    for (auto &[name, n] : sorted) {
      os << (first ? "" : ", ") << name << " " << n;
      first = false;
    }
    os << ")";
  }
  os << "\n";
}

struct LLMRaiseReportPass : llm::impl::LLMRaiseReportBase<LLMRaiseReportPass> {
  using LLMRaiseReportBase::LLMRaiseReportBase;

  void runOnOperation() override {
    std::error_code ec;
    std::unique_ptr<llvm::raw_fd_ostream> fileStream;
    llvm::raw_ostream *os = &llvm::errs();
    if (file != "-") {
      fileStream = std::make_unique<llvm::raw_fd_ostream>(
          file, ec, llvm::sys::fs::OF_Text);
      if (ec) {
        getOperation()->emitError() << "llm-raise-report: cannot write '"
                                    << file << "': " << ec.message();
        return signalPassFailure();
      }
      os = fileStream.get();
    }
    getOperation()->walk([&](FunctionOpInterface fn) {
      Counts recognised, compute, layout, shape;
      int swiglu = 0;
      fn.walk([&](Operation *op) {
        if (op == fn.getOperation())
          return;
        StringRef name = op->getName().getStringRef();
        switch (classify(op)) {
        case Kind::Recognised:
          recognised[name]++;
          break;
        case Kind::Compute:
          compute[name]++;
          break;
        case Kind::Layout:
          layout[name]++;
          break;
        case Kind::ShapeComputation:
          shape[name]++;
          break;
        case Kind::Structure:
          break;
        }
        // SwiGLU: silu(gate) * up feeding the down projection.
        if (auto mul = dyn_cast<arith::MulFOp>(op))
          for (int i = 0; i < 2; ++i)
            if (mul->getOperand(i).getDefiningOp<SiluOp>() &&
                mul->getOperand(1 - i).getDefiningOp<LinearOp>())
              ++swiglu;
      });
      *os << "llm-raise-report @" << fn.getName() << "\n";
      print(*os, "recognised", recognised);
      *os << "  swiglu: " << swiglu << "\n";
      print(*os, "generic compute", compute);
      print(*os, "layout", layout);
      print(*os, "shape computation", shape);
    });
    markAllAnalysesPreserved();
  }
};

} // namespace
