/*===- llmc-capi-test.c - drive llmc through its C API
---------------------===*\
|* Loads the llm dialect through mlirGetDialectHandle__llm__, parses and      *|
|* verifies modules, runs llm-canonicalize through the pass manager, and      *|
|* checks that invalid IR is rejected. Output is checked by FileCheck.        *|
\*===----------------------------------------------------------------------===*/

#include "llmc-c/Dialects.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <string.h>

static void printToStdout(MlirStringRef str, void *userData) {
  (void)userData;
  fwrite(str.data, 1, str.length, stdout);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic diag, void *userData) {
  (void)userData;
  printf("diagnostic: ");
  mlirDiagnosticPrint(diag, printToStdout, NULL);
  printf("\n");
  return mlirLogicalResultSuccess();
}

static const char *kValidModule =
    "func.func @mlp(%x: tensor<2x8xf32>, %w: tensor<16x8xf32>,\n"
    "               %z: tensor<16xf32>) -> tensor<2x16xf32> {\n"
    "  %zero = arith.constant dense<0.0> : tensor<16xf32>\n"
    "  %y = llm.linear %x, %w, %zero\n"
    "      : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> "
    "tensor<2x16xf32>\n"
    "  %a = llm.silu %y : tensor<2x16xf32>\n"
    "  return %a : tensor<2x16xf32>\n"
    "}\n";

/* Feature dimension 9 does not match the weight's 8. */
static const char *kInvalidModule =
    "func.func @bad(%x: tensor<2x9xf32>, %w: tensor<16x8xf32>) -> "
    "tensor<2x16xf32> {\n"
    "  %y = llm.linear %x, %w : (tensor<2x9xf32>, tensor<16x8xf32>) -> "
    "tensor<2x16xf32>\n"
    "  return %y : tensor<2x16xf32>\n"
    "}\n";

int main(void) {
  MlirContext ctx = mlirContextCreate();
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__llm__(), ctx);
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__func__(), ctx);
  mlirContextGetOrLoadDialect(ctx, mlirStringRefCreateFromCString("arith"));
  MlirDialect llm =
      mlirContextGetOrLoadDialect(ctx, mlirStringRefCreateFromCString("llm"));
  if (mlirDialectIsNull(llm)) {
    fprintf(stderr, "llm dialect did not load\n");
    return 1;
  }
  MlirStringRef ns = mlirDialectGetNamespace(llm);
  printf("loaded dialect: %.*s\n", (int)ns.length, ns.data);
  // CHECK: loaded dialect: llm

  mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);

  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kValidModule));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "valid module failed to parse\n");
    return 1;
  }
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  printf("valid module verifies: %d\n", (int)mlirOperationVerify(moduleOp));
  // CHECK: valid module verifies: 1

  llmcRegisterPasses();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm, mlirStringRefCreateFromCString("builtin.module(llm-canonicalize)"),
      printToStdout, NULL);
  if (mlirLogicalResultIsFailure(parsed)) {
    fprintf(stderr, "\nllm-canonicalize is not registered\n");
    return 1;
  }
  MlirLogicalResult ran = mlirPassManagerRunOnOp(pm, moduleOp);
  printf("llm-canonicalize ran: %d\n", (int)mlirLogicalResultIsSuccess(ran));
  // CHECK: llm-canonicalize ran: 1
  mlirOperationPrint(moduleOp, printToStdout, NULL);
  // The zero bias is gone:
  // CHECK: llm.linear %arg0, %arg1 : (tensor<2x8xf32>, tensor<16x8xf32>) ->
  // tensor<2x16xf32> CHECK: llm.silu
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);

  MlirModule bad = mlirModuleCreateParse(
      ctx, mlirStringRefCreateFromCString(kInvalidModule));
  // CHECK: diagnostic: 'llm.linear' op input feature dimension (9) does not
  // match weight in_features (8)
  printf("invalid module rejected: %d\n", (int)mlirModuleIsNull(bad));
  // CHECK: invalid module rejected: 1
  if (!mlirModuleIsNull(bad))
    mlirModuleDestroy(bad);

  mlirContextDestroy(ctx);
  return 0;
}
