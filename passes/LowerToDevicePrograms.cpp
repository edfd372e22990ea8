//===- LowerToDevicePrograms.cpp - llm-lower-to-device-programs -----------===//
//
// Turns runs of ops placed on NPU, PIM and mesh devices into llm.device_call
// ops of device programs (runtime/device/DeviceProgram.h) built from the
// device's description; what the format cannot express goes back to the
// host. See Passes.td.
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
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

namespace mlir::llm {
#define GEN_PASS_DEF_LLMLOWERTODEVICEPROGRAMS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;
namespace device = llmc::device;

namespace {

/// The row-major f32 values of a constant operand, or nothing.
std::optional<ArrayRef<float>> constantFloats(Value v) {
  auto constant = v ? v.getDefiningOp<arith::ConstantOp>() : nullptr;
  if (!constant ||
      !cast<ShapedType>(constant.getType()).getElementType().isF32())
    return std::nullopt;
  std::optional<ArrayRef<char>> bytes =
      constantBytes(cast<ElementsAttr>(constant.getValue()));
  if (!bytes || int64_t(bytes->size() / sizeof(float)) !=
                    cast<ShapedType>(constant.getType()).getNumElements())
    return std::nullopt;
  return ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                         bytes->size() / sizeof(float));
}

/// An f32 tensor of rank ≥ 1 with a static last dimension: a value a
/// program holds as rows × columns.
bool isMatrixLike(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getElementType().isF32() && t.getRank() >= 1 &&
         !t.isDynamicDim(t.getRank() - 1);
}

/// The opcode `op` becomes, if the format can express it: the activation
/// operands are matrix-like and every other operand a constant with data.
std::optional<device::Opcode> opcodeOf(Operation *op) {
  // Attention over a cache the step already holds (no past operands).
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    bool f32 = llvm::all_of(op->getOperandTypes(), [](Type t) {
      return cast<RankedTensorType>(t).getElementType().isF32();
    });
    if (f32 && !attention.getPastKey() && op->getNumResults() == 1 &&
        cast<RankedTensorType>(attention.getQuery().getType()).getRank() == 4 &&
        succeeded(attention.getEffectiveScale()))
      return device::Opcode::Attention;
    return std::nullopt;
  }
  if (isa<RopeOp>(op) && llvm::all_of(op->getOperandTypes(), [](Type t) {
        return cast<RankedTensorType>(t).getElementType().isF32();
      }))
    return device::Opcode::Rope;
  if (op->getNumResults() != 1 || !isMatrixLike(op->getResult(0).getType()))
    return std::nullopt;
  if (auto linear = dyn_cast<LinearOp>(op)) {
    auto weight = cast<RankedTensorType>(linear.getWeight().getType());
    if (isMatrixLike(linear.getInput().getType()) && weight.getRank() == 2 &&
        constantFloats(linear.getWeight()) &&
        (!linear.getBias() || constantFloats(linear.getBias())))
      return device::Opcode::Matmul;
    return std::nullopt;
  }
  if (auto norm = dyn_cast<RMSNormOp>(op))
    return constantFloats(norm.getWeight())
               ? std::optional(device::Opcode::RmsNorm)
               : std::nullopt;
  if (isa<SiluOp>(op))
    return device::Opcode::Silu;
  // Same-shape elementwise products and sums of two activations.
  if (isa<arith::MulFOp, arith::AddFOp>(op) &&
      op->getOperand(0).getType() == op->getOperand(1).getType() &&
      !op->getOperand(0).getDefiningOp<arith::ConstantOp>() &&
      !op->getOperand(1).getDefiningOp<arith::ConstantOp>())
    return isa<arith::MulFOp>(op) ? device::Opcode::Mul : device::Opcode::Add;
  return std::nullopt;
}

/// The activation operands of an op of the format (not its constants).
SmallVector<Value> activations(Operation *op) {
  if (auto linear = dyn_cast<LinearOp>(op))
    return {linear.getInput()};
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    SmallVector<Value> operands = {attention.getQuery(), attention.getKey(),
                                   attention.getValue()};
    if (attention.getMask())
      operands.push_back(attention.getMask());
    return operands;
  }
  if (auto norm = dyn_cast<RMSNormOp>(op))
    return {norm.getInput()};
  return SmallVector<Value>(op->getOperands());
}

/// The leading dimensions of a value (all but the last): every value of a
/// program has the same ones (the rows).
ArrayRef<int64_t> leadingShape(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape().drop_back();
}

/// A run of ops on one device, in program order, that one program runs.
struct Group {
  DeviceAttr device;
  const Device *target = nullptr;
  SmallVector<Operation *> ops;

  bool contains(Operation *op) const { return llvm::is_contained(ops, op); }
  bool defines(Value v) const {
    return v.getDefiningOp() && contains(v.getDefiningOp());
  }
  /// Values from outside, in order of first use.
  SmallVector<Value> inputs() const {
    llvm::SetVector<Value> in;
    for (Operation *op : ops)
      for (Value v : activations(op))
        if (!defines(v))
          in.insert(v);
    return in.takeVector();
  }
  /// Values used after the group.
  SmallVector<Value> outputs() const {
    SmallVector<Value> out;
    for (Operation *op : ops)
      if (llvm::any_of(op->getResult(0).getUsers(),
                       [&](Operation *user) { return !contains(user); }))
        out.push_back(op->getResult(0));
    return out;
  }
};

struct LowerToDeviceProgramsPass
    : public llm::impl::LLMLowerToDeviceProgramsBase<
          LowerToDeviceProgramsPass> {
  using Base::Base;
  void runOnOperation() override;

  /// Splits the block into groups of ops a program can run.
  SmallVector<Group> findGroups(Block &block, const Machine &machine);
  /// Builds the group's program, replaces its ops by a device call and
  /// appends the program's entry to `programs`.
  void emit(Group &group, SmallVector<Attribute> &programs);
};

SmallVector<Group>
LowerToDeviceProgramsPass::findGroups(Block &block, const Machine &machine) {
  SmallVector<Group> groups;
  std::optional<Group> current;
  auto flush = [&]() {
    if (current && !current->ops.empty())
      groups.push_back(std::move(*current));
    current.reset();
  };
  for (Operation &op : block.without_terminator()) {
    DeviceAttr placed = placedDevice(&op);
    std::optional<unsigned> index =
        placed ? machine.find(placed.getKind(), placed.getIndex())
               : std::nullopt;
    std::optional<device::Opcode> opcode = opcodeOf(&op);
    const Device *target =
        index && *index != machine.host ? &machine.devices[*index] : nullptr;
    std::optional<device::DeviceProgram> kind =
        target && opcode ? target->model->programTemplate(OpCost())
                         : std::nullopt;
    bool programmable = kind && device::runsOn(kind->kind, *opcode);
    // Attention and RoPE work on tensors, not rows: programs of their own.
    if (programmable && (*opcode == device::Opcode::Attention ||
                         *opcode == device::Opcode::Rope)) {
      flush();
      groups.push_back(Group{placed, target, {&op}});
      continue;
    }
    if (programmable && current && current->device == placed &&
        leadingShape(op.getResult(0)) ==
            leadingShape(current->ops.front()->getResult(0))) {
      Group grown = *current;
      grown.ops.push_back(&op);
      if (grown.inputs().size() + grown.outputs().size() <=
          device::kMaxBuffers) {
        current = std::move(grown);
        continue;
      }
    }
    // An op that neither joins nor touches the group (a constant, a size,
    // an empty tensor) leaves it open: the call goes where its last op is.
    bool touches = current && llvm::any_of(op.getOperands(), [&](Value v) {
                     return current->defines(v);
                   });
    if (!programmable && !touches && isPure(&op) && op.getNumRegions() == 0)
      continue;
    flush();
    if (programmable) {
      current = Group{placed, target, {&op}};
      if (current->inputs().size() + current->outputs().size() >
          device::kMaxBuffers)
        current.reset();
    }
  }
  flush();
  return groups;
}

void LowerToDeviceProgramsPass::emit(Group &group,
                                     SmallVector<Attribute> &programs) {
  MLIRContext *ctx = &getContext();
  SmallVector<Value> inputs = group.inputs(), outputs = group.outputs();
  // Values: inputs, outputs, temporaries.
  llvm::MapVector<Value, uint32_t> values;
  for (Value v : llvm::concat<Value>(inputs, outputs))
    values.insert({v, values.size()});
  for (Operation *op : group.ops)
    values.insert({op->getResult(0), values.size()});
  // The work of every op for one row (a batch-1 decode step): the mesh's
  // plan and the estimate are for it. Attention's keys are the context
  // placement assumed.
  int64_t context = 128;
  if (auto placement =
          group.ops.front()
              ->getParentOfType<func::FuncOp>()
              ->getAttrOfType<DictionaryAttr>(LLMDialect::kPlacementAttrName))
    if (auto c = placement.getAs<IntegerAttr>("context"))
      context = c.getInt();
  auto attention = dyn_cast<AttentionOp>(group.ops.front());
  auto oneRow = [&](Value v, int64_t dim) {
    int64_t size = cast<ShapedType>(v.getType()).getDimSize(dim);
    if (!ShapedType::isDynamic(size))
      return size;
    bool keys =
        attention &&
        (((v == attention.getKey() || v == attention.getValue()) && dim == 2) ||
         (v == attention.getMask() && dim == 3));
    return keys ? context : int64_t(1);
  };
  // The model charges each op its launch; the program launches once.
  OpCost largest;
  double estimate = 0, launch = 0;
  std::map<std::string, int> opCounts;
  for (Operation *op : group.ops) {
    auto costOp = dyn_cast<CostOpInterface>(op);
    std::optional<OpCost> cost =
        costOp ? costOp.getCost(oneRow) : estimateOpCost(op, oneRow);
    if (cost) {
      CostEstimate e = group.target->estimate(*cost);
      estimate += e.seconds - e.overheadSeconds;
      launch = std::max(launch, e.overheadSeconds);
      if (cost->flops > largest.flops)
        largest = *cost;
    }
    ++opCounts[op->getName().getStringRef().str()];
  }
  estimate += launch;
  device::DeviceProgram program =
      *group.target->model->programTemplate(largest);
  program.inputs = inputs.size();
  program.outputs = outputs.size();
  // Attention's operands are tensors shaped at launch (0 columns).
  bool tensors = attention || isa<RopeOp>(group.ops.front());
  for (auto &[v, index] : values)
    program.valueCols.push_back(
        tensors ? 0 : cast<RankedTensorType>(v.getType()).getShape().back());
  auto addConstant = [&](ArrayRef<float> data, uint64_t rows, uint64_t cols) {
    program.constants.push_back({rows, cols, program.arena.size()});
    program.arena.insert(program.arena.end(), data.begin(), data.end());
    return uint32_t(program.constants.size() - 1);
  };
  for (Operation *op : group.ops) {
    device::Instruction ins;
    ins.opcode = *opcodeOf(op);
    ins.dst = values.lookup(op->getResult(0));
    SmallVector<Value> operands = activations(op);
    ins.a = values.lookup(operands[0]);
    ins.b = operands.size() > 1 ? values.lookup(operands[1]) : 0;
    if (auto linear = dyn_cast<LinearOp>(op)) {
      // The array streams rows against W's [K, N] tiles: store Wᵀ.
      ArrayRef<float> w = *constantFloats(linear.getWeight());
      auto type = cast<RankedTensorType>(linear.getWeight().getType());
      uint64_t n = type.getDimSize(0), k = type.getDimSize(1);
      std::vector<float> transposed(k * n);
      for (uint64_t row = 0; row < n; ++row)
        for (uint64_t col = 0; col < k; ++col)
          transposed[col * n + row] = w[row * k + col];
      ins.constant = addConstant(transposed, k, n);
      program.instructions.push_back(ins);
      if (linear.getBias()) {
        device::Instruction add;
        add.opcode = device::Opcode::AddRow;
        add.dst = add.a = ins.dst;
        add.constant = addConstant(*constantFloats(linear.getBias()), 1, n);
        program.instructions.push_back(add);
      }
      continue;
    }
    if (attention) { // the group's only op
      ins.c = values.lookup(operands[2]);
      ins.d =
          operands.size() > 3 ? values.lookup(operands[3]) : device::kNoValue;
      ins.flags = attention.getCausal() ? 1 : 0;
      ins.window = attention.getSlidingWindow().value_or(0);
      ins.imm = *attention.getEffectiveScale();
    }
    if (auto rope = dyn_cast<RopeOp>(op)) {
      ins.c = values.lookup(operands[2]);
      ins.flags = rope.getInterleaved() ? 1 : 0;
    }
    if (auto norm = dyn_cast<RMSNormOp>(op)) {
      ArrayRef<float> gamma = *constantFloats(norm.getWeight());
      ins.constant = addConstant(gamma, 1, gamma.size());
      ins.imm = norm.getEpsilon().convertToFloat();
    }
    program.instructions.push_back(ins);
  }

  // Described before the ops go.
  std::vector<uint8_t> bytes = device::serializeDeviceProgram(program);
  auto bytesType =
      RankedTensorType::get({int64_t(bytes.size())}, IntegerType::get(ctx, 8));
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(reinterpret_cast<const char *>(bytes.data()),
                     bytes.size()),
      alignof(uint64_t), /*dataIsMutable=*/false);
  std::string ops;
  for (auto &[name, count] : opCounts)
    ops += (ops.empty() ? "" : " ") + name +
           (count > 1 ? " x" + std::to_string(count) : "");
  // Columns of matrices; whole shapes (? dynamic) of tensors.
  auto columns = [&](ArrayRef<Value> vs) {
    std::string text;
    for (Value v : vs) {
      ArrayRef<int64_t> shape = cast<RankedTensorType>(v.getType()).getShape();
      std::string one;
      for (int64_t size : tensors ? shape : shape.take_back())
        one += (one.empty() ? "" : "x") +
               (ShapedType::isDynamic(size) ? "?" : std::to_string(size));
      text += (text.empty() ? "" : ",") + one;
    }
    return text;
  };
  std::string shape = columns(inputs) + " -> " + columns(outputs);

  // The call, where the group's last op was; the results' leading sizes
  // are the first input's.
  Operation *last = group.ops.back();
  OpBuilder b(last);
  Location loc = last->getLoc();
  SmallVector<Value> inits;
  for (Value out : outputs) {
    auto type = cast<RankedTensorType>(out.getType());
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      // Attention's output is [B, Hq, T] of the query by Dv of the values.
      Value source = attention && d == 3 ? inputs[2] : inputs.front();
      sizes.push_back(tensor::DimOp::create(b, loc, source, d));
    }
    inits.push_back(tensor::EmptyOp::create(b, loc, type, sizes));
  }
  auto call =
      DeviceCallOp::create(b, loc, TypeRange(ValueRange(inits)), inputs, inits,
                           group.device, b.getI64IntegerAttr(programs.size()));
  for (auto [out, result] : llvm::zip(outputs, call.getResults()))
    out.replaceAllUsesWith(result);
  for (Operation *op : llvm::reverse(group.ops))
    op->erase();

  NamedAttribute entries[] = {
      b.getNamedAttr("device", group.device),
      b.getNamedAttr("ops", b.getStringAttr(ops)),
      b.getNamedAttr("op_count", b.getI64IntegerAttr(group.ops.size())),
      b.getNamedAttr("shape", b.getStringAttr(shape)),
      b.getNamedAttr("decode_estimate_seconds", b.getF64FloatAttr(estimate)),
      b.getNamedAttr(
          "bytes",
          DenseResourceElementsAttr::get(
              bytesType,
              llvm::formatv("device_program_{0}", programs.size()).str(),
              std::move(blob))),
  };
  programs.push_back(b.getDictionaryAttr(entries));
}

void LowerToDeviceProgramsPass::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Expected<Machine> machine = loadMachine(target);
  if (!machine) {
    module.emitError() << "llm-lower-to-device-programs: "
                       << llvm::toString(machine.takeError());
    return signalPassFailure();
  }
  bool failed = false;
  module.walk([&](Operation *op) {
    DeviceAttr device = placedDevice(op);
    if (device && !machine->find(device.getKind(), device.getIndex())) {
      op->emitError() << "placed on " << device << ", which machine '"
                      << machine->name << "' does not have";
      failed = true;
    }
  });
  if (failed)
    return signalPassFailure();

  SmallVector<Attribute> programs;
  if (auto existing =
          module->getAttrOfType<ArrayAttr>(LLMDialect::kDeviceProgramsAttrName))
    programs.append(existing.begin(), existing.end());
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isExternal())
      continue;
    for (Group &group : findGroups(fn.getBody().front(), *machine))
      emit(group, programs);
  }
  // Everything else runs on the host (see Passes.td).
  module.walk([](Operation *op) {
    if (!isa<func::FuncOp>(op))
      op->removeAttr(LLMDialect::kDeviceAttrName);
  });
  if (!programs.empty())
    module->setAttr(LLMDialect::kDeviceProgramsAttrName,
                    ArrayAttr::get(&getContext(), programs));
}

} // namespace
