//===- KVPredictorFit.cpp - least-squares KV predictors ------------------===//

#include "lib/Analysis/KVPredictorFit.h"
#include "lib/Compiler/KVPrediction.h"

#include "llmc/runtime.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <memory>

using namespace llmc;

namespace {

struct ArtifactDeleter {
  void operator()(llmc_artifact *a) const { llmc_artifact_close(a); }
};
struct SessionDeleter {
  void operator()(llmc_session *s) const { llmc_session_destroy(s); }
};

/// A model's KV cache after prefilling `tokens`: per layer, keys and
/// values as [kv_heads][positions][head_dim].
struct Cache {
  int64_t layers = 0, heads = 0, dim = 0;
  std::vector<std::vector<float>> keys, values;
};

bool prefillCache(llvm::StringRef model, llvm::ArrayRef<int64_t> tokens,
                  const CompileOptions &base, Cache &cache,
                  std::string &error) {
  CompileOptions options = base;
  options.quantize.clear();
  options.quantReport.clear();
  options.kvPredictAux.clear();
  options.placementReport.clear();
  std::string bytes, diagnostics;
  if (!compileModelFile(model, options, bytes, diagnostics)) {
    error = "could not compile '" + model.str() + "':\n" + diagnostics;
    return false;
  }
  llmc_artifact *raw = nullptr;
  if (llmc_artifact_open_buffer(bytes.data(), bytes.size(), &raw) != LLMC_OK) {
    error = llmc_last_error();
    return false;
  }
  std::unique_ptr<llmc_artifact, ArtifactDeleter> artifact(raw);
  llmc_artifact_kv_shape(raw, &cache.layers, &cache.heads, &cache.dim);
  if (cache.layers == 0) {
    error = "'" + model.str() + "' is not a generative model";
    return false;
  }
  int64_t n = static_cast<int64_t>(tokens.size());
  llmc_session_options sessionOptions = {1, n, 1};
  llmc_session *rawSession = nullptr;
  if (llmc_session_create(raw, &sessionOptions, &rawSession) != LLMC_OK ||
      llmc_session_prefill(rawSession, tokens.data(), nullptr, n, nullptr) !=
          LLMC_OK) {
    error = "running '" + model.str() + "': " + llmc_last_error();
    llmc_session_destroy(rawSession);
    return false;
  }
  std::unique_ptr<llmc_session, SessionDeleter> session(rawSession);
  size_t size = size_t(cache.heads * n * cache.dim);
  cache.keys.assign(cache.layers, std::vector<float>(size));
  cache.values.assign(cache.layers, std::vector<float>(size));
  std::vector<float *> keys, values;
  for (int64_t l = 0; l < cache.layers; ++l) {
    keys.push_back(cache.keys[l].data());
    values.push_back(cache.values[l].data());
  }
  if (llmc_session_save_kv(rawSession, keys.data(), values.data(), n) !=
      LLMC_OK) {
    error = llmc_last_error();
    return false;
  }
  return true;
}

/// Row p of a [heads][positions][dim] layer: the heads side by side.
std::vector<double> row(const std::vector<float> &layer, int64_t heads,
                        int64_t positions, int64_t dim, int64_t p) {
  std::vector<double> r(size_t(heads * dim));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t d = 0; d < dim; ++d)
      r[h * dim + d] = layer[(h * positions + p) * dim + d];
  return r;
}

/// W [out, in] minimising Σ_p |W x_p − y_p|² + λ|W|², by the normal
/// equations and a Cholesky factorisation (the systems are small: in is
/// the auxiliary model's KV width). Returns the relative squared error.
double solve(const std::vector<std::vector<double>> &xs,
             const std::vector<std::vector<double>> &ys,
             std::vector<double> &w) {
  size_t in = xs[0].size(), out = ys[0].size();
  std::vector<double> a(in * in, 0.0), b(in * out, 0.0);
  for (size_t p = 0; p < xs.size(); ++p)
    for (size_t i = 0; i < in; ++i) {
      for (size_t j = 0; j < in; ++j)
        a[i * in + j] += xs[p][i] * xs[p][j];
      for (size_t o = 0; o < out; ++o)
        b[i * out + o] += xs[p][i] * ys[p][o];
    }
  double trace = 0;
  for (size_t i = 0; i < in; ++i)
    trace += a[i * in + i];
  double ridge = 1e-6 * (trace / double(in)) + 1e-12;
  for (size_t i = 0; i < in; ++i)
    a[i * in + i] += ridge;
  // A = L·Lᵀ in place (lower triangle).
  for (size_t j = 0; j < in; ++j) {
    double d = a[j * in + j];
    for (size_t k = 0; k < j; ++k)
      d -= a[j * in + k] * a[j * in + k];
    d = std::sqrt(std::max(d, 1e-300));
    a[j * in + j] = d;
    for (size_t i = j + 1; i < in; ++i) {
      double s = a[i * in + j];
      for (size_t k = 0; k < j; ++k)
        s -= a[i * in + k] * a[j * in + k];
      a[i * in + j] = s / d;
    }
  }
  // Solve L·Lᵀ·Wt = B column by column; W = Wtᵀ.
  w.assign(out * in, 0.0);
  std::vector<double> z(in);
  for (size_t o = 0; o < out; ++o) {
    for (size_t i = 0; i < in; ++i) {
      double s = b[i * out + o];
      for (size_t k = 0; k < i; ++k)
        s -= a[i * in + k] * z[k];
      z[i] = s / a[i * in + i];
    }
    for (size_t i = in; i-- > 0;) {
      double s = z[i];
      for (size_t k = i + 1; k < in; ++k)
        s -= a[k * in + i] * w[o * in + k];
      w[o * in + i] = s / a[i * in + i];
    }
  }
  double residual = 0, energy = 0;
  for (size_t p = 0; p < xs.size(); ++p)
    for (size_t o = 0; o < out; ++o) {
      double y = 0;
      for (size_t i = 0; i < in; ++i)
        y += w[o * in + i] * xs[p][i];
      residual += (y - ys[p][o]) * (y - ys[p][o]);
      energy += ys[p][o] * ys[p][o];
    }
  return energy > 0 ? residual / energy : residual;
}

void printMatrix(llvm::raw_ostream &os, llvm::StringRef name,
                 const std::vector<double> &w, size_t out, size_t in) {
  os << "  func.func private @" << name << "() -> tensor<" << out << "x" << in
     << "xf32> {\n    %w = arith.constant dense<[";
  for (size_t o = 0; o < out; ++o) {
    os << (o ? ", [" : "[");
    for (size_t i = 0; i < in; ++i)
      os << (i ? ", " : "")
         << llvm::format("%.9g", static_cast<float>(w[o * in + i]));
    os << "]";
  }
  os << "]> : tensor<" << out << "x" << in << "xf32>\n    return %w : tensor<"
     << out << "x" << in << "xf32>\n  }\n";
}

} // namespace

bool llmc::resolveLayerMap(llvm::StringRef given, int64_t baseLayers,
                           int64_t auxLayers, std::vector<int64_t> &map,
                           std::string &error) {
  map.clear();
  if (given.empty()) {
    map = proportionalLayerMap(baseLayers, auxLayers);
    return true;
  }
  llvm::SmallVector<llvm::StringRef> parts;
  given.split(parts, ',');
  for (llvm::StringRef part : parts) {
    int64_t a;
    if (part.trim().getAsInteger(10, a) || a < 0 || a >= auxLayers) {
      error = "layer map entry '" + part.str() +
              "' is not an auxiliary layer (0 to " +
              std::to_string(auxLayers - 1) + ")";
      return false;
    }
    map.push_back(a);
  }
  if (static_cast<int64_t>(map.size()) != baseLayers) {
    error = "the layer map has " + std::to_string(map.size()) +
            " entries, the base model has " + std::to_string(baseLayers) +
            " layers";
    return false;
  }
  return true;
}

bool llmc::fitKVPredictor(llvm::StringRef baseModel, llvm::StringRef auxModel,
                          llvm::StringRef layers,
                          llvm::ArrayRef<int64_t> tokens,
                          const CompileOptions &options, KVPredictorFit &fit,
                          std::string &error) {
  Cache base, aux;
  if (!prefillCache(baseModel, tokens, options, base, error) ||
      !prefillCache(auxModel, tokens, options, aux, error))
    return false;
  if (!resolveLayerMap(layers, base.layers, aux.layers, fit.layers, error))
    return false;
  int64_t n = static_cast<int64_t>(tokens.size());
  llvm::raw_string_ostream os(fit.predictor);
  os << "// KV predictor fitted by llm-compile --kv-predict-fit-on on " << n
     << " tokens.\nmodule {\n";
  for (int64_t l = 0; l < base.layers; ++l)
    for (int kv = 0; kv < 2; ++kv) {
      const auto &from =
          kv ? aux.values[fit.layers[l]] : aux.keys[fit.layers[l]];
      const auto &to = kv ? base.values[l] : base.keys[l];
      std::vector<std::vector<double>> xs, ys;
      for (int64_t p = 0; p < n; ++p) {
        xs.push_back(row(from, aux.heads, n, aux.dim, p));
        ys.push_back(row(to, base.heads, n, base.dim, p));
      }
      std::vector<double> w;
      double err = solve(xs, ys, w);
      (kv ? fit.valueError : fit.keyError).push_back(err);
      printMatrix(os,
                  (llvm::Twine("kv_predictor_") + (kv ? "value_" : "key_") +
                   llvm::Twine(l))
                      .str(),
                  w, size_t(base.heads * base.dim),
                  size_t(aux.heads * aux.dim));
    }
  os << "}\n";
  return true;
}
