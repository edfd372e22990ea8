//===- embed.cpp - llmc inside a program, the way a framework uses it -----===//
//
// Compiles a model with the compiler library's C API (in memory, with
// progress and diagnostics handed back), loads the artifact with the
// runtime's C API and generates tokens greedily.
//
//   llmc-embed-example MODEL.onnx [PROMPT_IDS...]
//
//===----------------------------------------------------------------------===//

#include "llmc-c/Compiler.h"
#include "llmc/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static void onProgress(const char *step, void *) {
  std::fprintf(stderr, "compiling: %s\n", step);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.onnx [PROMPT_IDS...]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  std::stringstream model;
  model << in.rdbuf();
  std::string bytes = model.str();

  // 1. Compile in memory.
  LlmcCompileOptions options;
  llmcCompileOptionsInit(&options);
  options.progress = onProgress;
  void *artifactBytes = nullptr;
  size_t artifactSize = 0;
  char *diagnostics = nullptr;
  std::string dir = argv[1];
  dir = dir.substr(0, dir.find_last_of('/') + 1);
  if (llmcCompileBuffer(bytes.data(), bytes.size(), argv[1], dir.c_str(),
                        &options, &artifactBytes, &artifactSize,
                        &diagnostics) != 0) {
    std::fprintf(stderr, "compilation failed:\n%s",
                 diagnostics ? diagnostics : "");
    llmcFree(diagnostics);
    return 1;
  }
  llmcFree(diagnostics);

  // 2. Load it and open a session.
  llmc_artifact *artifact = nullptr;
  llmc_status status =
      llmc_artifact_open_buffer(artifactBytes, artifactSize, &artifact);
  llmcFree(artifactBytes);
  if (status != LLMC_OK) {
    std::fprintf(stderr, "cannot load: %s\n", llmc_last_error());
    return 1;
  }
  std::vector<int64_t> prompt;
  for (int i = 2; i < argc; ++i)
    prompt.push_back(std::atoll(argv[i]));
  if (prompt.empty())
    prompt = {1, 2, 3};
  const int64_t newTokens = 8;
  llmc_session_options sessionOptions = {
      1, static_cast<int64_t>(prompt.size()) + newTokens, 1};
  llmc_session *session = nullptr;
  if (llmc_session_create(artifact, &sessionOptions, &session) != LLMC_OK) {
    std::fprintf(stderr, "cannot create a session: %s\n", llmc_last_error());
    llmc_artifact_close(artifact);
    return 1;
  }

  // 3. Generate greedily.
  int rc = 0;
  llmc_sampling greedy = {0.0f, 0, 1.0f, 0};
  if (llmc_session_prefill(session, prompt.data(), nullptr,
                           static_cast<int64_t>(prompt.size()),
                           nullptr) != LLMC_OK) {
    std::fprintf(stderr, "prefill: %s\n", llmc_last_error());
    rc = 1;
  }
  std::printf("generated:");
  for (int64_t i = 0; i < newTokens && rc == 0; ++i) {
    int64_t next = 0;
    if (llmc_session_sample(session, &greedy, &next) != LLMC_OK ||
        (i + 1 < newTokens &&
         llmc_session_decode(session, &next, nullptr) != LLMC_OK)) {
      std::fprintf(stderr, "generation: %s\n", llmc_last_error());
      rc = 1;
    }
    std::printf(" %lld", static_cast<long long>(next));
  }
  std::printf("\n");
  llmc_session_destroy(session);
  llmc_artifact_close(artifact);
  return rc;
}
