//===- llmc-model-check.cpp - a compiled artifact against torch's outputs -===//
//
//   llmc-model-check MODEL.llmc TEST_SET_DIR [--layers-past N] [--split]
//                    [--padding] [--threads N] [--reference NAME]
//
// Runs the artifact through the runtime on an ONNX backend-style test set
// (input_0.pb = input_ids, for a decode-style export input_1.. = the past
// key/value of each layer; output_0.pb = torch's logits) and prints the
// largest absolute difference of each check and PASS/FAIL (tolerance 1e-4):
//  - full: prefill of the whole input (after loading the past, if any);
//  - --split: prefill of a prefix, then one decode per remaining token,
//    each decode's logits against the full-sequence logits;
//  - --max-nmse X: checks against the reference pass when the normalised
//    squared error Σ(y − ref)² / Σref² is at most X (quantized models);
//  - --padding: row 1 shortened by two tokens and left-padded in the batch,
//    against the same shortened row run alone (RoPE models: attention is
//    invariant to the position shift the padding causes).
// --reference NAME compares with NAME_0.pb instead of output_0.pb (e.g.
// ort_output: ONNX Runtime's logits). --against OTHER.llmc compares with
// OTHER's logits for the full sequence instead (e.g. the CPU target's, for
// an artifact whose linear layers run on device simulators).
// With --hf the test set follows the Hugging Face export convention
// (input_1 = attention_mask, input_2 = position_ids when the model takes
// it, then the past): the
// left padding the mask describes is given to the runtime (load_kv and
// prefill lengths), which fills attention_mask and position_ids itself;
// logits are compared at the real positions.
// Exit status 0 when every check passes.
//
//===----------------------------------------------------------------------===//

#include "llmc/runtime.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Tensor {
  std::vector<int64_t> dims;
  std::vector<float> f;
  std::vector<int64_t> i;
  bool ok = false;
};

Tensor load(const std::string &path) {
  Tensor t;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return t;
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buffer.str()))
    return t;
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  int64_t n = 1;
  for (int64_t d : t.dims)
    n *= d;
  const std::string &raw = proto.raw_data();
  if (proto.data_type() == onnx::TensorProto::FLOAT) {
    t.f.resize(n);
    if (!raw.empty())
      std::memcpy(t.f.data(), raw.data(), n * sizeof(float));
    else
      std::copy(proto.float_data().begin(), proto.float_data().end(),
                t.f.begin());
  } else if (proto.data_type() == onnx::TensorProto::INT64) {
    t.i.resize(n);
    if (!raw.empty())
      std::memcpy(t.i.data(), raw.data(), n * sizeof(int64_t));
    else
      std::copy(proto.int64_data().begin(), proto.int64_data().end(),
                t.i.begin());
  } else {
    return t;
  }
  t.ok = true;
  return t;
}

bool exists(const std::string &path) { return std::ifstream(path).good(); }

int failures = 0;
// With --max-nmse: checks against the reference pass on the normalised
// squared error Σ(y − ref)² / Σref² (a quantized model) instead of 1e-4.
double maxNmse = -1;

/// The largest absolute difference and the squared errors of a check.
struct Difference {
  double maxAbs = 0, error = 0, energy = 0;
  void add(float got, float want) {
    double d = double(got) - double(want);
    maxAbs = std::max(maxAbs, std::fabs(d));
    error += d * d;
    energy += double(want) * want;
  }
  double nmse() const { return energy > 0 ? error / energy : error; }
};

void report(const char *check, const Difference &d,
            bool againstReference = true) {
  bool byNmse = againstReference && maxNmse >= 0;
  bool pass = byNmse ? d.nmse() <= maxNmse : d.maxAbs <= 1e-4;
  failures += !pass;
  std::printf("%s: max_abs_diff=%.3g nmse=%.3g %s\n", check, d.maxAbs, d.nmse(),
              pass ? "PASS" : "FAIL");
}

#define CHECK_OK(call)                                                         \
  do {                                                                         \
    if ((call) != LLMC_OK) {                                                   \
      std::fprintf(stderr, "%s failed: %s\n", #call, llmc_last_error());       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: llmc-model-check MODEL.llmc TEST_SET_DIR "
                         "[--split] [--padding] [--threads N] "
                         "[--max-nmse X] [--reference NAME] "
                         "[--against OTHER.llmc]\n");
    return 2;
  }
  std::string dir = argv[2];
  bool split = false, padding = false, hf = false;
  std::string reference = "output", against;
  int threads = 1;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--split")
      split = true;
    else if (a == "--padding")
      padding = true;
    else if (a == "--hf")
      hf = true;
    else if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--reference" && i + 1 < argc)
      reference = argv[++i];
    else if (a == "--against" && i + 1 < argc)
      against = argv[++i];
    else if (a == "--max-nmse" && i + 1 < argc)
      maxNmse = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  Tensor ids = load(dir + "/input_0.pb"),
         want = load(dir + "/" + reference + "_0.pb");
  if (!ids.ok || !want.ok || ids.dims.size() != 2) {
    std::fprintf(stderr, "cannot read input_0.pb/%s_0.pb in %s\n",
                 reference.c_str(), dir.c_str());
    return 2;
  }
  Tensor mask;
  int firstPast = 1;
  if (hf) {
    mask = load(dir + "/input_1.pb");
    // position_ids, when the model takes it, comes before the past.
    firstPast = load(dir + "/input_2.pb").dims.size() == 2 ? 3 : 2;
  }
  std::vector<Tensor> past;
  for (int i = firstPast; exists(dir + "/input_" + std::to_string(i) + ".pb");
       ++i)
    past.push_back(load(dir + "/input_" + std::to_string(i) + ".pb"));
  int64_t batch = ids.dims[0], steps = ids.dims[1];
  int64_t pastLength = past.empty() ? 0 : past[0].dims[2];
  // Real positions per row in the past and in the new tokens (HF masks).
  std::vector<int64_t> pastReal(batch, pastLength), newReal(batch, steps);
  if (hf)
    for (int64_t b = 0; b < batch; ++b) {
      pastReal[b] = newReal[b] = 0;
      for (int64_t p = 0; p < pastLength + steps; ++p)
        (p < pastLength ? pastReal : newReal)[b] +=
            mask.i[b * (pastLength + steps) + p];
    }
  int64_t vocab = want.dims.back();

  llmc_artifact *artifact = nullptr;
  CHECK_OK(llmc_artifact_open(argv[1], &artifact));
  if (llmc_artifact_vocab_size(artifact) != vocab) {
    std::fprintf(stderr, "vocabulary %lld, expected %lld\n",
                 (long long)llmc_artifact_vocab_size(artifact),
                 (long long)vocab);
    return 1;
  }
  llmc_session_options options = {batch, pastLength + steps + 1, threads};
  llmc_session *session = nullptr;
  CHECK_OK(llmc_session_create(artifact, &options, &session));

  auto loadPastInto = [&](llmc_session *session) -> int {
    if (past.empty() || pastLength == 0)
      return 0;
    std::vector<const float *> keys, values;
    for (size_t i = 0; i < past.size(); i += 2) {
      keys.push_back(past[i].f.data());
      values.push_back(past[i + 1].f.data());
    }
    CHECK_OK(llmc_session_load_kv(session, keys.data(), values.data(),
                                  hf ? pastReal.data() : nullptr, pastLength));
    return 0;
  };
  auto loadPast = [&]() { return loadPastInto(session); };

  if (!against.empty()) {
    // The other artifact's logits for the full sequence are the reference.
    llmc_artifact *other = nullptr;
    llmc_session *otherSession = nullptr;
    CHECK_OK(llmc_artifact_open(against.c_str(), &other));
    CHECK_OK(llmc_session_create(other, &options, &otherSession));
    if (loadPastInto(otherSession))
      return 1;
    CHECK_OK(llmc_session_prefill(otherSession, ids.i.data(),
                                  hf ? newReal.data() : nullptr, steps,
                                  want.f.data()));
    llmc_session_destroy(otherSession);
    llmc_artifact_close(other);
  }

  // Full sequence.
  std::vector<float> logits(batch * steps * vocab);
  if (loadPast())
    return 1;
  CHECK_OK(llmc_session_prefill(session, ids.i.data(),
                                hf ? newReal.data() : nullptr, steps,
                                logits.data()));
  Difference diff;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t p = steps - newReal[b]; p < steps; ++p)
      for (int64_t v = 0; v < vocab; ++v) {
        size_t k = size_t((b * steps + p) * vocab + v);
        diff.add(logits[k], want.f[k]);
      }
  report("full", diff);

  // Prefill of a prefix, then decode token by token. Not for a test set
  // with left-padded rows: the prefix would start with padding that the
  // reference masks, and prefill takes no lengths for it here.
  bool leftPadded = std::any_of(newReal.begin(), newReal.end(),
                                [&](int64_t real) { return real != steps; });
  if (split && steps > 1 && leftPadded) {
    std::printf("split: not run (the test set has left-padded rows)\n");
    ++failures;
  }
  if (split && steps > 1 && !leftPadded) {
    for (int64_t prefix : {int64_t(1), steps / 2}) {
      CHECK_OK(llmc_session_reset(session));
      if (loadPast())
        return 1;
      std::vector<int64_t> head(batch * prefix);
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(&ids.i[b * steps], prefix, &head[b * prefix]);
      std::vector<float> out(batch * prefix * vocab);
      CHECK_OK(llmc_session_prefill(session, head.data(), nullptr, prefix,
                                    out.data()));
      Difference d;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t p = 0; p < prefix; ++p)
          for (int64_t v = 0; v < vocab; ++v)
            d.add(out[(b * prefix + p) * vocab + v],
                  want.f[(b * steps + p) * vocab + v]);
      std::vector<float> step(batch * vocab);
      std::vector<int64_t> token(batch);
      for (int64_t p = prefix; p < steps; ++p) {
        for (int64_t b = 0; b < batch; ++b)
          token[b] = ids.i[b * steps + p];
        CHECK_OK(llmc_session_decode(session, token.data(), step.data()));
        for (int64_t b = 0; b < batch; ++b)
          for (int64_t v = 0; v < vocab; ++v)
            d.add(step[b * vocab + v], want.f[(b * steps + p) * vocab + v]);
      }
      std::string name = "split(prefill " + std::to_string(prefix) +
                         ", decode " + std::to_string(steps - prefix) + ")";
      report(name.c_str(), d);
    }
  }

  // Left padding: row 1 two tokens shorter, against it alone.
  if (padding && batch >= 2 && steps > 2 && pastLength == 0) {
    int64_t shorter = steps - 2;
    std::vector<int64_t> lengths(batch, steps);
    lengths[1] = shorter;
    std::vector<int64_t> padded = ids.i;
    for (int64_t p = 0; p < 2; ++p)
      padded[steps + p] = 0;
    CHECK_OK(llmc_session_reset(session));
    std::vector<float> batched(batch * steps * vocab);
    CHECK_OK(llmc_session_prefill(session, padded.data(), lengths.data(), steps,
                                  batched.data()));
    std::vector<int64_t> next(batch, 1);
    std::vector<float> batchedNext(batch * vocab);
    CHECK_OK(llmc_session_decode(session, next.data(), batchedNext.data()));

    llmc_session_options one = {1, steps + 1, 1};
    llmc_session *alone = nullptr;
    CHECK_OK(llmc_session_create(artifact, &one, &alone));
    std::vector<float> single(shorter * vocab), singleNext(vocab);
    CHECK_OK(llmc_session_prefill(alone, &ids.i[steps + 2], nullptr, shorter,
                                  single.data()));
    CHECK_OK(llmc_session_decode(alone, next.data(), singleNext.data()));
    Difference d;
    for (int64_t p = 0; p < shorter; ++p)
      for (int64_t v = 0; v < vocab; ++v)
        d.add(batched[((steps) + 2 + p) * vocab + v], single[p * vocab + v]);
    for (int64_t v = 0; v < vocab; ++v)
      d.add(batchedNext[vocab + v], singleNext[v]);
    report("left padding", d, /*againstReference=*/false);
    llmc_session_destroy(alone);
  }
  llmc_session_destroy(session);
  llmc_artifact_close(artifact);
  return failures ? 1 : 0;
}
