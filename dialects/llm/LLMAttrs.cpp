//===- LLMAttrs.cpp - llm attributes and enums ----------------------------===//

#include "dialects/llm/LLMAttrs.h"
#include "dialects/llm/LLMDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llm;

#include "dialects/llm/LLMEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/LLMAttrs.cpp.inc"

void LLMDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/llm/LLMAttrs.cpp.inc"
      >();
}

LogicalResult DeviceAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef kind, int64_t index) {
  if (kind.empty())
    return emitError() << "device kind must not be empty";
  if (!llvm::all_of(kind, [](char c) {
        return llvm::isAlnum(c) || c == '_' || c == '-';
      }))
    return emitError() << "device kind '" << kind
                       << "' may only contain letters, digits, '_' and '-'";
  if (index < 0)
    return emitError() << "device index must be non-negative, got " << index;
  return success();
}
