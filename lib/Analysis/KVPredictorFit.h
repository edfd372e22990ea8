//===- KVPredictorFit.h - least-squares KV predictors -----------*- C++ -*-===//
//
// Fits KV Prediction's predictors on calibration tokens: the base and the
// auxiliary model are compiled for the CPU and prefill the tokens; for
// every base layer l, the keys (and the values) of its mapped auxiliary
// layer, one row [Hkv_aux·D_aux] per position, are mapped to the base
// layer's [Hkv·D] by the ridge-regularised least-squares matrix.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_LIB_ANALYSIS_KVPREDICTORFIT_H
#define LLMC_LIB_ANALYSIS_KVPREDICTORFIT_H

#include "lib/Compiler/Compiler.h"

#include <string>
#include <vector>

namespace llmc {

struct KVPredictorFit {
  /// The predictor as llm-kv-predict reads it: an MLIR module of
  /// @kv_predictor_key_<l> / @kv_predictor_value_<l> returning [out, in].
  std::string predictor;
  /// The resolved layer map and, per base layer, the relative squared
  /// error Σ(XW − Y)² / ΣY² of the keys and of the values on the tokens.
  std::vector<int64_t> layers;
  std::vector<double> keyError, valueError;
};

/// Fits on `tokens` (one sequence). `layers` is the map as given ("" for
/// proportional). `options` supplies the code generation settings. False
/// with `error` set on failure.
bool fitKVPredictor(llvm::StringRef baseModel, llvm::StringRef auxModel,
                    llvm::StringRef layers, llvm::ArrayRef<int64_t> tokens,
                    const CompileOptions &options, KVPredictorFit &fit,
                    std::string &error);

/// The given layer map "a,b,..." checked against the layer counts, or the
/// proportional one (proportionalLayerMap) when it is empty.
bool resolveLayerMap(llvm::StringRef given, int64_t baseLayers,
                     int64_t auxLayers, std::vector<int64_t> &map,
                     std::string &error);

} // namespace llmc

#endif // LLMC_LIB_ANALYSIS_KVPREDICTORFIT_H
