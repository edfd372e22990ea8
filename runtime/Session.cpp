//===- Session.cpp - a KV cache and the steps that fill it ----------------===//

#include "runtime/Session.h"

#include "runtime/Descriptor.h"
#include "runtime/KVCodes.h"
#include "runtime/Status.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <tuple>

using namespace llmc::runtime;

// LLVM's OpenMP runtime, which the compiled code's parallel loops use (the
// runtime links it; its header is not on the runtime's include path).
extern "C" void omp_set_num_threads(int);

bool AlignedFloats::allocate(size_t n) {
  size_t bytes = (std::max<size_t>(n, 1) * sizeof(float) + 63) / 64 * 64;
  data.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  size = data ? n : 0;
  if (data)
    std::memset(data.get(), 0, bytes);
  return data != nullptr;
}

namespace {

bool multiplyFits(std::initializer_list<int64_t> factors, int64_t limit) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f <= 0 || product > limit / f)
      return false;
    product *= f;
  }
  return true;
}

} // namespace

llmc_status Session::create(const Artifact &artifact,
                            const llmc_session_options &options,
                            std::unique_ptr<Session> &out) {
  const Manifest &m = artifact.manifest();
  if (!m.generative)
    return fail(LLMC_ERROR_UNSUPPORTED,
                "the artifact has no prefill/decode entry points (compiled "
                "with --mode=function?)");
  if (options.batch < 1 || options.max_seq < 1 || options.threads < 1)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "batch, max_seq and threads must be >= 1");
  if (m.maxPositions > 0 && options.max_seq > m.maxPositions)
    return fail(LLMC_ERROR_OUT_OF_RANGE,
                "max_seq " + std::to_string(options.max_seq) +
                    " exceeds the model's " + std::to_string(m.maxPositions) +
                    " positions");
  std::unique_ptr<Session> s(new Session(artifact));
  s->batch_ = options.batch;
  s->maxSeq_ = options.max_seq;
  s->threads_ = options.threads;
  s->vocab_ = m.vocab;
  s->prefill_ = m.find("prefill");
  s->decode_ = m.find("decode");
  if (llmc_status st = s->checkEntry(*s->prefill_))
    return st;
  if (llmc_status st = s->checkEntry(*s->decode_))
    return st;
  constexpr int64_t kLimit = int64_t(1) << 40; // floats
  if (!multiplyFits({options.batch, m.kvHeads, options.max_seq, m.headDim},
                    kLimit) ||
      !multiplyFits({options.batch, options.max_seq, m.vocab}, kLimit))
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "the KV cache would be too large");
  size_t rows = size_t(options.batch * m.kvHeads * options.max_seq);
  // Quantized caches: codes (in float-sized words) and a scale per row.
  size_t cacheWords = (rows * s->cacheRowBytes() + 3) / 4;
  bool quantized = m.kvBits != 32;
  s->keys_.resize(m.layers);
  s->values_.resize(m.layers);
  s->keyScales_.resize(quantized ? m.layers : 0);
  s->valueScales_.resize(quantized ? m.layers : 0);
  for (int64_t l = 0; l < m.layers; ++l)
    if (!s->keys_[l].allocate(cacheWords) ||
        !s->values_[l].allocate(cacheWords) ||
        (quantized && (!s->keyScales_[l].allocate(rows) ||
                       !s->valueScales_[l].allocate(rows))))
      return fail(LLMC_ERROR_OUT_OF_MEMORY,
                  "cannot allocate the KV cache (" +
                      std::to_string(2 * m.layers *
                                     (cacheWords + (quantized ? rows : 0)) *
                                     4) +
                      " bytes)");
  if (!s->kvMask_.allocate(size_t(options.batch * options.max_seq)))
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "cannot allocate the KV mask");
  s->lastLogits_.assign(size_t(options.batch * m.vocab), 0.0f);
  out = std::move(s);
  return LLMC_OK;
}

llmc_status Session::checkEntry(const EntryPoint &entry) {
  const Manifest &m = artifact_.manifest();
  std::vector<int> keys(m.layers, 0), values(m.layers, 0);
  std::vector<int> keyScales(m.layers, 0), valueScales(m.layers, 0);
  bool quantized = m.kvBits != 32;
  bool ids = false, output = false;
  for (const ArgumentSpec &a : entry.args) {
    std::string what = "entry point '" + entry.name + "' argument '" +
                       (a.name.empty() ? a.role : a.name) + "'";
    auto expect = [&](bool ok) {
      return ok ? LLMC_OK
                : fail(LLMC_ERROR_INVALID_ARTIFACT,
                       what + " has an unexpected type or shape");
    };
    llmc_status st = LLMC_OK;
    if (a.role == "input" && a.name == "input_ids") {
      st = expect(a.buffer && a.dtype == "i64" && a.shape.size() == 2);
      ids = true;
    } else if (a.role == "input" &&
               (a.name == "attention_mask" || a.name == "position_ids")) {
      st = expect(a.buffer && a.dtype == "i64" && a.shape.size() == 2);
      fillsMaskAndPositions_ = true;
    } else if (a.role == "position") {
      st = expect(!a.buffer && a.dtype == "index");
    } else if (a.role == "kv_mask") {
      st = expect(a.buffer && a.dtype == "f32" && a.shape.size() == 2);
    } else if (a.role == "key_cache" || a.role == "value_cache") {
      st = expect(a.buffer && a.dtype == (quantized ? "i8" : "f32") &&
                  a.shape.size() == 4 && a.layer >= 0 && a.layer < m.layers &&
                  a.shape[1] == m.kvHeads &&
                  // Elements per row: bytes of codes, or floats.
                  a.shape[3] ==
                      (quantized ? int64_t(cacheRowBytes()) : m.headDim));
      if (!st)
        ++(a.role == "key_cache" ? keys : values)[a.layer];
    } else if (quantized &&
               (a.role == "key_scale" || a.role == "value_scale")) {
      st =
          expect(a.buffer && a.dtype == "f32" && a.shape.size() == 3 &&
                 a.layer >= 0 && a.layer < m.layers && a.shape[1] == m.kvHeads);
      if (!st)
        ++(a.role == "key_scale" ? keyScales : valueScales)[a.layer];
    } else if (a.role == "weights") {
      st = expect(a.buffer && a.dtype == "i8" && a.shape.size() == 1);
    } else if (a.role == "output") {
      st = expect(!output && a.buffer && a.dtype == "f32" &&
                  a.shape.size() == 3 && a.shape[2] == m.vocab);
      output = true;
    } else {
      return fail(LLMC_ERROR_UNSUPPORTED,
                  what + " (role " + a.role +
                      ") is not an input this runtime can fill");
    }
    if (st)
      return st;
  }
  for (int64_t l = 0; l < m.layers; ++l)
    if (quantized && (keyScales[l] != 1 || valueScales[l] != 1))
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "entry point '" + entry.name +
                      "' does not take one key and one value scale for "
                      "layer " +
                      std::to_string(l) + " of its " +
                      std::to_string(m.kvBits) + "-bit KV cache");
  for (int64_t l = 0; l < m.layers; ++l)
    if (keys[l] != 1 || values[l] != 1)
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "entry point '" + entry.name +
                      "' does not take one key and "
                      "one value cache for layer " +
                      std::to_string(l));
  if (!ids || !output)
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                "entry point '" + entry.name +
                    "' lacks input_ids or its logits output");
  return LLMC_OK;
}

llmc_status Session::checkTokens(const int64_t *tokens, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_)
      return fail(LLMC_ERROR_INVALID_ARGUMENT,
                  "token " + std::to_string(tokens[i]) + " at index " +
                      std::to_string(i) + " is outside the vocabulary [0, " +
                      std::to_string(vocab_) + ")");
  return LLMC_OK;
}

void Session::runRows(const EntryPoint &entry, PackedEntry fn,
                      const int64_t *tokens, int64_t steps, float *logits,
                      int64_t first, int64_t rows) {
  const Manifest &m = artifact_.manifest();
  DeviceExecutor::setSubBatch(first);
  std::vector<Descriptor> descriptors;
  descriptors.reserve(entry.args.size());
  std::vector<void *> args;
  int64_t position = position_;
  for (const ArgumentSpec &a : entry.args) {
    if (a.role == "position") {
      args.push_back(&position);
      continue;
    }
    int64_t keys = position_ + steps;
    if (a.role == "input" && a.name == "attention_mask")
      descriptors.emplace_back(attentionMask_.data() + first * keys,
                               std::vector<int64_t>{rows, keys});
    else if (a.role == "input" && a.name == "position_ids")
      descriptors.emplace_back(positionIds_.data() + first * steps,
                               std::vector<int64_t>{rows, steps});
    else if (a.role == "input")
      descriptors.emplace_back(tokens + first * steps,
                               std::vector<int64_t>{rows, steps});
    else if (a.role == "kv_mask")
      descriptors.emplace_back(kvMask_.data.get() + first * maxSeq_,
                               std::vector<int64_t>{rows, maxSeq_});
    else if (a.role == "key_cache" || a.role == "value_cache")
      descriptors.emplace_back(
          reinterpret_cast<char *>(
              (a.role == "key_cache" ? keys_ : values_)[a.layer].data.get()) +
              first * m.kvHeads * maxSeq_ * cacheRowBytes(),
          std::vector<int64_t>{rows, m.kvHeads, maxSeq_, a.shape[3]});
    else if (a.role == "key_scale" || a.role == "value_scale")
      descriptors.emplace_back(
          (a.role == "key_scale" ? keyScales_ : valueScales_)[a.layer]
                  .data.get() +
              first * m.kvHeads * maxSeq_,
          std::vector<int64_t>{rows, m.kvHeads, maxSeq_});
    else if (a.role == "weights")
      descriptors.emplace_back(artifact_.weights(),
                               std::vector<int64_t>{int64_t(m.weightsBytes)});
    else // output
      descriptors.emplace_back(logits + first * steps * vocab_,
                               std::vector<int64_t>{rows, steps, vocab_});
    args.push_back(descriptors.back().words.data());
  }
  // This thread's share of the session's threads runs the code's parallel
  // loops (the setting is per calling thread).
  omp_set_num_threads(static_cast<int>(
      std::max<int64_t>(1, threads_ / std::min<int64_t>(threads_, batch_))));
  fn(args.data());
}

void Session::fillMaskAndPositions(int64_t steps) {
  int64_t keys = position_ + steps;
  attentionMask_.resize(size_t(batch_ * keys));
  positionIds_.resize(size_t(batch_ * steps));
  for (int64_t b = 0; b < batch_; ++b) {
    int64_t real = 0;
    for (int64_t p = 0; p < keys; ++p) {
      bool isReal = kvMask_.data[b * maxSeq_ + p] == 0.0f;
      attentionMask_[b * keys + p] = isReal;
      if (p >= position_)
        positionIds_[b * steps + (p - position_)] = isReal ? real : 0;
      real += isReal;
    }
  }
}

void Session::run(const EntryPoint &entry, const int64_t *tokens, int64_t steps,
                  float *logits) {
  PackedEntry fn = artifact_.function(entry);
  if (fillsMaskAndPositions_)
    fillMaskAndPositions(steps);
  // Batch rows are independent: split them among the threads.
  int64_t workers = std::min<int64_t>(threads_, batch_);
  int64_t per = (batch_ + workers - 1) / workers;
  std::vector<std::thread> pool;
  for (int64_t first = per; first < batch_; first += per)
    pool.emplace_back([=, &entry] {
      runRows(entry, fn, tokens, steps, logits, first,
              std::min(per, batch_ - first));
    });
  runRows(entry, fn, tokens, steps, logits, 0, std::min(per, batch_));
  for (std::thread &t : pool)
    t.join();
}

float *Session::logitsBuffer(float *caller, size_t count) {
  // The compiled code writes the caller's buffer directly: no copy of
  // [batch, length, vocab] floats after every step.
  if (caller)
    return caller;
  if (stepLogits_.size < count && !stepLogits_.allocate(count))
    return nullptr;
  return stepLogits_.data.get();
}

llmc_status Session::prefill(const int64_t *tokens, const int64_t *lengths,
                             int64_t length, float *logits) {
  if (!tokens || length < 1)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "prefill needs tokens and a length >= 1");
  if (length > maxSeq_ - position_)
    return fail(LLMC_ERROR_OUT_OF_RANGE,
                "a prompt of " + std::to_string(length) +
                    " tokens at position " + std::to_string(position_) +
                    " does not fit in max_seq " + std::to_string(maxSeq_));
  // Padded entries are ignored (any value): run token 0 there.
  std::vector<int64_t> ids(tokens, tokens + batch_ * length);
  for (int64_t b = 0; b < batch_; ++b) {
    int64_t n = lengths ? lengths[b] : length;
    if (n < 1 || n > length)
      return fail(LLMC_ERROR_INVALID_ARGUMENT,
                  "row " + std::to_string(b) + " has length " +
                      std::to_string(n) + " (1 to " + std::to_string(length) +
                      " expected)");
    std::fill(ids.begin() + b * length, ids.begin() + b * length + (length - n),
              0);
  }
  if (llmc_status s = checkTokens(ids.data(), ids.size()))
    return s;
  float *out = logitsBuffer(logits, size_t(batch_ * length * vocab_));
  if (!out)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "cannot allocate the logits");
  for (int64_t b = 0; b < batch_; ++b) {
    int64_t pad = length - (lengths ? lengths[b] : length);
    for (int64_t i = 0; i < length; ++i)
      kvMask_.data[b * maxSeq_ + position_ + i] =
          i < pad ? -std::numeric_limits<float>::infinity() : 0.0f;
  }
  run(*prefill_, ids.data(), length, out);
  if (std::string e = artifact_.devices().takeError(); !e.empty())
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "prefill: " + e);
  for (int64_t b = 0; b < batch_; ++b)
    std::memcpy(&lastLogits_[b * vocab_],
                out + (b * length + length - 1) * vocab_,
                vocab_ * sizeof(float));
  position_ += length;
  haveLogits_ = true;
  return LLMC_OK;
}

llmc_status Session::decode(const int64_t *tokens, float *logits) {
  if (!tokens)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "decode needs tokens");
  if (position_ >= maxSeq_)
    return fail(LLMC_ERROR_OUT_OF_RANGE, "the KV cache is full (max_seq " +
                                             std::to_string(maxSeq_) + ")");
  if (llmc_status s = checkTokens(tokens, size_t(batch_)))
    return s;
  float *out = logitsBuffer(logits, size_t(batch_ * vocab_));
  if (!out)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "cannot allocate the logits");
  for (int64_t b = 0; b < batch_; ++b)
    kvMask_.data[b * maxSeq_ + position_] = 0.0f;
  run(*decode_, tokens, 1, out);
  if (std::string e = artifact_.devices().takeError(); !e.empty())
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "decode: " + e);
  std::memcpy(lastLogits_.data(), out, size_t(batch_ * vocab_) * sizeof(float));
  ++position_;
  haveLogits_ = true;
  return LLMC_OK;
}

llmc_status Session::sample(const llmc_sampling &sampling, int64_t *tokens) {
  if (!tokens)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "sample needs an output array");
  if (!haveLogits_)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "nothing to sample from: run prefill first");
  if (llmc_status s = Sampler::checkSampling(sampling))
    return s;
  if (!seeded_) {
    sampler_.seed(sampling.seed);
    seeded_ = true;
  }
  for (int64_t b = 0; b < batch_; ++b)
    tokens[b] = sampler_.sample(&lastLogits_[b * vocab_], vocab_, sampling);
  return LLMC_OK;
}

llmc_status Session::saveKV(float *const *keys, float *const *values,
                            int64_t length) const {
  const Manifest &m = artifact_.manifest();
  if (!keys || !values || length < 0 || length > position_)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "save_kv needs keys, values and a length from 0 to the "
                "current position " +
                    std::to_string(position_));
  for (int64_t l = 0; l < m.layers; ++l)
    if (!keys[l] || !values[l])
      return fail(LLMC_ERROR_INVALID_ARGUMENT,
                  "no key/value buffers for layer " + std::to_string(l));
  size_t rowBytes = cacheRowBytes();
  forEachCacheRow(length, [&](int64_t l, size_t caller, size_t cache) {
    for (auto [to, from, scales] :
         {std::tuple(keys[l], &keys_[l], &keyScales_),
          std::tuple(values[l], &values_[l], &valueScales_)}) {
      const char *row =
          reinterpret_cast<const char *>(from->data.get()) + cache * rowBytes;
      if (m.kvBits == 32)
        std::memcpy(to + caller * m.headDim, row, rowBytes);
      else
        dequantizeKVRow(reinterpret_cast<const int8_t *>(row),
                        (*scales)[l].data[cache], m.headDim, m.kvBits,
                        to + caller * m.headDim);
    }
  });
  return LLMC_OK;
}

size_t Session::cacheRowBytes() const {
  const Manifest &m = artifact_.manifest();
  return size_t(kvRowBytes(m.headDim, m.kvBits));
}

void Session::forEachCacheRow(
    int64_t length,
    const std::function<void(int64_t, size_t, size_t)> &fn) const {
  const Manifest &m = artifact_.manifest();
  for (int64_t l = 0; l < m.layers; ++l)
    for (int64_t b = 0; b < batch_; ++b)
      for (int64_t h = 0; h < m.kvHeads; ++h)
        for (int64_t p = 0; p < length; ++p)
          fn(l, size_t((b * m.kvHeads + h) * length + p),
             size_t((b * m.kvHeads + h) * maxSeq_ + p));
}

llmc_status Session::loadKV(const float *const *keys,
                            const float *const *values, const int64_t *lengths,
                            int64_t length) {
  const Manifest &m = artifact_.manifest();
  if (!keys || !values || length < 0)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "load_kv needs keys, values and a length >= 0");
  if (length > maxSeq_)
    return fail(LLMC_ERROR_OUT_OF_RANGE,
                "a prefix of " + std::to_string(length) +
                    " positions does not fit in max_seq " +
                    std::to_string(maxSeq_));
  for (int64_t l = 0; l < m.layers; ++l)
    if (!keys[l] || !values[l])
      return fail(LLMC_ERROR_INVALID_ARGUMENT,
                  "no keys/values for layer " + std::to_string(l));
  for (int64_t b = 0; b < batch_; ++b)
    if (lengths && (lengths[b] < 0 || lengths[b] > length))
      return fail(LLMC_ERROR_INVALID_ARGUMENT,
                  "row " + std::to_string(b) + " has length " +
                      std::to_string(lengths[b]) + " (0 to " +
                      std::to_string(length) + " expected)");
  size_t rowBytes = cacheRowBytes();
  forEachCacheRow(length, [&](int64_t l, size_t caller, size_t cache) {
    for (auto [from, to, scales] :
         {std::tuple(keys[l], &keys_[l], &keyScales_),
          std::tuple(values[l], &values_[l], &valueScales_)}) {
      char *row = reinterpret_cast<char *>(to->data.get()) + cache * rowBytes;
      if (m.kvBits == 32)
        std::memcpy(row, from + caller * m.headDim, rowBytes);
      else
        quantizeKVRow(from + caller * m.headDim, m.headDim, m.kvBits,
                      reinterpret_cast<int8_t *>(row),
                      &(*scales)[l].data[cache]);
    }
  });
  for (int64_t b = 0; b < batch_; ++b) {
    int64_t pad = lengths ? length - lengths[b] : 0;
    for (int64_t p = 0; p < length; ++p)
      kvMask_.data[b * maxSeq_ + p] =
          p < pad ? -std::numeric_limits<float>::infinity() : 0.0f;
  }
  position_ = length;
  haveLogits_ = false;
  return LLMC_OK;
}

void Session::reset() {
  position_ = 0;
  haveLogits_ = false;
  seeded_ = false;
}
