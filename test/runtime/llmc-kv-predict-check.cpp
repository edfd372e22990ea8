//===- llmc-kv-predict-check.cpp - KV prediction against its base model ---===//
//
//   llmc-kv-predict-check BASE.llmc PREDICTED.llmc --prompt-ids ID,ID,...
//                         [--generate N] [--exact]
//
// BASE is the model compiled alone; PREDICTED the same model compiled with
// --kv-predict-aux (its prefill predicts the prompt's KV cache and runs one
// base step on the last token). Computes the first token's logits both
// ways: PREDICTED's prefill of the prompt, and BASE's prefill of all but
// the last token followed by a decode of the last (the schedule the
// predicted prefill runs), then greedy-generates N tokens with each. Prints
// the largest logits difference, the number of leading generated tokens
// that agree, and the time of each first token (median of 5). With
// --exact, exits non-zero unless the logits are bitwise equal and every
// token agrees (an identity auxiliary model and predictor must give that).
//
//===----------------------------------------------------------------------===//

#include "llmc/runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

#define CHECK_OK(call)                                                         \
  do {                                                                         \
    if ((call) != LLMC_OK) {                                                   \
      std::fprintf(stderr, "%s failed: %s\n", #call, llmc_last_error());       \
      std::exit(2);                                                            \
    }                                                                          \
  } while (0)

int64_t argmax(const std::vector<float> &v) {
  return std::max_element(v.begin(), v.end()) - v.begin();
}

struct Run {
  std::vector<float> first;    // the first token's logits
  std::vector<int64_t> tokens; // greedy continuation
  double firstTokenMs = 0;
};

/// The first token's logits and a greedy continuation of `n` tokens; with
/// `split`, the prompt is prefilled without its last token, which is then
/// decoded.
Run run(llmc_artifact *artifact, const std::vector<int64_t> &prompt, int64_t n,
        bool split, int64_t vocab) {
  llmc_session_options options = {1, int64_t(prompt.size()) + n + 1, 1};
  llmc_session *session = nullptr;
  CHECK_OK(llmc_session_create(artifact, &options, &session));
  Run r;
  std::vector<double> times;
  std::vector<float> all(prompt.size() * vocab), step(vocab);
  int64_t length = int64_t(prompt.size());
  for (int rep = 0; rep < 6; ++rep) {
    CHECK_OK(llmc_session_reset(session));
    auto start = std::chrono::steady_clock::now();
    if (split) {
      CHECK_OK(llmc_session_prefill(session, prompt.data(), nullptr, length - 1,
                                    all.data()));
      CHECK_OK(llmc_session_decode(session, &prompt.back(), step.data()));
    } else {
      CHECK_OK(llmc_session_prefill(session, prompt.data(), nullptr, length,
                                    all.data()));
      std::copy_n(all.end() - vocab, vocab, step.begin());
    }
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (rep > 0) // the first run warms up
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  r.firstTokenMs = times[times.size() / 2];
  r.first = step;
  int64_t token = argmax(step);
  for (int64_t i = 0; i < n; ++i) {
    r.tokens.push_back(token);
    CHECK_OK(llmc_session_decode(session, &token, step.data()));
    token = argmax(step);
  }
  llmc_session_destroy(session);
  return r;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: llmc-kv-predict-check BASE.llmc "
                         "PREDICTED.llmc --prompt-ids ID,... [--generate N] "
                         "[--exact]\n");
    return 2;
  }
  std::vector<int64_t> prompt;
  int64_t generate = 16;
  bool exact = false;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--prompt-ids" && i + 1 < argc) {
      for (char *p = argv[++i]; *p;) {
        prompt.push_back(std::strtoll(p, &p, 10));
        if (*p == ',')
          ++p;
      }
    } else if (a == "--generate" && i + 1 < argc) {
      generate = std::atoll(argv[++i]);
    } else if (a == "--exact") {
      exact = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (prompt.size() < 2) {
    std::fprintf(stderr, "the prompt needs at least two tokens\n");
    return 2;
  }
  llmc_artifact *base = nullptr, *predicted = nullptr;
  CHECK_OK(llmc_artifact_open(argv[1], &base));
  CHECK_OK(llmc_artifact_open(argv[2], &predicted));
  int64_t vocab = llmc_artifact_vocab_size(base);
  if (vocab <= 0 || llmc_artifact_vocab_size(predicted) != vocab) {
    std::fprintf(stderr, "the artifacts are not generative models of one "
                         "vocabulary\n");
    return 2;
  }
  Run reference = run(base, prompt, generate, /*split=*/true, vocab);
  Run fast = run(predicted, prompt, generate, /*split=*/false, vocab);
  Run full = run(base, prompt, 0, /*split=*/false, vocab);
  float largest = 0;
  bool bitwise = std::memcmp(reference.first.data(), fast.first.data(),
                             vocab * sizeof(float)) == 0;
  for (int64_t v = 0; v < vocab; ++v)
    largest = std::max(largest, std::fabs(reference.first[v] - fast.first[v]));
  int64_t agree = 0;
  while (agree < generate && reference.tokens[agree] == fast.tokens[agree])
    ++agree;
  std::printf("first-token logits: max_abs_diff=%g%s\n", largest,
              bitwise ? " (bitwise equal)" : "");
  std::printf("generated tokens agreeing from the start: %lld of %lld\n",
              static_cast<long long>(agree), static_cast<long long>(generate));
  std::printf("first token: %.3f ms predicted, %.3f ms base prefill "
              "(ratio %.2f)\n",
              fast.firstTokenMs, full.firstTokenMs,
              fast.firstTokenMs / full.firstTokenMs);
  llmc_artifact_close(base);
  llmc_artifact_close(predicted);
  if (exact && (!bitwise || agree != generate)) {
    std::printf("FAIL: not exact\n");
    return 1;
  }
  return 0;
}
