/*===- llmc-c/Dialects.h - C API for llmc's dialects --------------*- C -*-===*\
|*                                                                            *|
|* Registration of the llm dialect and llmc's passes for frameworks that     *|
|* drive MLIR through its C API (mlir-c/IR.h).                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef LLMC_C_DIALECTS_H
#define LLMC_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Declares mlirGetDialectHandle__llm__(). */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(LLM, llm);

/* Registers llmc's passes (llm-canonicalize, ...) with the global registry
   so that mlirParsePassPipeline() accepts them. Idempotent. */
MLIR_CAPI_EXPORTED void llmcRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* LLMC_C_DIALECTS_H */
