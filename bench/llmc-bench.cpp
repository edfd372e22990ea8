//===- llmc-bench.cpp - prefill and decode latency of an artifact ---------===//
//
// Measures a compiled model through the runtime's C API the way a server
// uses it: one session, warm-up runs first, then prefill of a prompt and
// token-by-token decode, repeated; prints medians as one JSON object.
// With --machine it measures the machine's limits instead (FMA peak, DRAM
// read bandwidth) for the given thread count. Not a test: the figures
// depend on the machine and its load.
//
//===----------------------------------------------------------------------===//

#include "MachineLimits.h"

#include "llmc/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  const char *artifact = nullptr;
  bool machine = false;
  int threads = 1;
  int64_t promptLength = 128;
  int64_t decodeSteps = 64;
  int runs = 10;
  int warmup = 2;
  double bandwidthBytes = 1 << 30;
};

double milliseconds() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int usage() {
  std::fprintf(
      stderr,
      "usage: llmc-bench ARTIFACT [--threads N] [--prompt-len T] "
      "[--decode-steps S] [--runs R] [--warmup W]\n"
      "       llmc-bench --machine [--threads N] [--bandwidth-mib M]\n");
  return 2;
}

bool parse(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto number = [&](double &out) {
      if (i + 1 >= argc)
        return false;
      char *end = nullptr;
      out = std::strtod(argv[++i], &end);
      return end && *end == '\0' && out >= 0;
    };
    double v = 0;
    if (a == "--machine") {
      o.machine = true;
    } else if (a == "--threads" && number(v) && v >= 1) {
      o.threads = static_cast<int>(v);
    } else if (a == "--prompt-len" && number(v) && v >= 1) {
      o.promptLength = static_cast<int64_t>(v);
    } else if (a == "--decode-steps" && number(v)) {
      o.decodeSteps = static_cast<int64_t>(v);
    } else if (a == "--runs" && number(v) && v >= 1) {
      o.runs = static_cast<int>(v);
    } else if (a == "--warmup" && number(v)) {
      o.warmup = static_cast<int>(v);
    } else if (a == "--bandwidth-mib" && number(v) && v >= 1) {
      o.bandwidthBytes = v * (1 << 20);
    } else if (a[0] != '-' && !o.artifact) {
      o.artifact = argv[i];
    } else {
      std::fprintf(stderr, "llmc-bench: bad argument '%s'\n", argv[i]);
      return false;
    }
  }
  return o.machine || o.artifact;
}

int fail(const char *what) {
  std::fprintf(stderr, "llmc-bench: %s: %s\n", what, llmc_last_error());
  return 1;
}

int benchModel(const Options &o) {
  llmc_artifact *artifact = nullptr;
  if (llmc_artifact_open(o.artifact, &artifact) != LLMC_OK)
    return fail(o.artifact);
  if (!llmc_artifact_is_generative(artifact)) {
    std::fprintf(stderr, "llmc-bench: %s has no prefill/decode entry\n",
                 o.artifact);
    llmc_artifact_close(artifact);
    return 1;
  }
  llmc_session_options so = {1, o.promptLength + o.decodeSteps + 1, o.threads};
  llmc_session *session = nullptr;
  if (llmc_session_create(artifact, &so, &session) != LLMC_OK) {
    llmc_artifact_close(artifact);
    return fail("session");
  }
  int64_t vocab = llmc_artifact_vocab_size(artifact);
  std::vector<int64_t> prompt(o.promptLength);
  for (int64_t i = 0; i < o.promptLength; ++i)
    prompt[i] = (i * 7919 + 13) % vocab;
  std::vector<float> logits(o.promptLength * vocab);
  std::vector<double> prefill, decode;
  int status = 0;
  for (int run = 0; run < o.warmup + o.runs && status == 0; ++run) {
    bool measured = run >= o.warmup;
    if (llmc_session_reset(session) != LLMC_OK) {
      status = fail("reset");
      break;
    }
    double start = milliseconds();
    if (llmc_session_prefill(session, prompt.data(), nullptr, o.promptLength,
                             logits.data()) != LLMC_OK) {
      status = fail("prefill");
      break;
    }
    if (measured)
      prefill.push_back(milliseconds() - start);
    llmc_sampling greedy = {0.0f, 0, 1.0f, 0};
    int64_t token = 0;
    for (int64_t s = 0; s < o.decodeSteps; ++s) {
      if (llmc_session_sample(session, &greedy, &token) != LLMC_OK) {
        status = fail("sample");
        break;
      }
      start = milliseconds();
      if (llmc_session_decode(session, &token, logits.data()) != LLMC_OK) {
        status = fail("decode");
        break;
      }
      if (measured)
        decode.push_back(milliseconds() - start);
    }
  }
  if (status == 0)
    std::printf(
        "{\"threads\": %d, \"prompt_len\": %lld, \"decode_steps\": "
        "%lld, \"runs\": %d, \"prefill_ms\": {\"median\": %.3f, "
        "\"min\": %.3f}, \"decode_ms\": {\"median\": %.4f, \"min\": "
        "%.4f}}\n",
        o.threads, static_cast<long long>(o.promptLength),
        static_cast<long long>(o.decodeSteps), o.runs, median(prefill),
        *std::min_element(prefill.begin(), prefill.end()), median(decode),
        decode.empty() ? 0.0 : *std::min_element(decode.begin(), decode.end()));
  llmc_session_destroy(session);
  llmc_artifact_close(artifact);
  return status;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, o))
    return usage();
  if (o.machine) {
    double peak = llmc::bench::measureFmaPeak(o.threads);
    double bandwidth =
        llmc::bench::measureReadBandwidth(o.threads, o.bandwidthBytes);
    std::printf("{\"threads\": %d, \"fma_gflops\": %.1f, \"read_gbps\": "
                "%.1f}\n",
                o.threads, peak, bandwidth);
    return 0;
  }
  return benchModel(o);
}
