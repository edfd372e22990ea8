/*===- llmc-c/Compiler.h - C API of the llmc compiler -------------*- C -*-===*\
|*                                                                            *|
|* Compile a model (ONNX, or MLIR in the llm dialect) into a .llmc artifact   *|
|* that the runtime (llmc/runtime.h) loads. Nothing is printed and nothing   *|
|* aborts: failures return non-zero with the diagnostics as text.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef LLMC_C_COMPILER_H
#define LLMC_C_COMPILER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LlmcCompileOptions {
  /* "cpu" (the only target so far). */
  const char *target;
  /* LLVM CPU name, or "host". */
  const char *cpu;
  /* Extra LLVM target features, e.g. "-avx512f"; may be NULL. */
  const char *features;
  /* LLVM optimisation level, 0 to 3. */
  int opt_level;
  /* "auto" (prefill/decode when the model has attention), "generate" or
     "function" (the model function as it is). */
  const char *mode;
  /* Import-time shapes, "input_ids=1x8" or "seq=8"; may be NULL. */
  const char *const *input_shapes;
  size_t num_input_shapes;
  /* Called as each long step starts; may be NULL. */
  void (*progress)(const char *step, void *user_data);
  void *user_data;
  /* When not NULL: also place the model on `placement_target` (a preset
     such as "host-cpu" or "edge-npu-pim", or a machine description file)
     and write the placement report for a prefill and for a decode step:
     for "r.json", r.prefill.json/.html and r.decode.json/.html. The
     artifact is unchanged (the CPU target runs every op). */
  const char *placement_report;
  const char *placement_target;
  /* Batch and prompt/context length the report assumes. */
  int placement_batch;
  int placement_context;
  /* Passes run on the raised model before anything else, as a pass
     pipeline ("llm-moe-to-moge{groups=4 k-per-group=1}"); may be NULL. */
  const char *passes;
  /* Weight quantization scheme for every linear layer with constant
     weights: "int8", "int4", "int2", with optional "-g<N>" (group size),
     "-pc" (per-channel) and "-asym" (zero points), e.g. "int4-g128-asym";
     NULL or "" keeps f32 weights. */
  const char *quantize;
  /* When not NULL (and quantize is set): the per-layer weight error, as
     JSON, is written to this file. */
  const char *quant_report;
  /* KV prediction (all may be NULL): an auxiliary model (.onnx or .mlir)
     whose KV cache predicts the base model's at prefill; the base layer ->
     auxiliary layer map ("0,0,1,1", NULL: proportional); the predictor
     ("identity" or NULL, or an .mlir file of @kv_predictor_key_<l> /
     @kv_predictor_value_<l> functions returning [Hkv*D, Hkv_aux*D_aux]). */
  const char *kv_predict_aux;
  const char *kv_predict_layers;
  const char *kv_predict_predictor;
  /* When not NULL: the time-to-first-token FLOPs with KV prediction against
     the base model's prefill, for a prompt of kv_predict_report_tokens
     (default 128), as JSON. */
  const char *kv_predict_report;
  int kv_predict_report_tokens;
} LlmcCompileOptions;

/* Defaults: cpu target, host CPU, -O3, auto mode, no callbacks, no
   placement report (host-cpu, batch 1, context 128 when asked for). */
void llmcCompileOptionsInit(LlmcCompileOptions *options);

/* Compiles the model in memory (`name` tells the format by its extension,
   .onnx or .mlir, and names it in diagnostics; ONNX external data is looked
   up relative to `base_dir`, which may be NULL). On success returns 0 and
   sets *artifact / *artifact_size to a buffer to release with llmcFree. On
   failure returns non-zero. *diagnostics (when diagnostics is not NULL)
   receives the diagnostics text, to release with llmcFree, or NULL. */
int llmcCompileBuffer(const void *data, size_t size, const char *name,
                      const char *base_dir, const LlmcCompileOptions *options,
                      void **artifact, size_t *artifact_size,
                      char **diagnostics);

/* Compiles the model file at `path` and writes the artifact to
   `output_path`. Same return and diagnostics contract. */
int llmcCompileFile(const char *path, const char *output_path,
                    const LlmcCompileOptions *options, char **diagnostics);

/* Releases a buffer returned by this API. */
void llmcFree(void *buffer);

/* Registers every pass the compiler runs with MLIR's global registry, so
   that a tool can name them in MLIR's pass-manager options (e.g.
   --mlir-print-ir-after=llm-cpu-vectorize-linear) before parsing its
   command line. Idempotent; compiling does it anyway. */
void llmcCompilerRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* LLMC_C_COMPILER_H */
