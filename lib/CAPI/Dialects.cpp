//===- Dialects.cpp - C API for llmc's dialects ---------------------------===//

#include "llmc-c/Dialects.h"

#include "dialects/llm/LLMDialect.h"
#include "lib/Registration/Registration.h"

#include "mlir/CAPI/Registration.h"

#include <mutex>

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(LLM, llm, mlir::llm::LLMDialect)

void llmcRegisterPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] { llmc::registerPasses(); });
}
