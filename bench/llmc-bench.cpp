//===- llmc-bench.cpp - prefill and decode latency of an artifact ---------===//
//
// Measures a compiled model through the runtime's C API the way a server
// uses it: one session, warm-up runs first, then prefill of a prompt and
// token-by-token decode, repeated; prints medians as one JSON object.
// With --machine it measures the machine's limits instead (FMA peak, DRAM
// read bandwidth) for the given thread count; with --linear M,K,N it
// compiles one linear layer y = x W^T (W a constant [N, K], as in a model)
// through the compiler's C API and times calls of it: the GEMM (M rows) and
// GEMV (M = 1) microbenchmarks; --attention T,H,HKV,D times causal
// self-attention the same way. Not a test: the figures depend on the
// machine and its load.
//
//===----------------------------------------------------------------------===//

#include "MachineLimits.h"

#include "llmc-c/Compiler.h"
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
  std::vector<int64_t> linear;    // M, K, N
  std::vector<int64_t> attention; // T, H, Hkv, D
  /// Bytes streamed through before every timed kernel call, so that its
  /// weights come from DRAM as in a model too large for the caches.
  double flushBytes = 0;
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
      "       llmc-bench --machine [--threads N] [--bandwidth-mib M]\n"
      "       llmc-bench --linear M,K,N | --attention T,H,HKV,D [--threads N]"
      " [--runs R] [--warmup W] [--flush-mib F]\n");
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
    } else if (a == "--flush-mib" && number(v)) {
      o.flushBytes = v * (1 << 20);
    } else if (a == "--bandwidth-mib" && number(v) && v >= 1) {
      o.bandwidthBytes = v * (1 << 20);
    } else if ((a == "--linear" || a == "--attention") && i + 1 < argc) {
      std::vector<int64_t> &list = a == "--linear" ? o.linear : o.attention;
      list.clear();
      for (const char *p = argv[++i]; *p;) {
        char *end = nullptr;
        long long value = std::strtoll(p, &end, 10);
        if (end == p || value < 1)
          return false;
        list.push_back(value);
        p = *end == ',' ? end + 1 : end;
      }
      if (list.size() != (a == "--linear" ? 3u : 4u))
        return false;
    } else if (a[0] != '-' && !o.artifact) {
      o.artifact = argv[i];
    } else {
      std::fprintf(stderr, "llmc-bench: bad argument '%s'\n", argv[i]);
      return false;
    }
  }
  return o.machine || o.artifact || !o.linear.empty() || !o.attention.empty();
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

/// The MLIR of y[M, N] = x[M, K] W^T with W a constant [N, K] of
/// deterministic values (a resource blob, as imported weights are).
std::string linearSource(int64_t m, int64_t k, int64_t n) {
  std::string hex = "0x04000000"; // blob alignment 4, then the f32 bytes
  static const char *digits = "0123456789ABCDEF";
  uint32_t state = 12345;
  for (int64_t i = 0; i < n * k; ++i) {
    state = state * 1664525u + 1013904223u;
    float w = static_cast<float>(state >> 8) / (1 << 24) - 0.5f;
    uint32_t bits;
    std::memcpy(&bits, &w, 4);
    for (int byte = 0; byte < 4; ++byte) {
      uint8_t b = static_cast<uint8_t>(bits >> (8 * byte));
      hex += digits[b >> 4];
      hex += digits[b & 15];
    }
  }
  auto t = [](int64_t a, int64_t b) {
    return "tensor<" + std::to_string(a) + "x" + std::to_string(b) + "xf32>";
  };
  return "func.func @main(%x: " + t(m, k) + ") -> " + t(m, n) +
         " {\n  %w = arith.constant dense_resource<w> : " + t(n, k) +
         "\n  %y = llm.linear %x, %w : (" + t(m, k) + ", " + t(n, k) + ") -> " +
         t(m, n) + "\n  return %y : " + t(m, n) +
         "\n}\n{-#\n  dialect_resources: {\n    builtin: {\n      w: \"" + hex +
         "\"\n    }\n  }\n#-}\n";
}

/// Compiles `source` (@main, function mode) and returns the median time of
/// calls on `buffers`, or a negative value after printing why it failed.
double timeFunction(const Options &o, const std::string &source,
                    void *const *buffers, const int64_t *const *shapes) {
  LlmcCompileOptions options;
  llmcCompileOptionsInit(&options);
  options.mode = "function";
  void *bytes = nullptr;
  size_t size = 0;
  char *diagnostics = nullptr;
  if (llmcCompileBuffer(source.data(), source.size(), "kernel.mlir", nullptr,
                        &options, &bytes, &size, &diagnostics) != 0) {
    std::fprintf(stderr, "llmc-bench: compiling the kernel failed\n%s",
                 diagnostics ? diagnostics : "");
    llmcFree(diagnostics);
    return -1;
  }
  llmcFree(diagnostics);
  llmc_artifact *artifact = nullptr;
  llmc_status status = llmc_artifact_open_buffer(bytes, size, &artifact);
  llmcFree(bytes);
  if (status != LLMC_OK)
    return fail("kernel artifact"), -1;
  // The session API sets the thread count; a plain call takes OpenMP's.
  setenv("OMP_NUM_THREADS", std::to_string(o.threads).c_str(), 1);
  std::vector<double> times;
  std::vector<char> flush(static_cast<size_t>(o.flushBytes));
  for (int run = 0; run < o.warmup + o.runs; ++run) {
    // Reading and writing every line of the buffer through the caches
    // evicts the kernel's weights (memset would bypass them with
    // non-temporal stores).
    for (size_t i = 0; i < flush.size(); i += 64)
      flush[i] = static_cast<char>(flush[i] + 1);
    double start = milliseconds();
    if (llmc_artifact_call(artifact, "main", buffers, shapes) != LLMC_OK) {
      llmc_artifact_close(artifact);
      return fail("call"), -1;
    }
    if (run >= o.warmup)
      times.push_back(milliseconds() - start);
  }
  llmc_artifact_close(artifact);
  return median(times);
}

int benchLinear(const Options &o) {
  int64_t m = o.linear[0], k = o.linear[1], n = o.linear[2];
  std::vector<float> x(m * k, 0.5f), y(m * n);
  int64_t xShape[] = {m, k}, yShape[] = {m, n};
  void *buffers[] = {x.data(), y.data()};
  const int64_t *shapes[] = {xShape, yShape};
  double ms = timeFunction(o, linearSource(m, k, n), buffers, shapes);
  if (ms < 0)
    return 1;
  std::printf("{\"threads\": %d, \"linear\": [%lld, %lld, %lld], \"ms\": "
              "%.4f, \"gflops\": %.1f, \"weight_gbps\": %.1f}\n",
              o.threads, static_cast<long long>(m), static_cast<long long>(k),
              static_cast<long long>(n), ms, 2.0 * m * k * n / ms / 1e6,
              4.0 * k * n / ms / 1e6);
  return 0;
}

/// Causal self-attention of T positions, H query heads on Hkv KV heads of
/// dimension D (one sequence).
int benchAttention(const Options &o) {
  int64_t t = o.attention[0], h = o.attention[1], hkv = o.attention[2],
          d = o.attention[3];
  auto type = [&](int64_t heads) {
    return "tensor<1x" + std::to_string(heads) + "x" + std::to_string(t) + "x" +
           std::to_string(d) + "xf32>";
  };
  std::string source =
      "func.func @main(%q: " + type(h) + ", %k: " + type(hkv) +
      ", %v: " + type(hkv) + ") -> " + type(h) +
      " {\n  %o = llm.attention %q, %k, %v {causal, num_heads = " +
      std::to_string(h) + " : i64, num_kv_heads = " + std::to_string(hkv) +
      " : i64} : (" + type(h) + ", " + type(hkv) + ", " + type(hkv) + ") -> " +
      type(h) + "\n  return %o : " + type(h) + "\n}\n";
  std::vector<float> q(h * t * d, 0.01f), k(hkv * t * d, 0.02f),
      v(hkv * t * d, 0.5f), out(h * t * d);
  int64_t qShape[] = {1, h, t, d}, kvShape[] = {1, hkv, t, d};
  void *buffers[] = {q.data(), k.data(), v.data(), out.data()};
  const int64_t *shapes[] = {qShape, kvShape, kvShape, qShape};
  double ms = timeFunction(o, source, buffers, shapes);
  if (ms < 0)
    return 1;
  // Two products (Q K^T, P V) over the T (T + 1) / 2 visible pairs.
  double flops = 2.0 * 2.0 * h * d * t * (t + 1) / 2.0;
  std::printf("{\"threads\": %d, \"attention\": [%lld, %lld, %lld, %lld], "
              "\"ms\": %.4f, \"gflops\": %.1f}\n",
              o.threads, static_cast<long long>(t), static_cast<long long>(h),
              static_cast<long long>(hkv), static_cast<long long>(d), ms,
              flops / ms / 1e6);
  return 0;
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
  if (!o.linear.empty())
    return benchLinear(o);
  if (!o.attention.empty())
    return benchAttention(o);
  return benchModel(o);
}
