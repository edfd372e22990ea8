//===- ConstantData.cpp - the bytes of tensor constants -------------------===//

#include "dialects/llm/ConstantData.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

std::optional<ArrayRef<char>> mlir::llm::constantBytes(ElementsAttr attr) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.isSplat() ? std::nullopt
                           : std::optional<ArrayRef<char>>(dense.getRawData());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
  return std::nullopt;
}

Value mlir::llm::bytesConstant(OpBuilder &builder, Location loc,
                               RankedTensorType type, StringRef name,
                               ArrayRef<char> bytes) {
  size_t align = std::max<size_t>(1, type.getElementTypeBitWidth() / 8);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      bytes, align, /*dataIsMutable=*/true);
  return arith::ConstantOp::create(
      builder, loc,
      DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

std::string mlir::llm::constantName(arith::ConstantOp constant,
                                    StringRef fallback) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
    return resource.getRawHandle().getKey().str();
  return fallback.str();
}

Value mlir::llm::relayoutConstant(
    OpBuilder &builder, Location loc, arith::ConstantOp constant,
    ArrayRef<int64_t> shape,
    function_ref<int64_t(ArrayRef<int64_t> index)> sourceIndex,
    StringRef suffix) {
  auto attr = dyn_cast<ElementsAttr>(constant.getValue());
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!attr || !type || !type.hasStaticShape())
    return {};
  unsigned bits = type.getElementTypeBitWidth();
  std::optional<ArrayRef<char>> bytes = constantBytes(attr);
  if (!bytes || bits % 8 != 0)
    return {};
  size_t size = bits / 8;
  if (static_cast<int64_t>(bytes->size()) !=
      type.getNumElements() * static_cast<int64_t>(size))
    return {};
  auto newType = RankedTensorType::get(shape, type.getElementType());
  int64_t count = newType.getNumElements();
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(count * size, size);
  char *dst = blob.getMutableData().data();
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t from = sourceIndex(index);
    if (from >= 0)
      std::memcpy(dst + i * size, bytes->data() + from * size, size);
    else
      std::memset(dst + i * size, 0, size);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  std::string name = ("weight" + suffix).str();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    name = (resource.getRawHandle().getKey() + suffix).str();
  return arith::ConstantOp::create(
      builder, loc,
      DenseResourceElementsAttr::get(newType, name, std::move(blob)));
}

Value mlir::llm::transposeConstant(OpBuilder &builder, Location loc,
                                   arith::ConstantOp constant,
                                   StringRef suffix) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return {};
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  return relayoutConstant(
      builder, loc, constant, {cols, rows},
      [&](ArrayRef<int64_t> i) { return i[1] * cols + i[0]; }, suffix);
}
