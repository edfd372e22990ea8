/*===- llmc-compile-capi-test.c - the compiler's C API from C -------------===*\
|*                                                                            *|
|* Diagnostics come back to the caller as text (nothing printed, nothing    *|
|* aborted); a good model compiles to artifact bytes in memory that the      *|
|* runtime opens from memory. RUN lines are in compile-capi.test.            *|
\*===----------------------------------------------------------------------===*/

#include "llmc-c/Compiler.h"
#include "llmc/runtime.h"

#include <stdio.h>
#include <string.h>

/* A model function without attention: compiled as it is (function mode). */
static const char kModel[] =
    "func.func @main(%x: tensor<2x3xf32> {llm.name = \"x\"}) -> tensor<2x3xf32> {\n"
    "  %y = arith.addf %x, %x : tensor<2x3xf32>\n"
    "  return %y : tensor<2x3xf32>\n"
    "}\n";

static void progress(const char *step, void *user) {
  int *count = (int *)user;
  ++*count;
  (void)step;
}

int main(void) {
  LlmcCompileOptions options;
  llmcCompileOptionsInit(&options);
  void *artifact = NULL;
  size_t size = 0;
  char *diagnostics = NULL;

  /* Not ONNX: a failure with the importer's message. */
  int rc = llmcCompileBuffer("garbage", 7, "bad.onnx", NULL, &options,
                             &artifact, &size, &diagnostics);
  // CHECK: garbage: rc=1 artifact=0 diagnostics=1
  printf("garbage: rc=%d artifact=%d diagnostics=%d\n", rc != 0,
         artifact != NULL, diagnostics != NULL);
  // CHECK-NEXT: bad.onnx:0:0: error: not a valid ONNX model
  printf("%.*s\n", diagnostics ? (int)strcspn(diagnostics, "\n") : 0,
         diagnostics ? diagnostics : "");
  llmcFree(diagnostics);
  diagnostics = NULL;

  /* Invalid MLIR: the parser's error, located. */
  rc = llmcCompileBuffer("func.func @main(", 16, "broken.mlir", NULL,
                         &options, &artifact, &size, &diagnostics);
  // CHECK-NEXT: broken: rc=1 broken.mlir:1:16: error:
  printf("broken: rc=%d %.*s\n", rc != 0,
         diagnostics ? (int)strcspn(diagnostics, "\n") : 0,
         diagnostics ? diagnostics : "");
  llmcFree(diagnostics);
  diagnostics = NULL;

  /* Bad options are diagnosed too. */
  options.mode = "fastest";
  rc = llmcCompileBuffer(kModel, sizeof(kModel) - 1, "model.mlir", NULL,
                         &options, &artifact, &size, &diagnostics);
  // CHECK-NEXT: mode: rc=1 llmc: unknown mode 'fastest' (auto, generate or function)
  printf("mode: rc=%d %s", rc != 0, diagnostics ? diagnostics : "\n");
  llmcFree(diagnostics);
  diagnostics = NULL;
  llmcCompileOptionsInit(&options);

  /* A good model, with a progress callback, opened by the runtime from
     memory. */
  int steps = 0;
  options.progress = progress;
  options.user_data = &steps;
  rc = llmcCompileBuffer(kModel, sizeof(kModel) - 1, "model.mlir", NULL,
                         &options, &artifact, &size, &diagnostics);
  // CHECK-NEXT: good: rc=0 magic=LLMCART steps=1 diagnostics=0
  printf("good: rc=%d magic=%s steps=%d diagnostics=%d\n", rc,
         artifact ? (const char *)artifact : "", steps > 3,
         diagnostics != NULL);
  llmc_artifact *loaded = NULL;
  llmc_status status = llmc_artifact_open_buffer(artifact, size, &loaded);
  // CHECK-NEXT: open: 0 generative=0
  printf("open: %d generative=%d\n", (int)status,
         llmc_artifact_is_generative(loaded));

  /* A function-mode artifact is called with caller-owned buffers. */
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0};
  int64_t shape[2] = {2, 3}, wrong[2] = {3, 2};
  void *buffers[2] = {x, y};
  const int64_t *shapes[2] = {shape, shape};
  status = llmc_artifact_call(loaded, "main", buffers, shapes);
  // CHECK-NEXT: call: 0 2 4 6 8 10 12
  printf("call: %d", (int)status);
  for (int i = 0; i < 6; ++i)
    printf(" %g", y[i]);
  printf("\n");
  const int64_t *badShapes[2] = {wrong, shape};
  status = llmc_artifact_call(loaded, "main", buffers, badShapes);
  // CHECK-NEXT: bad shape: 1 argument 'x' dimension 0 is 3, the entry point takes 2
  printf("bad shape: %d %s\n", (int)status, llmc_last_error());
  status = llmc_artifact_call(loaded, "prefill", buffers, shapes);
  // CHECK-NEXT: no entry: 1 no entry point 'prefill'
  printf("no entry: %d %s\n", (int)status, llmc_last_error());
  llmc_artifact_close(loaded);
  llmcFree(artifact);
  llmcFree(diagnostics);
  return 0;
}
