//===- HostTensor.cpp - constant tensors the importer evaluates -----------===//

#include "lib/Import/HostTensor.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/APFloat.h"

#include <cstring>
#include <vector>

using namespace llmc::onnx_import;

std::optional<DType> llmc::onnx_import::dtypeFromOnnx(int code) {
  switch (code) {
  case 1:
  case 2:
  case 3:
  case 5:
  case 6:
  case 7:
  case 9:
  case 10:
  case 11:
  case 16:
    return static_cast<DType>(code);
  default:
    return std::nullopt;
  }
}

const char *llmc::onnx_import::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "float32";
  case DType::U8:
    return "uint8";
  case DType::I8:
    return "int8";
  case DType::I16:
    return "int16";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  case DType::Bool:
    return "bool";
  case DType::F16:
    return "float16";
  case DType::F64:
    return "float64";
  case DType::BF16:
    return "bfloat16";
  }
  return "?";
}

size_t llmc::onnx_import::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::U8:
  case DType::I8:
  case DType::Bool:
    return 1;
  case DType::I16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::I64:
  case DType::F64:
    return 8;
  }
  return 1;
}

bool llmc::onnx_import::isFloat(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::F64 ||
         dtype == DType::BF16;
}

mlir::Type llmc::onnx_import::toMlirType(DType dtype, mlir::MLIRContext *ctx) {
  mlir::Builder b(ctx);
  switch (dtype) {
  case DType::F32:
    return b.getF32Type();
  case DType::F16:
    return b.getF16Type();
  case DType::BF16:
    return b.getBF16Type();
  case DType::F64:
    return b.getF64Type();
  case DType::I64:
    return b.getI64Type();
  case DType::I32:
    return b.getI32Type();
  case DType::I16:
    return b.getI16Type();
  case DType::I8:
    return b.getI8Type();
  // Unsigned bytes keep their signedness in the tensor type (ui8); the
  // handlers that compute on them bitcast to signless first.
  case DType::U8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case DType::Bool:
    return b.getI1Type();
  }
  return {};
}

std::optional<DType> llmc::onnx_import::dtypeFromMlir(mlir::Type type) {
  if (type.isF32())
    return DType::F32;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (type.isF64())
    return DType::F64;
  if (type.isInteger(64))
    return DType::I64;
  if (type.isInteger(32))
    return DType::I32;
  if (type.isInteger(16))
    return DType::I16;
  if (type.isUnsignedInteger(8))
    return DType::U8;
  if (type.isInteger(8))
    return DType::I8;
  if (type.isInteger(1))
    return DType::Bool;
  return std::nullopt;
}

llvm::SmallVector<int64_t>
llmc::onnx_import::stridesOf(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

HostTensor::HostTensor(DType dtype, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<char> bytes,
                       std::shared_ptr<const void> owner)
    : type(dtype), dims(shape.begin(), shape.end()), data(bytes),
      keepAlive(std::move(owner)) {}

HostTensor HostTensor::zeros(DType dtype, llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  auto storage = std::make_shared<std::vector<char>>(n * dtypeSize(dtype), 0);
  HostTensor t(dtype, shape, llvm::ArrayRef<char>(*storage), storage);
  t.owned = true;
  return t;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

char *HostTensor::mutableData() {
  assert(owned && "writing into a borrowed tensor");
  return const_cast<char *>(data.data());
}

template <typename T> static T load(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T> static void store(char *p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

static double halfToDouble(uint16_t bits, const llvm::fltSemantics &sem) {
  llvm::APFloat f(sem, llvm::APInt(16, bits));
  return f.convertToDouble();
}

static uint16_t doubleToHalf(double v, const llvm::fltSemantics &sem) {
  llvm::APFloat f(v);
  bool lost;
  f.convert(sem, llvm::APFloat::rmNearestTiesToEven, &lost);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

double HostTensor::getDouble(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(type);
  switch (type) {
  case DType::F32:
    return load<float>(p);
  case DType::F64:
    return load<double>(p);
  case DType::F16:
    return halfToDouble(load<uint16_t>(p), llvm::APFloat::IEEEhalf());
  case DType::BF16:
    return halfToDouble(load<uint16_t>(p), llvm::APFloat::BFloat());
  default:
    return static_cast<double>(getInt(i));
  }
}

int64_t HostTensor::getInt(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(type);
  switch (type) {
  case DType::I64:
    return load<int64_t>(p);
  case DType::I32:
    return load<int32_t>(p);
  case DType::I16:
    return load<int16_t>(p);
  case DType::I8:
    return load<int8_t>(p);
  case DType::U8:
    return load<uint8_t>(p);
  case DType::Bool:
    return load<uint8_t>(p) != 0;
  default:
    return static_cast<int64_t>(getDouble(i));
  }
}

void HostTensor::setDouble(int64_t i, double v) {
  char *p = mutableData() + i * dtypeSize(type);
  switch (type) {
  case DType::F32:
    return store<float>(p, static_cast<float>(v));
  case DType::F64:
    return store<double>(p, v);
  case DType::F16:
    return store<uint16_t>(p, doubleToHalf(v, llvm::APFloat::IEEEhalf()));
  case DType::BF16:
    return store<uint16_t>(p, doubleToHalf(v, llvm::APFloat::BFloat()));
  default:
    return setInt(i, static_cast<int64_t>(v));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  char *p = mutableData() + i * dtypeSize(type);
  switch (type) {
  case DType::I64:
    return store<int64_t>(p, v);
  case DType::I32:
    return store<int32_t>(p, static_cast<int32_t>(v));
  case DType::I16:
    return store<int16_t>(p, static_cast<int16_t>(v));
  case DType::I8:
    return store<int8_t>(p, static_cast<int8_t>(v));
  case DType::U8:
    return store<uint8_t>(p, static_cast<uint8_t>(v));
  case DType::Bool:
    return store<uint8_t>(p, v != 0);
  default:
    return setDouble(i, static_cast<double>(v));
  }
}

llvm::SmallVector<int64_t> HostTensor::toInts() const {
  llvm::SmallVector<int64_t> out;
  for (int64_t i = 0, n = numel(); i < n; ++i)
    out.push_back(getInt(i));
  return out;
}

bool HostTensor::isSplat() const {
  size_t size = dtypeSize(type);
  for (int64_t i = 1, n = numel(); i < n; ++i)
    if (std::memcmp(data.data(), data.data() + i * size, size) != 0)
      return false;
  return true;
}

HostTensor HostTensor::reshaped(llvm::ArrayRef<int64_t> shape) const {
  HostTensor t = *this;
  t.dims.assign(shape.begin(), shape.end());
  return t;
}
