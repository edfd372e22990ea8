//===- GraphImporter.cpp - walks one ONNX graph into a function -----------===//

#include "lib/Import/GraphImporter.h"
#include "dialects/llm/ShapeTracing.h"
#include "lib/Import/IRHelpers.h"

#include "dialects/llm/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <string>
#include <vector>

using namespace mlir;
using namespace llmc;
using namespace llmc::onnx_import;

GraphImporter::GraphImporter(MLIRContext *ctx,
                             std::shared_ptr<onnx::ModelProto> model,
                             StringRef baseDir, StringRef displayName,
                             const OnnxImportOptions &options)
    : ctx(ctx), model(std::move(model)), baseDir(baseDir.str()),
      displayName(displayName.str()), opts(options) {}

ImportedValue *GraphImporter::lookup(const std::string &name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

void GraphImporter::define(const std::string &name, ImportedValue value) {
  values[name] = std::move(value);
}

Location GraphImporter::nodeLoc(const onnx::NodeProto &node) {
  std::string name = node.name();
  if (name.empty())
    name = node.output_size() ? node.output(0) : node.op_type();
  // The node name, inside the model file so that diagnostics name both.
  return NameLoc::get(StringAttr::get(ctx, name),
                      FileLineColLoc::get(ctx, displayName, 0, 0));
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Resource blob keys must be identifiers; ONNX names are anything.
static std::string resourceKey(StringRef name) {
  std::string key;
  for (char c : name)
    key.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (key.empty() || llvm::isDigit(key[0]))
    key.insert(key.begin(), '_');
  return key;
}

Value GraphImporter::materialize(OpBuilder &b, Location loc,
                                 const HostTensor &t, StringRef name) {
  Type element = toMlirType(t.dtype(), ctx);
  auto type = RankedTensorType::get(t.shape(), element);
  if (t.dtype() == DType::Bool) {
    SmallVector<bool> bits;
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      bits.push_back(t.getInt(i) != 0);
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, bits));
  }
  // Weights (initializers) go to blobs above a few elements; constants the
  // import computed (masks, index tables, rotary slices) stay readable up
  // to a larger size, so that passes see them even when blobs are elided.
  int64_t limit = initializerNames.contains(name)
                      ? opts.inlineElementLimit
                      : opts.computedInlineElementLimit;
  if (t.numel() <= limit || t.isSplat()) {
    if (t.isSplat() && t.numel() > 0) {
      TypedAttr scalar =
          isFloat(t.dtype())
              ? TypedAttr(b.getFloatAttr(element, t.getDouble(0)))
              : TypedAttr(b.getIntegerAttr(element, t.getInt(0)));
      return arith::ConstantOp::create(b, loc,
                                       DenseElementsAttr::get(type, scalar));
    }
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::getFromRawBuffer(type, t.bytes()));
  }
  // Large: a dense_resource blob that borrows the host tensor's memory.
  size_t align = dtypeSize(t.dtype());
  ArrayRef<char> data = t.bytes();
  std::shared_ptr<const void> owner = t.owner();
  if (reinterpret_cast<uintptr_t>(data.data()) % align != 0) {
    auto copy = std::make_shared<std::vector<char>>(data.begin(), data.end());
    data = ArrayRef<char>(*copy);
    owner = copy;
  }
  AsmResourceBlob blob(
      data, align, [owner](void *, size_t, size_t) mutable { owner.reset(); },
      /*dataIsMutable=*/false);
  std::string key = resourceKey(name.empty() ? "const" : name);
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, key, std::move(blob)));
}

Value GraphImporter::valueOf(ImportedValue &v, OpBuilder &b, Location loc,
                             StringRef name) {
  if (!v.value && v.constant)
    v.value = materialize(b, loc, *v.constant, name);
  if (!v.value && v.symbolic) {
    Type element = toMlirType(v.symbolic->dtype, ctx);
    SmallVector<Value> elements;
    for (OpFoldResult e : v.symbolic->elements) {
      Value index = getValueOrCreateConstantIndexOp(b, loc, e);
      elements.push_back(arith::IndexCastOp::create(b, loc, element, index));
    }
    auto type = RankedTensorType::get(v.symbolic->staticShape(), element);
    v.value = tensor::FromElementsOp::create(b, loc, type, elements);
  }
  return v.value;
}

OpFoldResult GraphImporter::dimSize(OpBuilder &b, Value v, int64_t d) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!ShapedType::isDynamic(type.getDimSize(d)))
    return b.getIndexAttr(type.getDimSize(d));
  Value root;
  int64_t rootDim;
  if (OpFoldResult traced = llm::traceDimSize(v, d, &root, &rootDim))
    return traced;
  v = root;
  d = rootDim;
  Value &cached = dimValues[{v, d}];
  if (!cached) {
    // At the definition of v, so that every later use is dominated.
    OpBuilder::InsertionGuard guard(b);
    if (Operation *def = v.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
    cached = tensor::DimOp::create(b, v.getLoc(), v, d);
  }
  return cached;
}

template <typename T>
static HostTensor fromRepeated(DType dtype, ArrayRef<int64_t> shape,
                               const T &field) {
  HostTensor t = HostTensor::zeros(dtype, shape);
  for (int64_t i = 0, n = std::min<int64_t>(t.numel(), field.size()); i < n;
       ++i) {
    if (isFloat(dtype) && dtype != DType::F16 && dtype != DType::BF16)
      t.setDouble(i, static_cast<double>(field.Get(i)));
    else
      t.setInt(i, static_cast<int64_t>(field.Get(i)));
  }
  return t;
}

FailureOr<HostTensor> GraphImporter::loadTensor(onnx::TensorProto &tensor,
                                                Location loc) {
  std::optional<DType> dtype = dtypeFromOnnx(tensor.data_type());
  if (!dtype)
    return emitError(loc) << "tensor '" << tensor.name()
                          << "' has unsupported data type "
                          << onnx::TensorProto_DataType_Name(
                                 static_cast<onnx::TensorProto_DataType>(
                                     tensor.data_type()));
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return emitError(loc)
             << "tensor '" << tensor.name() << "' has a negative dimension";
    numel *= d;
  }
  int64_t bytes = numel * dtypeSize(*dtype);
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return loadExternal(tensor, loc, *dtype, shape, bytes);
  if (tensor.has_raw_data()) {
    if (static_cast<int64_t>(tensor.raw_data().size()) != bytes)
      return emitError(loc)
             << "tensor '" << tensor.name() << "' has "
             << tensor.raw_data().size() << " bytes of raw data, expected "
             << bytes << " for " << dtypeName(*dtype) << " [" << numel
             << " elements]";
    // Take the bytes out of the protobuf instead of copying them.
    auto storage = std::make_shared<std::string>();
    storage->swap(*tensor.mutable_raw_data());
    return HostTensor(*dtype, shape,
                      ArrayRef<char>(storage->data(), storage->size()),
                      storage);
  }
  int64_t count = 0;
  HostTensor t;
  switch (*dtype) {
  case DType::F32:
    count = tensor.float_data_size();
    t = fromRepeated(*dtype, shape, tensor.float_data());
    break;
  case DType::F64:
    count = tensor.double_data_size();
    t = fromRepeated(*dtype, shape, tensor.double_data());
    break;
  case DType::I64:
    count = tensor.int64_data_size();
    t = fromRepeated(*dtype, shape, tensor.int64_data());
    break;
  case DType::F16:
  case DType::BF16: {
    // Stored as raw 16-bit patterns in int32_data.
    count = tensor.int32_data_size();
    t = HostTensor::zeros(*dtype, shape);
    char *dst = t.mutableData();
    for (int64_t i = 0; i < std::min<int64_t>(numel, count); ++i) {
      uint16_t bits = static_cast<uint16_t>(tensor.int32_data(i));
      std::memcpy(dst + 2 * i, &bits, 2);
    }
    break;
  }
  default:
    count = tensor.int32_data_size();
    t = fromRepeated(*dtype, shape, tensor.int32_data());
    break;
  }
  if (count != numel)
    return emitError(loc) << "tensor '" << tensor.name() << "' has " << count
                          << " values, expected " << numel;
  return t;
}

FailureOr<HostTensor> GraphImporter::loadExternal(onnx::TensorProto &tensor,
                                                  Location loc, DType dtype,
                                                  ArrayRef<int64_t> shape,
                                                  int64_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t v;
      if (StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return emitError(loc) << "tensor '" << tensor.name()
                              << "' has an invalid external data "
                              << entry.key() << " '" << entry.value() << "'";
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return emitError(loc) << "tensor '" << tensor.name()
                          << "' is external but names no location";
  if (llvm::sys::path::is_absolute(location) ||
      llvm::is_contained(llvm::make_range(llvm::sys::path::begin(location),
                                          llvm::sys::path::end(location)),
                         ".."))
    return emitError(loc)
           << "tensor '" << tensor.name() << "': external data location '"
           << location
           << "' must be a relative path inside the model's directory";
  SmallString<256> path(baseDir);
  llvm::sys::path::append(path, location);
  std::shared_ptr<llvm::MemoryBuffer> &file = externalFiles[path];
  if (!file) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return emitError(loc) << "tensor '" << tensor.name()
                            << "': cannot read external data file '" << path
                            << "': " << buffer.getError().message();
    file = std::move(*buffer);
  }
  if (length >= 0 && length != bytes)
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': external data length " << length
                          << " does not match its " << bytes << " bytes";
  int64_t size = file->getBufferSize();
  if (offset > size || bytes > size - offset)
    return emitError(loc) << "tensor '" << tensor.name() << "': external data ["
                          << offset << ", " << offset + bytes
                          << ") lies outside '" << location << "' (" << size
                          << " bytes)";
  return HostTensor(dtype, shape,
                    ArrayRef<char>(file->getBufferStart() + offset, bytes),
                    file);
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::checkOpsets(Location loc) {
  for (const auto &import : model->opset_import()) {
    std::string domain = import.domain() == "ai.onnx" ? "" : import.domain();
    opsets[domain] = static_cast<int>(import.version());
  }
  auto it = opsets.find("");
  if (it == opsets.end())
    return emitError(loc)
           << "the model imports no opset of the default ONNX domain";
  if (it->second < kMinOpset || it->second > kMaxOpset)
    return emitError(loc) << "ONNX opset " << it->second
                          << " (domain ai.onnx) is outside the supported range "
                          << kMinOpset << "-" << kMaxOpset;
  return success();
}

FailureOr<RankedTensorType>
GraphImporter::inputType(const onnx::ValueInfoProto &info, Location loc) {
  if (!info.type().has_tensor_type())
    return emitError(loc) << "graph input '" << info.name()
                          << "' is not a tensor";
  const auto &tt = info.type().tensor_type();
  std::optional<DType> dtype = dtypeFromOnnx(tt.elem_type());
  if (!dtype)
    return emitError(loc) << "graph input '" << info.name()
                          << "' has unsupported element type "
                          << tt.elem_type();
  SmallVector<int64_t> shape;
  for (const auto &dim : tt.shape().dim()) {
    if (dim.has_dim_value())
      shape.push_back(dim.dim_value());
    else if (dim.has_dim_param() && opts.dimValues.count(dim.dim_param()))
      shape.push_back(opts.dimValues.lookup(dim.dim_param()));
    else
      shape.push_back(ShapedType::kDynamic);
  }
  auto given = opts.inputShapes.find(info.name());
  if (given != opts.inputShapes.end()) {
    ArrayRef<int64_t> spec = given->second;
    if (spec.size() != shape.size())
      return emitError(loc)
             << "--input-shape for '" << info.name() << "' has rank "
             << spec.size() << " but the input has rank " << shape.size();
    for (size_t i = 0; i < spec.size(); ++i) {
      if (!ShapedType::isDynamic(shape[i]) && shape[i] != spec[i])
        return emitError(loc) << "--input-shape for '" << info.name()
                              << "' sets dimension " << i << " to " << spec[i]
                              << " but the model fixes it to " << shape[i];
      shape[i] = spec[i];
    }
  }
  return RankedTensorType::get(shape, toMlirType(*dtype, ctx));
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        OpBuilder &b) {
  Location loc = nodeLoc(node);
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opset = opsets.find(domain);
  int version = opset == opsets.end() ? 0 : opset->second;
  StringRef shownDomain = domain.empty() ? "ai.onnx" : StringRef(domain);
  auto found = OpRegistry::get().lookup(domain, node.op_type(), version);
  if (!found.fn) {
    InFlightDiagnostic diag = emitError(loc);
    diag << "unsupported ONNX op '" << node.op_type() << "' (domain '"
         << shownDomain << "', opset " << version << ") at node '"
         << node.name() << "'";
    if (found.oldestSupported)
      diag << ": llmc supports it from opset " << found.oldestSupported;
    return failure();
  }
  for (int i = 0; i < node.input_size(); ++i) {
    const std::string &name = node.input(i);
    if (!name.empty() && !lookup(name))
      return emitError(loc) << node.op_type() << " node '" << node.name()
                            << "': input " << i << " '" << name
                            << "' is not produced by any earlier node, graph "
                               "input or initializer";
  }
  NodeContext nodeCtx(*this, node, version, b, loc);
  if (failed((*found.fn)(nodeCtx)))
    return failure();
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() && !lookup(node.output(i)))
      return emitError(loc) << node.op_type() << " node '" << node.name()
                            << "': output " << i << " was not produced";
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  Location fileLoc = FileLineColLoc::get(ctx, displayName, 0, 0);
  if (failed(checkOpsets(fileLoc)))
    return nullptr;
  onnx::GraphProto &graph = *model->mutable_graph();

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module->getBody());

  // Initializers: host constants (and, in old IR versions, also inputs).
  for (onnx::TensorProto &init : *graph.mutable_initializer()) {
    Location loc = NameLoc::get(StringAttr::get(ctx, init.name()), fileLoc);
    auto tensor = loadTensor(init, loc);
    if (failed(tensor))
      return nullptr;
    initializerNames.insert(init.name());
    define(init.name(),
           ImportedValue{Value(), std::move(*tensor), std::nullopt});
  }

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    Location loc = NameLoc::get(StringAttr::get(ctx, input.name()), fileLoc);
    auto type = inputType(input, loc);
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
    argNames.push_back(input.name());
  }
  for (const auto &[name, shape] : opts.inputShapes)
    if (!llvm::is_contained(argNames, name.str()) && shape.size() != 1)
      return emitError(fileLoc) << "--input-shape names '" << name.str()
                                << "', which is not a graph input",
             nullptr;

  auto func = func::FuncOp::create(b, fileLoc, opts.functionName,
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, llm::LLMDialect::kNameAttrName, b.getStringAttr(name));
    define(name,
           ImportedValue{entry->getArgument(i), std::nullopt, std::nullopt});
  }

  b.setInsertionPointToEnd(entry);
  for (const onnx::NodeProto &node : graph.node())
    if (failed(importNode(node, b)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    ImportedValue *v = lookup(output.name());
    if (!v)
      return emitError(fileLoc) << "graph output '" << output.name()
                                << "' is not produced by any node",
             nullptr;
    Location loc = NameLoc::get(StringAttr::get(ctx, output.name()), fileLoc);
    results.push_back(valueOf(*v, b, loc, output.name()));
    resultTypes.push_back(results.back().getType());
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, llm::LLMDialect::kNameAttrName,
                       b.getStringAttr(output.name()));
  return module;
}
