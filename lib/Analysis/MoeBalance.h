//===- MoeBalance.h - how a MoE model spreads its tokens --------*- C++ -*-===//
//
// Runs a mixture-of-experts model on the CPU target on given token ids,
// once as exported (top-k over all experts) and once rewritten to MoGE
// (llm-moe-to-moge), and reports per layer the load of every expert and of
// every group of experts (a device, once placed), the imbalance score
// IS = (max load − min load) / tokens over the groups, and how far MoGE
// moves the logits (NMSE). Pangu Pro MoE's analysis (techniques.md §8).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_ANALYSIS_MOEBALANCE_H
#define LLMC_LIB_ANALYSIS_MOEBALANCE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

struct MoeBalanceOptions {
  int64_t groups = 2;
  int64_t kPerGroup = 1;
  /// One sequence of token ids.
  std::vector<int64_t> ids;
};

/// One routing of one layer: slots per expert and per group.
struct Routing {
  std::vector<int64_t> expertLoad, groupLoad;
  /// (max group load − min group load) / tokens.
  double imbalance = 0;
};

struct LayerBalance {
  int64_t experts = 0, topK = 0;
  Routing topk, moge;
};

struct MoeBalanceReport {
  int64_t tokens = 0, groups = 0, kPerGroup = 0;
  std::vector<LayerBalance> layers;
  /// Σ(moge − original)² / Σ original² over the logits.
  double logitsNMSE = 0;
};

/// Routes `tokens` rows of `logits` ([tokens, experts], row-major) with
/// top-k over all experts (groups = 1) or top k/groups in each group, and
/// counts the loads of `groups` equal groups of experts (for the score).
Routing route(const std::vector<float> &logits, int64_t tokens, int64_t experts,
              int64_t topK, int64_t routingGroups, int64_t groups);

/// Compiles and runs the ONNX model at `path` as described above. On
/// failure, returns false with the reason in `error`.
bool analyseMoeBalance(llvm::StringRef path, const MoeBalanceOptions &options,
                       MoeBalanceReport &report, std::string &error);

llvm::json::Value toJSON(const MoeBalanceReport &report);

} // namespace llmc

#endif // LLMC_LIB_ANALYSIS_MOEBALANCE_H
