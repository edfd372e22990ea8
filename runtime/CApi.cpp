//===- CApi.cpp - the runtime's C API (include/llmc/runtime.h) ------------===//

#include "llmc/runtime.h"

#include "runtime/Artifact.h"
#include "runtime/Invoke.h"
#include "runtime/Session.h"
#include "runtime/Status.h"

#include <cstdio>
#include <new>

using namespace llmc::runtime;

struct llmc_artifact {
  std::unique_ptr<Artifact> impl;
};
struct llmc_session {
  std::unique_ptr<Session> impl;
};

namespace {
thread_local std::string lastMessage;
} // namespace

llmc_status llmc::runtime::fail(llmc_status code, std::string message) {
  lastMessage = std::move(message);
  return code;
}

const std::string &llmc::runtime::lastError() { return lastMessage; }

const char *llmc_last_error(void) { return lastMessage.c_str(); }

llmc_status llmc_artifact_open(const char *path, llmc_artifact **artifact) {
  if (!path || !artifact)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "path and artifact are required");
  *artifact = nullptr;
  auto *out = new (std::nothrow) llmc_artifact;
  if (!out)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "out of memory");
  if (llmc_status s = Artifact::open(path, out->impl)) {
    delete out;
    return s;
  }
  *artifact = out;
  return LLMC_OK;
}

llmc_status llmc_artifact_open_buffer(const void *data, size_t size,
                                      llmc_artifact **artifact) {
  if (!data || !artifact)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "data and artifact are required");
  *artifact = nullptr;
  auto *out = new (std::nothrow) llmc_artifact;
  if (!out)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "out of memory");
  if (llmc_status s = Artifact::openBuffer(data, size, out->impl)) {
    delete out;
    return s;
  }
  *artifact = out;
  return LLMC_OK;
}

void llmc_artifact_close(llmc_artifact *artifact) { delete artifact; }

int llmc_artifact_is_generative(const llmc_artifact *artifact) {
  return artifact && artifact->impl->manifest().generative;
}

int64_t llmc_artifact_vocab_size(const llmc_artifact *artifact) {
  return artifact ? artifact->impl->manifest().vocab : -1;
}

int64_t llmc_artifact_max_positions(const llmc_artifact *artifact) {
  return artifact ? artifact->impl->manifest().maxPositions : -1;
}

int64_t llmc_artifact_device_count(const llmc_artifact *artifact) {
  return artifact ? int64_t(artifact->impl->devices().times().size()) : 0;
}

llmc_status llmc_artifact_device_time(const llmc_artifact *artifact,
                                      int64_t index, llmc_device_time *out) {
  if (!artifact || !out)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "device time: null argument");
  auto times = artifact->impl->devices().times();
  if (index < 0 || size_t(index) >= times.size())
    return fail(LLMC_ERROR_OUT_OF_RANGE,
                "device time: index " + std::to_string(index) +
                    " is not below the " + std::to_string(times.size()) +
                    " devices");
  const auto &[name, t] = times[size_t(index)];
  *out = llmc_device_time();
  std::snprintf(out->device, sizeof(out->device), "%s", name.c_str());
  out->calls = t.calls;
  out->rows = t.rows;
  out->seconds = t.seconds;
  out->single_row_calls = t.singleRowCalls;
  out->single_row_seconds = t.singleRowSeconds;
  out->single_row_estimate_seconds = t.singleRowEstimateSeconds;
  return LLMC_OK;
}

double llmc_artifact_device_timeline(const llmc_artifact *artifact,
                                     int64_t *sub_batches) {
  if (!artifact) {
    if (sub_batches)
      *sub_batches = 0;
    return 0;
  }
  return artifact->impl->devices().timelineSeconds(sub_batches);
}

void llmc_artifact_reset_device_times(llmc_artifact *artifact) {
  if (artifact)
    artifact->impl->devices().resetTimes();
}

void llmc_artifact_kv_shape(const llmc_artifact *artifact, int64_t *layers,
                            int64_t *kv_heads, int64_t *head_dim) {
  bool kv = artifact && artifact->impl->manifest().generative;
  const auto *m = kv ? &artifact->impl->manifest() : nullptr;
  if (layers)
    *layers = m ? m->layers : 0;
  if (kv_heads)
    *kv_heads = m ? m->kvHeads : 0;
  if (head_dim)
    *head_dim = m ? m->headDim : 0;
}

llmc_status llmc_artifact_call(llmc_artifact *artifact, const char *entry,
                               void *const *buffers,
                               const int64_t *const *shapes) {
  if (!artifact || !entry)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "artifact and entry are required");
  const EntryPoint *e = artifact->impl->manifest().find(entry);
  if (!e)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                std::string("no entry point '") + entry + "'");
  if (artifact->impl->manifest().generative)
    return fail(LLMC_ERROR_UNSUPPORTED,
                "a generative artifact runs through a session");
  return invoke(*artifact->impl, *e, buffers, shapes);
}

llmc_status llmc_session_create(llmc_artifact *artifact,
                                const llmc_session_options *options,
                                llmc_session **session) {
  if (!artifact || !options || !session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT,
                "artifact, options and session are required");
  *session = nullptr;
  auto *out = new (std::nothrow) llmc_session;
  if (!out)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "out of memory");
  if (llmc_status s = Session::create(*artifact->impl, *options, out->impl)) {
    delete out;
    return s;
  }
  *session = out;
  return LLMC_OK;
}

void llmc_session_destroy(llmc_session *session) { delete session; }

llmc_status llmc_session_reset(llmc_session *session) {
  if (!session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "no session");
  session->impl->reset();
  return LLMC_OK;
}

int64_t llmc_session_position(const llmc_session *session) {
  return session ? session->impl->position() : -1;
}

llmc_status llmc_session_prefill(llmc_session *session, const int64_t *tokens,
                                 const int64_t *lengths, int64_t length,
                                 float *logits) {
  if (!session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "no session");
  return session->impl->prefill(tokens, lengths, length, logits);
}

llmc_status llmc_session_decode(llmc_session *session, const int64_t *tokens,
                                float *logits) {
  if (!session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "no session");
  return session->impl->decode(tokens, logits);
}

llmc_status llmc_session_load_kv(llmc_session *session,
                                 const float *const *keys,
                                 const float *const *values,
                                 const int64_t *lengths, int64_t length) {
  if (!session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "no session");
  return session->impl->loadKV(keys, values, lengths, length);
}

llmc_status llmc_session_save_kv(llmc_session *session, float *const *keys,
                                 float *const *values, int64_t length) {
  if (!session)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "no session");
  return session->impl->saveKV(keys, values, length);
}

llmc_status llmc_session_sample(llmc_session *session,
                                const llmc_sampling *sampling,
                                int64_t *tokens) {
  if (!session || !sampling)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "session and sampling required");
  return session->impl->sample(*sampling, tokens);
}
