//===- llm-run.cpp - generate tokens with a compiled .llmc artifact -------===//
//
// Links only the runtime (include/llmc/runtime.h): no LLVM, no MLIR.
//
//   llm-run model.llmc --prompt-ids 1,2,3 [--prompt-ids 4,5 ...]
//           [--max-new-tokens 16] [--threads 2] [--max-seq N] [--seed 0]
//           [--temperature 0] [--top-k 0] [--top-p 1]
//
// Several --prompt-ids run as one batch, left-padded to the longest.
//
//===----------------------------------------------------------------------===//

#include "llmc/runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void usage() {
  std::fprintf(
      stderr,
      "usage: llm-run MODEL.llmc --prompt-ids ID,ID,... [--prompt-ids ...]\n"
      "               [--max-new-tokens N] [--threads N] [--max-seq N]\n"
      "               [--seed N] [--temperature T] [--top-k K] [--top-p P]\n");
}

bool parseInt(const char *text, int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || end == text || *end)
    return false;
  out = v;
  return true;
}

bool parseFloat(const char *text, float &out) {
  char *end = nullptr;
  errno = 0;
  out = std::strtof(text, &end);
  return !errno && end != text && !*end;
}

bool parseIds(const std::string &text, std::vector<int64_t> &out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma - start);
    int64_t id;
    if (!parseInt(item.c_str(), id))
      return false;
    out.push_back(id);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return !out.empty();
}

int error(const char *what) {
  std::fprintf(stderr, "llm-run: %s: %s\n", what, llmc_last_error());
  return 1;
}

std::vector<llmc_device_time> deviceTimes(llmc_artifact *artifact) {
  std::vector<llmc_device_time> times(
      size_t(llmc_artifact_device_count(artifact)));
  for (size_t i = 0; i < times.size(); ++i)
    llmc_artifact_device_time(artifact, int64_t(i), &times[i]);
  return times;
}

/// Simulated time per device beside the cost model's estimate: prefill in
/// total, decode per step.
void printDeviceTimes(const std::vector<llmc_device_time> &prefill,
                      const std::vector<llmc_device_time> &decode,
                      int64_t decodes) {
  for (size_t i = 0; i < prefill.size() && i < decode.size(); ++i) {
    std::printf("simulated %s: prefill %.3f ms (%lld programs)",
                prefill[i].device, prefill[i].seconds * 1e3,
                static_cast<long long>(prefill[i].calls));
    if (decodes > 0) {
      std::printf(", decode %.4f ms/token", decode[i].seconds * 1e3 / decodes);
      if (decode[i].single_row_calls == decode[i].calls)
        std::printf(" (cost model %.4f ms/token)",
                    decode[i].single_row_estimate_seconds * 1e3 / decodes);
    }
    std::printf("\n");
  }
}

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  std::string model;
  std::vector<std::vector<int64_t>> prompts;
  int64_t maxNew = 16, threads = 1, maxSeq = 0, seed = 0, topK = 0;
  float temperature = 0.0f, topP = 1.0f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      size_t eq = arg.find('=');
      if (eq != std::string::npos)
        return argv[i] + eq + 1;
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    auto is = [&](const char *flag) {
      return arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0;
    };
    bool ok = true;
    if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else if (is("--prompt-ids")) {
      const char *v = value();
      prompts.emplace_back();
      ok = v && parseIds(v, prompts.back());
    } else if (is("--max-new-tokens")) {
      const char *v = value();
      ok = v && parseInt(v, maxNew) && maxNew >= 0;
    } else if (is("--threads")) {
      const char *v = value();
      ok = v && parseInt(v, threads) && threads >= 1;
    } else if (is("--max-seq")) {
      const char *v = value();
      ok = v && parseInt(v, maxSeq) && maxSeq >= 1;
    } else if (is("--seed")) {
      const char *v = value();
      ok = v && parseInt(v, seed);
    } else if (is("--top-k")) {
      const char *v = value();
      ok = v && parseInt(v, topK);
    } else if (is("--temperature")) {
      const char *v = value();
      ok = v && parseFloat(v, temperature);
    } else if (is("--top-p")) {
      const char *v = value();
      ok = v && parseFloat(v, topP);
    } else if (!arg.empty() && arg[0] != '-' && model.empty()) {
      model = arg;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "llm-run: bad argument '%s'\n", arg.c_str());
      usage();
      return 1;
    }
  }
  if (model.empty() || prompts.empty()) {
    usage();
    return 1;
  }

  llmc_artifact *artifact = nullptr;
  if (llmc_artifact_open(model.c_str(), &artifact) != LLMC_OK)
    return error("cannot open the artifact");
  int64_t batch = static_cast<int64_t>(prompts.size());
  int64_t length = 0;
  for (const auto &p : prompts)
    length = std::max<int64_t>(length, static_cast<int64_t>(p.size()));
  if (maxSeq == 0) {
    maxSeq = length + maxNew;
    int64_t limit = llmc_artifact_max_positions(artifact);
    if (limit > 0 && maxSeq > limit)
      maxSeq = limit;
  }
  llmc_session_options options = {batch, maxSeq, static_cast<int>(threads)};
  llmc_session *session = nullptr;
  if (llmc_session_create(artifact, &options, &session) != LLMC_OK) {
    llmc_artifact_close(artifact);
    return error("cannot create a session");
  }
  int rc = 0;
  std::vector<int64_t> tokens(batch * length, 0), lengths(batch);
  for (int64_t b = 0; b < batch; ++b) {
    lengths[b] = static_cast<int64_t>(prompts[b].size());
    std::copy(prompts[b].begin(), prompts[b].end(),
              tokens.begin() + b * length + (length - lengths[b]));
  }
  llmc_sampling sampling = {temperature, topK, topP,
                            static_cast<uint64_t>(seed)};
  std::vector<std::vector<int64_t>> generated(batch);
  std::vector<int64_t> next(batch);
  auto start = std::chrono::steady_clock::now();
  double prefillMs = 0, decodeMs = 0;
  std::vector<llmc_device_time> prefillDevices;
  double prefillTimeline = 0;
  int64_t decodes = 0;
  if (llmc_session_prefill(session, tokens.data(), lengths.data(), length,
                           nullptr) != LLMC_OK) {
    rc = error("prefill failed");
  } else {
    prefillMs = msSince(start);
    prefillDevices = deviceTimes(artifact);
    prefillTimeline = llmc_artifact_device_timeline(artifact, nullptr);
    llmc_artifact_reset_device_times(artifact);
    for (int64_t n = 0; n < maxNew && rc == 0; ++n) {
      if (llmc_session_sample(session, &sampling, next.data()) != LLMC_OK) {
        rc = error("sampling failed");
        break;
      }
      for (int64_t b = 0; b < batch; ++b)
        generated[b].push_back(next[b]);
      if (n + 1 == maxNew)
        break;
      if (llmc_session_position(session) >= maxSeq) {
        std::fprintf(stderr, "llm-run: stopped at max_seq %lld\n",
                     static_cast<long long>(maxSeq));
        break;
      }
      auto t = std::chrono::steady_clock::now();
      if (llmc_session_decode(session, next.data(), nullptr) != LLMC_OK)
        rc = error("decode failed");
      decodeMs += msSince(t);
      ++decodes;
    }
  }
  if (rc == 0) {
    for (int64_t b = 0; b < batch; ++b) {
      std::printf("generated[%lld]:", static_cast<long long>(b));
      for (int64_t id : generated[b])
        std::printf(" %lld", static_cast<long long>(id));
      std::printf("\n");
    }
    std::printf("prefill: %.3f ms (%lld x %lld tokens, %lld threads)\n",
                prefillMs, static_cast<long long>(batch),
                static_cast<long long>(length),
                static_cast<long long>(threads));
    if (decodes > 0)
      std::printf("decode: %.3f ms/token (%lld steps)\n", decodeMs / decodes,
                  static_cast<long long>(decodes));
    printDeviceTimes(prefillDevices, deviceTimes(artifact), decodes);
    int64_t subBatches = 0;
    double decodeTimeline =
        llmc_artifact_device_timeline(artifact, &subBatches);
    if (!prefillDevices.empty())
      std::printf("simulated device timeline: prefill %.3f ms, decode %.4f "
                  "ms/token (%lld sub-batch%s, host work not counted)\n",
                  prefillTimeline * 1e3,
                  decodes > 0 ? decodeTimeline * 1e3 / decodes : 0.0,
                  static_cast<long long>(subBatches),
                  subBatches == 1 ? "" : "es interleaved");
  }
  llmc_session_destroy(session);
  llmc_artifact_close(artifact);
  return rc;
}
