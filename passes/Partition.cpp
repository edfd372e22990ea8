//===- Partition.cpp - llm-partition --------------------------------------===//
//
// Outlines every maximal run of consecutive same-device ops into a private
// function (one device program each, for the per-target lowerings) and
// makes every device crossing an explicit llm.transfer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/CostInterface.h"
#include "dialects/llm/EntryPoint.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

#include <set>

namespace mlir::llm {
#define GEN_PASS_DEF_LLMPARTITION
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct PartitionPass : public llm::impl::LLMPartitionBase<PartitionPass> {
  void runOnOperation() override;
  LogicalResult partition(func::FuncOp func, SymbolTable &symbols);
};

/// Constants and values computed from constants only (weight transposes,
/// tensor.empty): each segment gets its own copy.
bool isCompileTime(Operation *op) {
  return op->hasTrait<OpTrait::ConstantLike>() ||
         (op->getNumResults() > 0 &&
          llvm::all_of(op->getResults(), isCompileTimeValue));
}

/// Reorders the block (keeping every def before its uses) so that ops on
/// one device come together: the next op is the first ready one on the
/// device of the op just placed, else the first ready one. Placement lets
/// devices run concurrently, so program order interleaves them more than
/// the dependences require; this keeps the segments few.
void clusterByDevice(Block &body) {
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    if (!isCompileTime(&op))
      ops.push_back(&op);
  DenseMap<Operation *, unsigned> position;
  for (auto [i, op] : llvm::enumerate(ops))
    position[op] = i;
  // Producers inside the block of every op (operands of nested ops too).
  std::vector<unsigned> waiting(ops.size(), 0);
  std::vector<SmallVector<unsigned>> consumers(ops.size());
  for (auto [i, op] : llvm::enumerate(ops)) {
    llvm::SmallDenseSet<unsigned> producers;
    op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (Operation *def = operand.getDefiningOp())
          if (Operation *top = body.findAncestorOpInBlock(*def))
            if (auto it = position.find(top); it != position.end() && top != op)
              producers.insert(it->second);
    });
    waiting[i] = producers.size();
    for (unsigned p : producers)
      consumers[p].push_back(i);
  }
  std::set<unsigned> ready;
  for (unsigned i = 0; i < ops.size(); ++i)
    if (!waiting[i])
      ready.insert(i);
  Attribute current;
  Operation *terminator = body.getTerminator();
  while (!ready.empty()) {
    unsigned next = *ready.begin();
    for (unsigned i : ready)
      if (current && placedDevice(ops[i]) == current) {
        next = i;
        break;
      }
    ready.erase(next);
    ops[next]->moveBefore(terminator);
    if (Attribute device = placedDevice(ops[next]))
      current = device;
    for (unsigned c : consumers[next])
      if (--waiting[c] == 0)
        ready.insert(c);
  }
}

/// `op` and the compile-time ops it is computed from.
void collectCompileTime(Operation *op, llvm::SetVector<Operation *> &into) {
  if (!into.insert(op))
    return;
  for (Value operand : op->getOperands())
    if (Operation *def = operand.getDefiningOp())
      collectCompileTime(def, into);
}

} // namespace

LogicalResult PartitionPass::partition(func::FuncOp func,
                                       SymbolTable &symbols) {
  Block &body = func.getBody().front();
  bool anyPlaced = false;
  for (Operation &op : body.without_terminator()) {
    if (isCompileTime(&op))
      continue;
    anyPlaced |= bool(placedDevice(&op));
  }
  if (!anyPlaced)
    return success();
  for (Operation &op : body.without_terminator())
    if (!isCompileTime(&op) && !placedDevice(&op))
      return op.emitError() << "op has no '" << LLMDialect::kDeviceAttrName
                            << "' while others do; run llm-place first";

  clusterByDevice(body);
  // Runs of consecutive placed ops; constants stay and are cloned.
  SmallVector<std::pair<DeviceAttr, SmallVector<Operation *>>> segments;
  for (Operation &op : body.without_terminator()) {
    if (isCompileTime(&op))
      continue;
    DeviceAttr device = placedDevice(&op);
    if (segments.empty() || segments.back().first != device)
      segments.push_back({device, {}});
    segments.back().second.push_back(&op);
  }

  MLIRContext *ctx = func.getContext();
  auto placement =
      func->getAttrOfType<DictionaryAttr>(LLMDialect::kPlacementAttrName);
  DeviceAttr host = placement ? placement.getAs<DeviceAttr>("host") : nullptr;
  if (!host)
    host = DeviceAttr::get(ctx, "cpu", 0);

  // Where each value lives once its segment ran.
  DenseMap<Value, DeviceAttr> location;
  for (BlockArgument arg : body.getArguments())
    if (!isKVCacheArgument(arg))
      location[arg] = host;
  // Transfers already made: (value, device) -> moved value.
  DenseMap<std::pair<Value, Attribute>, Value> moved;
  auto availableOn = [&](OpBuilder &builder, Value v, DeviceAttr device) {
    auto it = location.find(v);
    if (!isa<RankedTensorType>(v.getType()) || it == location.end() ||
        it->second == device)
      return v;
    Value &copy = moved[{v, device}];
    if (!copy)
      copy = TransferOp::create(builder, v.getLoc(), v, it->second, device);
    return copy;
  };

  OpBuilder builder(ctx);
  for (auto [index, segment] : llvm::enumerate(segments)) {
    auto &[device, ops] = segment;
    llvm::SmallPtrSet<Operation *, 32> inside(ops.begin(), ops.end());
    llvm::SetVector<Value> inputs, outputs;
    llvm::SetVector<Operation *> constants;
    for (Operation *op : ops)
      op->walk([&](Operation *nested) {
        for (Value operand : nested->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (def && inside.count(def))
            continue;
          if (def && isCompileTime(def)) {
            collectCompileTime(def, constants);
            continue;
          }
          // Values of nested regions of a segment op stay inside.
          if (operand.getParentRegion() != &func.getBody())
            continue;
          inputs.insert(operand);
        }
      });
    for (Operation *op : ops)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !inside.count(body.findAncestorOpInBlock(*user));
            }))
          outputs.insert(result);

    std::string name = (func.getSymName() + "_seg" + llvm::Twine(index) + "_" +
                        device.getKind() + llvm::Twine(device.getIndex()))
                           .str();
    SmallVector<Type> inputTypes, outputTypes;
    for (Value v : inputs)
      inputTypes.push_back(v.getType());
    for (Value v : outputs)
      outputTypes.push_back(v.getType());
    builder.setInsertionPoint(func);
    auto outlined =
        func::FuncOp::create(builder, ops.front()->getLoc(), name,
                             builder.getFunctionType(inputTypes, outputTypes));
    outlined.setPrivate();
    outlined->setAttr(LLMDialect::kDeviceAttrName, device);
    symbols.insert(outlined);
    Block *entry = outlined.addEntryBlock();
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip(inputs, entry->getArguments()))
      mapping.map(value, arg);
    OpBuilder inner = OpBuilder::atBlockBegin(entry);
    SmallVector<Operation *> prologue(constants.begin(), constants.end());
    llvm::sort(prologue, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    for (Operation *constant : prologue)
      inner.clone(*constant, mapping);
    for (Operation *op : ops) {
      Operation *copy = inner.clone(*op, mapping);
      copy->removeAttr(LLMDialect::kDeviceAttrName);
    }
    SmallVector<Value> returned;
    for (Value v : outputs)
      returned.push_back(mapping.lookup(v));
    func::ReturnOp::create(inner, ops.back()->getLoc(), returned);

    builder.setInsertionPoint(ops.front());
    SmallVector<Value> arguments;
    for (Value v : inputs)
      arguments.push_back(availableOn(builder, v, device));
    auto call = func::CallOp::create(builder, ops.front()->getLoc(), outlined,
                                     arguments);
    call->setAttr(LLMDialect::kDeviceAttrName, device);
    for (auto [output, result] : llvm::zip(outputs, call.getResults())) {
      Value value = output;
      value.replaceAllUsesWith(result);
      location[result] = device;
    }
    for (Operation *op : llvm::reverse(ops))
      op->erase();
  }

  // The step's results go back to the host; caches stay in place.
  Operation *terminator = body.getTerminator();
  builder.setInsertionPoint(terminator);
  for (OpOperand &operand : terminator->getOpOperands())
    if (!func.getResultAttr(operand.getOperandNumber(),
                            LLMDialect::kTiedArgAttrName))
      operand.set(availableOn(builder, operand.get(), host));
  // Weights now used only inside the segments.
  SmallVector<Operation *> weights;
  for (Operation &op : body.without_terminator())
    if (isCompileTime(&op))
      weights.push_back(&op);
  for (Operation *op : llvm::reverse(weights))
    if (op->use_empty())
      op->erase();
  return success();
}

void PartitionPass::runOnOperation() {
  ModuleOp module = getOperation();
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> funcs;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isDeclaration() && !func->hasAttr(LLMDialect::kDeviceAttrName))
      funcs.push_back(func);
  for (func::FuncOp func : funcs)
    if (failed(partition(func, symbols)))
      return signalPassFailure();
}
