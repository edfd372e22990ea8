//===- llm-moe-balance.cpp - expert load balance of a MoE model -----------===//
//
// Thin main over lib/Analysis/MoeBalance: runs the model on the given ids
// with its own top-k routing and with MoGE grouping, and prints the loads
// per expert and per group (device), the imbalance scores and the logit
// drift; --json writes the same as JSON.
//
//===----------------------------------------------------------------------===//

#include "lib/Analysis/MoeBalance.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::OptionCategory category("llm-moe-balance options");
static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<model.onnx>"), cl::cat(category));
static cl::list<int64_t> ids("ids", cl::CommaSeparated, cl::Required,
                             cl::desc("Token ids of one sequence"),
                             cl::cat(category));
static cl::opt<int64_t> groups("groups", cl::init(2),
                               cl::desc("Expert groups (devices) for MoGE"),
                               cl::cat(category));
static cl::opt<int64_t> kPerGroup("k-per-group", cl::init(1),
                                  cl::desc("Experts chosen per group"),
                                  cl::cat(category));
static cl::opt<std::string> json("json", cl::init(""),
                                 cl::desc("Also write the report as JSON"),
                                 cl::value_desc("file"), cl::cat(category));

static std::string list(const std::vector<int64_t> &values) {
  std::string s;
  for (int64_t v : values)
    s += (s.empty() ? "" : " ") + std::to_string(v);
  return s;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "llm-moe-balance: expert loads of a MoE model under top-k and MoGE\n");
  llmc::MoeBalanceOptions options;
  options.groups = groups;
  options.kPerGroup = kPerGroup;
  options.ids.assign(ids.begin(), ids.end());
  llmc::MoeBalanceReport report;
  std::string error;
  if (!llmc::analyseMoeBalance(input, options, report, error)) {
    llvm::errs() << "llm-moe-balance: " << input << ": " << error << "\n";
    return 1;
  }
  llvm::outs() << llvm::formatv("{0} tokens, {1} groups, {2} per group\n",
                                report.tokens, report.groups, report.kPerGroup);
  for (size_t i = 0; i < report.layers.size(); ++i) {
    const llmc::LayerBalance &l = report.layers[i];
    llvm::outs() << llvm::formatv(
        "layer {0}: {1} experts\n"
        "  top-{2}: experts [{3}] groups [{4}] IS {5:F3}\n"
        "  MoGE:   experts [{6}] groups [{7}] IS {8:F3}\n",
        i, l.experts, l.topK, list(l.topk.expertLoad), list(l.topk.groupLoad),
        l.topk.imbalance, list(l.moge.expertLoad), list(l.moge.groupLoad),
        l.moge.imbalance);
  }
  llvm::outs() << llvm::formatv("logits NMSE (MoGE vs top-k): {0:E3}\n",
                                report.logitsNMSE);
  llvm::outs().flush();
  if (report.logitsNMSE > 0)
    llvm::errs() << "llm-moe-balance: warning: MoGE changes this model's "
                    "outputs (it was trained with top-k routing)\n";
  if (!json.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(json, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      llvm::errs() << "llm-moe-balance: cannot write '" << json
                   << "': " << ec.message() << "\n";
      return 1;
    }
    os << llvm::formatv("{0:2}", llmc::toJSON(report)) << "\n";
  }
  return 0;
}
