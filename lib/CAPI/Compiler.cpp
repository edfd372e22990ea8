//===- Compiler.cpp - C API of the llmc compiler --------------------------===//

#include "llmc-c/Compiler.h"

#include "lib/Compiler/Compiler.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>

namespace {

char *copyString(const std::string &s) {
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  if (out)
    std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

/// Converts C options; an unknown mode is reported in `error`.
llmc::CompileOptions convert(const LlmcCompileOptions *in, std::string &error) {
  LlmcCompileOptions defaults;
  llmcCompileOptionsInit(&defaults);
  const LlmcCompileOptions &o = in ? *in : defaults;
  llmc::CompileOptions out;
  if (o.target)
    out.target = o.target;
  if (o.cpu)
    out.codegen.cpu = o.cpu;
  if (o.features)
    out.codegen.features = o.features;
  if (o.opt_level < 0 || o.opt_level > 3)
    error = "opt_level must be 0 to 3, got " + std::to_string(o.opt_level);
  out.codegen.optLevel = static_cast<unsigned>(o.opt_level);
  std::string mode = o.mode ? o.mode : "auto";
  if (mode == "auto")
    out.mode = llmc::EntryMode::Auto;
  else if (mode == "generate")
    out.mode = llmc::EntryMode::Generate;
  else if (mode == "function")
    out.mode = llmc::EntryMode::Function;
  else
    error = "unknown mode '" + mode + "' (auto, generate or function)";
  if (o.passes)
    out.passes = o.passes;
  if (o.quantize)
    out.quantize = o.quantize;
  if (o.quant_report)
    out.quantReport = o.quant_report;
  if (o.kv_predict_aux)
    out.kvPredictAux = o.kv_predict_aux;
  if (o.kv_predict_layers)
    out.kvPredictLayers = o.kv_predict_layers;
  if (o.kv_predict_predictor)
    out.kvPredictPredictor = o.kv_predict_predictor;
  if (o.kv_predict_report)
    out.kvPredictReport = o.kv_predict_report;
  if (o.kv_predict_report_tokens < 2)
    error = "kv_predict_report_tokens must be at least 2";
  out.kvPredictReportTokens = o.kv_predict_report_tokens;
  if (o.placement_report)
    out.placementReport = o.placement_report;
  if (o.placement_target)
    out.placementTarget = o.placement_target;
  if (o.placement_batch < 1 || o.placement_context < 1)
    error = "placement_batch and placement_context must be at least 1";
  out.placementBatch = o.placement_batch;
  out.placementContext = o.placement_context;
  for (size_t i = 0; i < o.num_input_shapes; ++i)
    if (o.input_shapes && o.input_shapes[i])
      out.inputShapes.push_back(o.input_shapes[i]);
  if (o.progress) {
    auto callback = o.progress;
    void *user = o.user_data;
    out.progress = [callback, user](llvm::StringRef step) {
      std::string s = step.str();
      callback(s.c_str(), user);
    };
  }
  return out;
}

int finish(bool ok, const std::string &diagnostics, char **out) {
  if (out)
    *out = diagnostics.empty() ? nullptr : copyString(diagnostics);
  return ok ? 0 : 1;
}

} // namespace

void llmcCompileOptionsInit(LlmcCompileOptions *options) {
  if (!options)
    return;
  *options = LlmcCompileOptions{};
  options->target = "cpu";
  options->cpu = "host";
  options->opt_level = 3;
  options->mode = "auto";
  options->placement_target = "host-cpu";
  options->placement_batch = 1;
  options->placement_context = 128;
  options->kv_predict_report_tokens = 128;
}

int llmcCompileBuffer(const void *data, size_t size, const char *name,
                      const char *base_dir, const LlmcCompileOptions *options,
                      void **artifact, size_t *artifact_size,
                      char **diagnostics) {
  std::string error;
  if (!data || !name || !artifact || !artifact_size)
    return finish(false,
                  "llmc: data, name and the artifact outputs are "
                  "required\n",
                  diagnostics);
  llmc::CompileOptions converted = convert(options, error);
  if (!error.empty())
    return finish(false, "llmc: " + error + "\n", diagnostics);
  std::string bytes, text;
  bool ok = llmc::compileModel(
      llvm::StringRef(static_cast<const char *>(data), size), name,
      base_dir ? base_dir : "", converted, bytes, text);
  if (ok) {
    *artifact = std::malloc(bytes.size() ? bytes.size() : 1);
    if (!*artifact)
      return finish(false, "llmc: out of memory\n", diagnostics);
    std::memcpy(*artifact, bytes.data(), bytes.size());
    *artifact_size = bytes.size();
  }
  return finish(ok, text, diagnostics);
}

int llmcCompileFile(const char *path, const char *output_path,
                    const LlmcCompileOptions *options, char **diagnostics) {
  std::string error;
  if (!path || !output_path)
    return finish(false, "llmc: a model path and an output path are required\n",
                  diagnostics);
  llmc::CompileOptions converted = convert(options, error);
  if (!error.empty())
    return finish(false, "llmc: " + error + "\n", diagnostics);
  std::string bytes, text;
  if (!llmc::compileModelFile(path, converted, bytes, text))
    return finish(false, text, diagnostics);
  std::error_code ec;
  llvm::raw_fd_ostream os(output_path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return finish(false,
                  text + "llmc: cannot write " + output_path + ": " +
                      ec.message() + "\n",
                  diagnostics);
  os << bytes;
  os.close();
  if (os.has_error())
    return finish(false,
                  text + "llmc: error writing " + output_path + ": " +
                      os.error().message() + "\n",
                  diagnostics);
  return finish(true, text, diagnostics);
}

void llmcFree(void *buffer) { std::free(buffer); }

void llmcCompilerRegisterPasses(void) { llmc::registerCompilerPasses(); }
