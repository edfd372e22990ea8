//===- LLMAttrs.h - llm attributes and enums --------------------*- C++ -*-===//

#ifndef LLMC_DIALECTS_LLM_LLMATTRS_H
#define LLMC_DIALECTS_LLM_LLMATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "dialects/llm/LLMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/LLMAttrs.h.inc"

#endif // LLMC_DIALECTS_LLM_LLMATTRS_H
