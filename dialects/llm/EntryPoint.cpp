//===- EntryPoint.cpp - what entry-point arguments and ops carry ----------===//

#include "dialects/llm/EntryPoint.h"
#include "dialects/llm/LLMDialect.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::llm;

StringRef mlir::llm::argumentRole(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg)
    return {};
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!func)
    return {};
  auto role = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                LLMDialect::kRoleAttrName);
  return role ? role.getValue() : StringRef();
}

bool mlir::llm::isKVCacheArgument(Value v) {
  return argumentRole(v).ends_with("_cache");
}

DeviceAttr mlir::llm::placedDevice(Operation *op) {
  return op ? op->getAttrOfType<DeviceAttr>(LLMDialect::kDeviceAttrName)
            : DeviceAttr();
}
