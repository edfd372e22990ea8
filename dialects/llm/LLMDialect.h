//===- LLMDialect.h - the llm dialect ---------------------------*- C++ -*-===//

#ifndef LLMC_DIALECTS_LLM_LLMDIALECT_H
#define LLMC_DIALECTS_LLM_LLMDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "dialects/llm/LLMDialect.h.inc"

#endif // LLMC_DIALECTS_LLM_LLMDIALECT_H
