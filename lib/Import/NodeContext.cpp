//===- NodeContext.cpp - what an ONNX op handler sees ---------------------===//

#include "lib/Import/NodeContext.h"
#include "lib/Import/GraphImporter.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <algorithm>

using namespace mlir;
using namespace llmc::onnx_import;

NodeContext::NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
                         int opset, OpBuilder &builder, Location loc)
    : importer(importer), nodeProto(node), opsetVersion(opset), b(builder),
      location(loc) {}

const llmc::OnnxImportOptions &NodeContext::options() const {
  return importer.options();
}

bool NodeContext::hasInput(int i) const {
  return i >= 0 && i < nodeProto.input_size() && !nodeProto.input(i).empty();
}

ImportedValue *NodeContext::input(int i) {
  return hasInput(i) ? importer.lookup(nodeProto.input(i)) : nullptr;
}

const HostTensor *NodeContext::constant(int i) {
  ImportedValue *v = input(i);
  return v && v->constant ? &*v->constant : nullptr;
}

Value NodeContext::value(int i) {
  ImportedValue *v = input(i);
  return v ? importer.valueOf(*v, b, location, nodeProto.input(i)) : Value();
}

bool SymbolicInts::allConstant() const {
  return llvm::all_of(elements,
                      [](OpFoldResult e) { return isa<Attribute>(e); });
}

RankedTensorType NodeContext::type(int i) {
  ImportedValue *v = input(i);
  if (!v)
    return {};
  if (v->value)
    return cast<RankedTensorType>(v->value.getType());
  if (v->symbolic)
    return RankedTensorType::get(v->symbolic->staticShape(),
                                 toMlirType(v->symbolic->dtype, context()));
  return RankedTensorType::get(v->constant->shape(),
                               toMlirType(v->constant->dtype(), context()));
}

bool NodeContext::allConstant() {
  for (int i = 0; i < numInputs(); ++i)
    if (hasInput(i) && !constant(i))
      return false;
  return true;
}

std::optional<SymbolicInts> NodeContext::ints(int i) {
  ImportedValue *v = input(i);
  if (!v)
    return std::nullopt;
  if (v->symbolic)
    return v->symbolic;
  if (!v->constant || isFloat(v->constant->dtype()) ||
      v->constant->rank() > 1 || v->constant->numel() > 64)
    return std::nullopt;
  SymbolicInts out;
  out.dtype = v->constant->dtype();
  out.scalar = v->constant->rank() == 0;
  for (int64_t x : v->constant->toInts())
    out.elements.push_back(b.getIndexAttr(x));
  return out;
}

OpFoldResult NodeContext::dimSize(Value v, int64_t d) {
  return importer.dimSize(b, v, d);
}

const onnx::AttributeProto *NodeContext::attr(StringRef name) const {
  for (const auto &a : nodeProto.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::intAttr(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : defaultValue;
}

float NodeContext::floatAttr(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : defaultValue;
}

std::string NodeContext::stringAttr(StringRef name,
                                    StringRef defaultValue) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::intsAttr(StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<HostTensor> NodeContext::tensorAttr(const onnx::AttributeProto &a) {
  // The model belongs to the importer, so its bytes may be moved out.
  auto &tensor = const_cast<onnx::TensorProto &>(a.t());
  return importer.loadTensor(tensor, location);
}

void NodeContext::setOutput(int i, Value value) {
  if (i < nodeProto.output_size() && !nodeProto.output(i).empty())
    importer.define(nodeProto.output(i),
                    ImportedValue{value, std::nullopt, std::nullopt});
}

void NodeContext::setOutput(int i, HostTensor constant) {
  if (i < nodeProto.output_size() && !nodeProto.output(i).empty())
    importer.define(nodeProto.output(i),
                    ImportedValue{Value(), std::move(constant), std::nullopt});
}

void NodeContext::setOutput(int i, SymbolicInts ints) {
  if (ints.allConstant()) {
    HostTensor t = HostTensor::zeros(ints.dtype, ints.staticShape());
    for (auto [k, e] : llvm::enumerate(ints.elements))
      t.setInt(k, *getConstantIntValue(e));
    return setOutput(i, std::move(t));
  }
  if (i < nodeProto.output_size() && !nodeProto.output(i).empty())
    importer.define(nodeProto.output(i),
                    ImportedValue{Value(), std::nullopt, std::move(ints)});
}

LogicalResult NodeContext::emitError(const Twine &message) {
  InFlightDiagnostic diag = mlir::emitError(location);
  // Ops outside the default domain (com.microsoft ...) say which they are.
  if (!nodeProto.domain().empty() && nodeProto.domain() != "ai.onnx")
    diag << nodeProto.domain() << " ";
  diag << nodeProto.op_type() << " node '" << nodeProto.name()
       << "': " << message;
  return diag;
}

LogicalResult NodeContext::requireInput(int i, StringRef what) {
  if (hasInput(i))
    return success();
  return emitError("missing input " + Twine(i) + " (" + what + ")");
}

LogicalResult NodeContext::requireFloat(int i, StringRef what) {
  if (isa<FloatType>(type(i).getElementType()))
    return success();
  return emitError(Twine(what) + " must be floating point");
}

LogicalResult NodeContext::refuseInput(int i, StringRef what) {
  if (!hasInput(i))
    return success();
  return emitError("input " + Twine(i) + " (" + what + ") is not supported");
}

LogicalResult NodeContext::refuseOutput(int i, StringRef what) {
  if (i >= numOutputs() || nodeProto.output(i).empty())
    return success();
  return emitError("output " + Twine(i) + " (" + what +
                   ") is not supported; leave it unnamed");
}

LogicalResult NodeContext::requireInputs(ArrayRef<StringRef> names) {
  for (auto [i, name] : llvm::enumerate(names))
    if (failed(requireInput(i, name)))
      return failure();
  return success();
}

FailureOr<const HostTensor *> NodeContext::requireConstant(int i,
                                                           StringRef what) {
  if (failed(requireInput(i, what)))
    return failure();
  if (const HostTensor *c = constant(i))
    return c;
  return emitError(Twine(what) + " (input " + Twine(i) +
                   ") must be a constant; it is computed at run time here. "
                   "Specialise the input shapes with --input-shape");
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return emitError("axis " + Twine(axis) + " is out of range for rank " +
                     Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

bool NodeContext::mayEvaluate(int64_t numel) const {
  return numel <= options().hostEvaluationLimit;
}

Value NodeContext::materialize(const HostTensor &tensor, StringRef name) {
  if (name.empty() && numOutputs())
    name = nodeProto.output(0);
  return importer.materialize(b, location, tensor, name);
}

//===----------------------------------------------------------------------===//
// OpRegistry
//===----------------------------------------------------------------------===//

void OpRegistry::add(StringRef domain, StringRef opType, int sinceVersion,
                     OpImportFn fn) {
  auto &list = entries[(domain + "::" + opType).str()];
  list.push_back({sinceVersion, std::move(fn)});
  std::sort(list.begin(), list.end(),
            [](const Entry &a, const Entry &b) { return a.since < b.since; });
}

OpRegistry::Lookup OpRegistry::lookup(StringRef domain, StringRef opType,
                                      int opset) const {
  Lookup result;
  auto it = entries.find((domain + "::" + opType).str());
  if (it == entries.end())
    return result;
  result.oldestSupported = it->second.front().since;
  for (const Entry &e : it->second)
    if (e.since <= opset)
      result.fn = &e.fn;
  return result;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &e : entries) {
    auto [domain, op] = e.getKey().split("::");
    std::string versions;
    for (const Entry &entry : e.getValue())
      versions += (versions.empty() ? "" : ",") + std::to_string(entry.since);
    out.push_back((domain.empty() ? "ai.onnx" : domain).str() + " " + op.str() +
                  " since " + versions);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerShapeOps(r);
    registerNNOps(r);
    registerReductionOps(r);
    registerIndexingOps(r);
    registerQuantizationOps(r);
    registerContribNormOps(r);
    registerContribAttentionOps(r);
    registerMatMulNBits(r);
    return r;
  }();
  return registry;
}
