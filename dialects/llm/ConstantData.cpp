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

Value mlir::llm::transposeConstant(OpBuilder &builder, Location loc,
                                   arith::ConstantOp constant,
                                   StringRef suffix) {
  auto attr = dyn_cast<ElementsAttr>(constant.getValue());
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!attr || !type || type.getRank() != 2 || !type.hasStaticShape())
    return {};
  unsigned bits = type.getElementTypeBitWidth();
  std::optional<ArrayRef<char>> bytes = constantBytes(attr);
  if (!bytes || bits % 8 != 0)
    return {};
  size_t size = bits / 8;
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  if (static_cast<int64_t>(bytes->size()) !=
      rows * cols * static_cast<int64_t>(size))
    return {};
  auto transposedType =
      RankedTensorType::get({cols, rows}, type.getElementType());
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(bytes->size(), size);
  char *dst = blob.getMutableData().data();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      std::memcpy(dst + (j * rows + i) * size,
                  bytes->data() + (i * cols + j) * size, size);
  std::string name = ("weight" + suffix).str();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    name = (resource.getRawHandle().getKey() + suffix).str();
  return arith::ConstantOp::create(
      builder, loc,
      DenseResourceElementsAttr::get(transposedType, name, std::move(blob)));
}
