/*===- llmc/runtime.h - the llmc runtime's C API ------------------*- C -*-===*\
|*                                                                            *|
|* Loads a .llmc artifact written by llm-compile (or llmcCompile*) and runs   *|
|* its prefill/decode entry points over a KV cache the session owns.         *|
|* Every function returns an llmc_status; on failure llmc_last_error()       *|
|* describes it (per thread). Nothing aborts on bad input.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef LLMC_RUNTIME_H
#define LLMC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum llmc_status {
  LLMC_OK = 0,
  LLMC_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or option */
  LLMC_ERROR_IO = 2,               /* the artifact cannot be read */
  LLMC_ERROR_INVALID_ARTIFACT =
      3,                       /* magic, version, sizes, offsets, manifest */
  LLMC_ERROR_UNSUPPORTED = 4,  /* e.g. an entry point this runtime lacks */
  LLMC_ERROR_OUT_OF_RANGE = 5, /* e.g. a prompt longer than max_seq */
  LLMC_ERROR_OUT_OF_MEMORY = 6,
} llmc_status;

/* The message of the last failure on this thread ("" if none). */
const char *llmc_last_error(void);

typedef struct llmc_artifact llmc_artifact;
typedef struct llmc_session llmc_session;

/* Maps and validates an artifact: header, section table, manifest, every
   weight's offset and size, and the CPU code's entry points. Weights of
   64 MiB and more are copied into anonymous memory with 2 MiB pages (decode
   streams them; environment LLMC_HUGE_PAGES=0 keeps the file mapping, =1
   copies any size). The runtime also keeps freed blocks in the malloc heap
   (mallopt) so that the compiled code's temporaries are reused across
   steps instead of faulted in again. */
llmc_status llmc_artifact_open(const char *path, llmc_artifact **artifact);
/* The same for an artifact held in memory (as llmcCompileBuffer returns
   it); the bytes are copied. */
llmc_status llmc_artifact_open_buffer(const void *data, size_t size,
                                      llmc_artifact **artifact);
void llmc_artifact_close(llmc_artifact *artifact);

/* 1 if the artifact has prefill/decode entry points (a generative model). */
int llmc_artifact_is_generative(const llmc_artifact *artifact);
int64_t llmc_artifact_vocab_size(const llmc_artifact *artifact);
/* The most positions the model's position tables cover, or -1 if none. */
int64_t llmc_artifact_max_positions(const llmc_artifact *artifact);
/* The KV cache's geometry of a generative model: layers, KV heads per layer
   and head dimension (all 0 for other artifacts). Any pointer may be NULL. */
void llmc_artifact_kv_shape(const llmc_artifact *artifact, int64_t *layers,
                            int64_t *kv_heads, int64_t *head_dim);

/* Simulated work of one device of an artifact compiled for a machine
   (llm-compile --target=edge-npu-pim): its NPU and PIM programs run on
   simulators, which count time from the machine description. */
typedef struct llmc_device_time {
  char device[32];       /* "npu0", "pim0" */
  int64_t calls, rows;   /* program runs and the activation rows they took */
  double seconds;        /* simulated */
  /* Runs of one row (decode with batch 1): simulated, and the device cost
     model's estimate for them (from compile time). */
  int64_t single_row_calls;
  double single_row_seconds, single_row_estimate_seconds;
} llmc_device_time;
/* How many devices run programs (0 for a CPU artifact). */
int64_t llmc_artifact_device_count(const llmc_artifact *artifact);
/* Device `index`'s time since the artifact was opened or last reset. */
llmc_status llmc_artifact_device_time(const llmc_artifact *artifact,
                                      int64_t index, llmc_device_time *out);
void llmc_artifact_reset_device_times(llmc_artifact *artifact);
/* The simulated time of the devices' launches since then on one timeline:
   a session's batch rows split over threads are sub-batches; each
   sub-batch's launches run in order, a device runs one at a time, and
   sub-batches overlap on different devices (NeuPIMs' sub-batch
   interleaving). Host work is not counted. `sub_batches` (may be NULL)
   gets how many sub-batches launched programs. */
double llmc_artifact_device_timeline(const llmc_artifact *artifact,
                                     int64_t *sub_batches);

/* Runs entry point `entry` of an artifact compiled in function mode
   (llm-compile --mode=function, or a model without attention). buffers[i]
   and shapes[i] are the data and sizes of the i-th argument of the entry
   point in the manifest, not counting the weights (which the runtime
   supplies): the inputs, then the outputs, which the call writes. Ranks
   and static sizes are checked; the caller sizes the outputs. */
llmc_status llmc_artifact_call(llmc_artifact *artifact, const char *entry,
                               void *const *buffers,
                               const int64_t *const *shapes);

typedef struct llmc_session_options {
  int64_t batch;   /* sequences decoded together (>= 1) */
  int64_t max_seq; /* KV-cache capacity in positions (>= 1) */
  int threads;     /* worker threads (>= 1); batch rows are split among them */
} llmc_session_options;

/* Allocates the KV cache. The artifact must outlive the session. */
llmc_status llmc_session_create(llmc_artifact *artifact,
                                const llmc_session_options *options,
                                llmc_session **session);
void llmc_session_destroy(llmc_session *session);
/* Forgets every position: the next call must be a prefill. */
llmc_status llmc_session_reset(llmc_session *session);
/* Positions used so far (prompt + generated tokens, padding included). */
int64_t llmc_session_position(const llmc_session *session);

/* Runs the prompt. `tokens` is [batch][length]; row b holds its lengths[b]
   tokens at the end (left padding, the first length - lengths[b] entries
   are ignored); lengths may be NULL when every row is full. The padded
   positions are masked out of attention. A model that takes
   `attention_mask` and `position_ids` inputs (Hugging Face exports) gets
   them filled by the runtime from the same padding. `logits`, if not NULL,
   receives [batch][length][vocab] (rows of padded positions are unspecified). A
   prompt that does not fit in max_seq is LLMC_ERROR_OUT_OF_RANGE and leaves
   the session as it was. */
llmc_status llmc_session_prefill(llmc_session *session, const int64_t *tokens,
                                 const int64_t *lengths, int64_t length,
                                 float *logits);

/* Appends one token per row ([batch]); logits, if not NULL, receives
   [batch][vocab]. */
llmc_status llmc_session_decode(llmc_session *session, const int64_t *tokens,
                                float *logits);

/* Replaces the cache with a known prefix of `length` positions (restoring a
   saved conversation, or a decode-style model's past): keys[l] and
   values[l] are layer l's [batch][kv_heads][length][head_dim]. Row b's
   real positions are its last lengths[b] (left padding; lengths may be
   NULL when all are real). The next prefill/decode continues at position
   `length`. A quantized cache (llm-compile --quantize=...-kv8/kv4) stores
   each row of head_dim values as codes with a scale, as the compiled step
   would. */
llmc_status llmc_session_load_kv(llmc_session *session,
                                 const float *const *keys,
                                 const float *const *values,
                                 const int64_t *lengths, int64_t length);

/* Copies the cache's first `length` positions out (saving a conversation,
   or reading what a prompt wrote): keys[l] and values[l] receive layer l's
   [batch][kv_heads][length][head_dim]. `length` may not exceed the
   session's current position. A quantized cache gives its dequantized
   values. */
llmc_status llmc_session_save_kv(llmc_session *session, float *const *keys,
                                 float *const *values, int64_t length);

typedef struct llmc_sampling {
  float temperature; /* 0: greedy (arg max) */
  int64_t top_k;     /* 0: no top-k cut */
  float top_p;       /* 1: no nucleus cut */
  uint64_t seed;
} llmc_sampling;

/* Picks the next token of each row ([batch]) from the logits of the last
   prefill/decode. Sampling is deterministic for a seed: the session keeps
   one generator, seeded by the first call after create/reset. */
llmc_status llmc_session_sample(llmc_session *session,
                                const llmc_sampling *sampling, int64_t *tokens);

#ifdef __cplusplus
}
#endif

#endif /* LLMC_RUNTIME_H */
