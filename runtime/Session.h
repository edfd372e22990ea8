//===- Session.h - a KV cache and the steps that fill it --------*- C++ -*-===//

#ifndef LLMC_RUNTIME_SESSION_H
#define LLMC_RUNTIME_SESSION_H

#include "runtime/Artifact.h"
#include "runtime/Sampler.h"

#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

namespace llmc::runtime {

/// 64-byte aligned floats (the compiled code's vector width).
struct AlignedFloats {
  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> data;
  size_t size = 0;
  bool allocate(size_t n);
};

class Session {
public:
  static llmc_status create(const Artifact &artifact,
                            const llmc_session_options &options,
                            std::unique_ptr<Session> &out);

  llmc_status prefill(const int64_t *tokens, const int64_t *lengths,
                      int64_t length, float *logits);
  llmc_status decode(const int64_t *tokens, float *logits);
  llmc_status sample(const llmc_sampling &sampling, int64_t *tokens);
  llmc_status loadKV(const float *const *keys, const float *const *values,
                     const int64_t *lengths, int64_t length);
  llmc_status saveKV(float *const *keys, float *const *values,
                     int64_t length) const;
  void reset();
  int64_t position() const { return position_; }

private:
  explicit Session(const Artifact &artifact) : artifact_(artifact) {}
  llmc_status checkEntry(const EntryPoint &entry);
  /// Runs `entry` on [batch, steps] tokens at position_, writing
  /// [batch, steps, vocab] logits into `logits`.
  void run(const EntryPoint &entry, const int64_t *tokens, int64_t steps,
           float *logits);
  void runRows(const EntryPoint &entry, PackedEntry fn, const int64_t *tokens,
               int64_t steps, float *logits, int64_t first, int64_t rows);
  /// Where a step of `count` logits goes: the caller's buffer, else
  /// stepLogits_ (grown as needed; null when that fails).
  float *logitsBuffer(float *caller, size_t count);
  /// The model inputs the runtime fills (Hugging Face convention) for a
  /// step of `steps` tokens at position_, from kvMask_: attention_mask
  /// [B, position_ + steps] (1 real, 0 padding) and position_ids [B, steps]
  /// (real tokens before this one in its row; 0 for padding).
  /// Calls fn(layer, caller row, cache row) for every row of head_dim
  /// values of positions [0, length): the caller's rows are
  /// [batch][kv_heads][length], the cache's [batch][kv_heads][max_seq].
  void
  forEachCacheRow(int64_t length,
                  const std::function<void(int64_t, size_t, size_t)> &fn) const;
  /// Bytes of one cache row (head_dim elements of kv_bits).
  size_t cacheRowBytes() const;
  void fillMaskAndPositions(int64_t steps);
  llmc_status checkTokens(const int64_t *tokens, size_t n);

  const Artifact &artifact_;
  const EntryPoint *prefill_ = nullptr, *decode_ = nullptr;
  int64_t batch_ = 1, maxSeq_ = 1, vocab_ = 0, position_ = 0;
  int threads_ = 1;
  // Per layer [B, H, S, D] f32, or [B, H, S, D·bits/8] codes with
  // [B, H, S] scales when the cache is quantized.
  std::vector<AlignedFloats> keys_, values_;
  std::vector<AlignedFloats> keyScales_, valueScales_;
  AlignedFloats kvMask_;               // [B, S]: 0 or -inf
  AlignedFloats stepLogits_;           // [B, T, V] when the caller has none
  std::vector<float> lastLogits_;      // [B, V]
  std::vector<int64_t> attentionMask_; // [B, position + T]
  std::vector<int64_t> positionIds_;   // [B, T]
  bool haveLogits_ = false, seeded_ = false;
  /// Whether the model takes attention_mask / position_ids (checkEntry).
  bool fillsMaskAndPositions_ = false;
  Sampler sampler_;
};

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_SESSION_H
