//===- LowerToDevicePrograms.cpp - llm-lower-to-device-programs -----------===//
//
// Turns ops placed on NPU and PIM devices into llm.device_call ops of
// device programs (runtime/device/DeviceProgram.h) built from the device's
// description; what the format cannot express goes back to the host. See
// Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/ConstantData.h"
#include "dialects/llm/CostInterface.h"
#include "dialects/llm/EntryPoint.h"
#include "targets/common/TargetDescription.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMLOWERTODEVICEPROGRAMS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The row-major f32 values of a constant operand, or nothing.
std::optional<ArrayRef<float>> constantFloats(Value v) {
  auto constant = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  if (!constant || !cast<ShapedType>(constant.getType()).getElementType().isF32())
    return std::nullopt;
  std::optional<ArrayRef<char>> bytes =
      constantBytes(cast<ElementsAttr>(constant.getValue()));
  if (!bytes)
    return std::nullopt;
  return ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                         bytes->size() / sizeof(float));
}

/// The program of an f32 linear layer with constant weight [N, K] and
/// optional bias [N]: a matmul by Wᵀ [K, N], then a row add of the bias.
/// Nothing when the op is not of that form; `why` says what is missing.
std::optional<llmc::device::DeviceProgram>
linearProgram(LinearOp op, llmc::device::DeviceProgram program,
              std::string &why) {
  auto input = cast<RankedTensorType>(op.getInput().getType());
  if (!input.getElementType().isF32()) {
    why = "the device program format computes in f32";
    return std::nullopt;
  }
  std::optional<ArrayRef<float>> weight = constantFloats(op.getWeight());
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  if (!weight || weightType.getRank() != 2 ||
      int64_t(weight->size()) != weightType.getNumElements()) {
    why = "the weight is not a constant with its data";
    return std::nullopt;
  }
  std::optional<ArrayRef<float>> bias;
  if (op.getBias()) {
    bias = constantFloats(op.getBias());
    if (!bias) {
      why = "the bias is not a constant with its data";
      return std::nullopt;
    }
  }
  uint64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  program.inputCols = k;
  program.outputCols = n;
  program.arena.resize(k * n);
  for (uint64_t row = 0; row < n; ++row)
    for (uint64_t col = 0; col < k; ++col)
      program.arena[col * n + row] = (*weight)[row * k + col];
  program.constants.push_back({k, n, 0});
  program.instructions.push_back({llmc::device::Opcode::Matmul, 0});
  if (bias) {
    program.constants.push_back({1, n, k * n});
    program.arena.insert(program.arena.end(), bias->begin(), bias->end());
    program.instructions.push_back({llmc::device::Opcode::AddRow, 1});
  }
  return program;
}

struct LowerToDeviceProgramsPass
    : public llm::impl::LLMLowerToDeviceProgramsBase<
          LowerToDeviceProgramsPass> {
  using Base::Base;
  void runOnOperation() override;
};

void LowerToDeviceProgramsPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = module.getContext();
  llvm::Expected<Machine> machine = loadMachine(target);
  if (!machine) {
    module.emitError() << "llm-lower-to-device-programs: "
                       << llvm::toString(machine.takeError());
    return signalPassFailure();
  }
  SmallVector<Attribute> programs;
  if (auto existing =
          module->getAttrOfType<ArrayAttr>(LLMDialect::kDeviceProgramsAttrName))
    programs.append(existing.begin(), existing.end());
  bool failed = false;
  SmallVector<Operation *> placed;
  module.walk([&](Operation *op) {
    if (placedDevice(op) && !isa<func::FuncOp>(op))
      placed.push_back(op);
  });
  for (Operation *op : placed) {
    DeviceAttr device = placedDevice(op);
    std::optional<unsigned> index =
        machine->find(device.getKind(), device.getIndex());
    if (!index) {
      op->emitError() << "placed on " << device << ", which machine '"
                      << machine->name << "' does not have";
      failed = true;
      continue;
    }
    const Device &d = machine->devices[*index];
    // The op's work for one row (a batch-1 decode step): the device
    // model's estimate, and the mesh's plan, are for it.
    auto linear = dyn_cast<LinearOp>(op);
    OpCost cost;
    if (linear)
      cost = cast<CostOpInterface>(op).getCost([](Value v, int64_t dim) {
        int64_t size = cast<ShapedType>(v.getType()).getDimSize(dim);
        return ShapedType::isDynamic(size) ? int64_t(1) : size;
      });
    std::optional<llmc::device::DeviceProgram> program;
    std::string why;
    if (*index != machine->host && linear)
      if (auto empty = d.model->programTemplate(cost))
        program = linearProgram(linear, std::move(*empty), why);
    if (!program) {
      // Runs on the host (see Passes.td): nothing the device can run.
      op->removeAttr(LLMDialect::kDeviceAttrName);
      continue;
    }
    CostEstimate estimate = d.estimate(cost);

    OpBuilder b(op);
    Location loc = op->getLoc();
    auto resultType = cast<RankedTensorType>(linear.getType());
    SmallVector<Value> dynamicSizes;
    for (int64_t dim = 0; dim < resultType.getRank(); ++dim)
      if (resultType.isDynamicDim(dim))
        dynamicSizes.push_back(
            tensor::DimOp::create(b, loc, linear.getInput(), dim));
    Value init = tensor::EmptyOp::create(b, loc, resultType, dynamicSizes);
    auto call = DeviceCallOp::create(b, loc, resultType, linear.getInput(),
                                     init, device,
                                     b.getI64IntegerAttr(programs.size()));
    std::vector<uint8_t> bytes = llmc::device::serializeDeviceProgram(*program);
    auto bytesType = RankedTensorType::get({int64_t(bytes.size())},
                                           IntegerType::get(ctx, 8));
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size()),
        alignof(uint64_t), /*dataIsMutable=*/false);
    std::string name = llvm::formatv("device_program_{0}", programs.size());
    NamedAttribute entries[] = {
        b.getNamedAttr("device", device),
        b.getNamedAttr("op", b.getStringAttr(op->getName().getStringRef())),
        b.getNamedAttr(
            "shape", b.getStringAttr(llvm::formatv(
                         "{0}x{1}", program->inputCols, program->outputCols))),
        b.getNamedAttr("decode_estimate_seconds",
                       b.getF64FloatAttr(estimate.seconds)),
        b.getNamedAttr("bytes", DenseResourceElementsAttr::get(
                                    bytesType, name, std::move(blob))),
    };
    programs.push_back(b.getDictionaryAttr(entries));
    op->replaceAllUsesWith(call);
    op->erase();
  }
  if (failed)
    return signalPassFailure();
  if (!programs.empty())
    module->setAttr(LLMDialect::kDeviceProgramsAttrName,
                    ArrayAttr::get(ctx, programs));
}

} // namespace
