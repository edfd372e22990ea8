//===- LLMDialect.cpp - the llm dialect -----------------------------------===//

#include "dialects/llm/LLMDialect.h"
#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/InliningUtils.h"

using namespace mlir;
using namespace mlir::llm;

#include "dialects/llm/LLMDialect.cpp.inc"

namespace {
/// Every llm op is a value computation without regions or control flow, so
/// a call of a function holding llm ops may be inlined (KV prediction's
/// prefill calls the model step functions).
struct LLMInlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final {
    return true;
  }
};
} // namespace

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/llm/LLMOps.cpp.inc"
      >();
  registerAttributes();
  addInterfaces<LLMInlinerInterface>();
}

Operation *LLMDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

LogicalResult LLMDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() == kDeviceAttrName) {
    if (!isa<DeviceAttr>(attr.getValue()))
      return op->emitError()
             << "'" << kDeviceAttrName
             << "' must be a #llm.device attribute, got " << attr.getValue();
    return success();
  }
  if (attr.getName() == kMaxPositionsAttrName ||
      attr.getName() == kKVBitsAttrName) {
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitError() << "'" << attr.getName().getValue()
                             << "' must be an integer, got " << attr.getValue();
    return success();
  }
  if (attr.getName() == kPlacementAttrName) {
    auto dict = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!dict || !dict.getAs<DeviceAttr>("host"))
      return op->emitError() << "'" << kPlacementAttrName
                             << "' must be a dictionary with a #llm.device "
                                "'host', got "
                             << attr.getValue();
    return success();
  }
  if (attr.getName() == kDeviceProgramsAttrName) {
    auto programs = dyn_cast<ArrayAttr>(attr.getValue());
    bool ok = programs && isa<ModuleOp>(op);
    for (Attribute a : programs ? programs.getValue() : ArrayRef<Attribute>{}) {
      auto dict = dyn_cast<DictionaryAttr>(a);
      ok &= dict && dict.getAs<DeviceAttr>("device") &&
            dict.getAs<ElementsAttr>("bytes");
    }
    if (!ok)
      return op->emitError()
             << "'" << kDeviceProgramsAttrName
             << "' must be an array of dictionaries with a #llm.device "
                "'device' and the program's 'bytes', on a module";
    return success();
  }
  return op->emitError() << "unknown llm dialect attribute '"
                         << attr.getName().getValue() << "'";
}

/// Arguments and results may carry the model's tensor name and, on entry
/// points, the runtime role, layer and tied argument.
static LogicalResult verifyValueAttribute(Operation *op, NamedAttribute attr,
                                          const std::string &where) {
  StringRef name = attr.getName().getValue();
  bool isString =
      name == LLMDialect::kNameAttrName || name == LLMDialect::kRoleAttrName;
  bool isInteger = name == LLMDialect::kLayerAttrName ||
                   name == LLMDialect::kTiedArgAttrName;
  if (isString || isInteger) {
    if (isString ? !isa<StringAttr>(attr.getValue())
                 : !isa<IntegerAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' on " << where << " must be "
                             << (isString ? "a string" : "an integer")
                             << ", got " << attr.getValue();
    return success();
  }
  return op->emitError() << "unknown llm dialect attribute '"
                         << attr.getName().getValue() << "' on " << where;
}

LogicalResult LLMDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned argIndex,
                                                   NamedAttribute attr) {
  return verifyValueAttribute(op, attr, "argument " + std::to_string(argIndex));
}

LogicalResult LLMDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                      unsigned resultIndex,
                                                      NamedAttribute attr) {
  return verifyValueAttribute(op, attr,
                              "result " + std::to_string(resultIndex));
}
