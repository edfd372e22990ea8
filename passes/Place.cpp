//===- Place.cpp - llm-place ----------------------------------------------===//
//
// Builds the placement problem from a function (ops with work, the values
// they exchange, their estimates on every device of the target machine in
// the chosen phase), solves it (Placement.cpp) and writes the answer back
// as `llm.device` attributes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/PhaseShapes.h"
#include "passes/Placement.h"
#include "passes/PlacementReport.h"

#include "dialects/llm/CostInterface.h"
#include "dialects/llm/EntryPoint.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::llm {
#define GEN_PASS_DEF_LLMPLACE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The name a person knows the op by: its ONNX node name when imported.
std::string displayName(Operation *op, int ordinal) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner)) {
        loc = inner;
        break;
      }
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return (op->getName().getStringRef() + "#" + llvm::Twine(ordinal)).str();
}

struct Pin {
  llvm::GlobPattern pattern;
  std::string text;
  unsigned device;
  bool used = false;
};

struct PlacePass : public llm::impl::LLMPlaceBase<PlacePass> {
  using LLMPlaceBase::LLMPlaceBase;

  void runOnOperation() override;
  LogicalResult placeFunction(func::FuncOp func, const Machine &machine,
                              std::vector<Pin> &pins, PlacedFunction &placed);
};

} // namespace

/// The op computing `v` (through views, which follow their source), or -1
/// for a step input; std::nullopt for weights, resident caches and values
/// created in place (tensor.empty).
static std::optional<int> producerOf(Value v,
                                     const DenseMap<Operation *, int> &nodeOf) {
  while (true) {
    if (isa<BlockArgument>(v))
      return isKVCacheArgument(v) ? std::nullopt : std::optional<int>(-1);
    if (isCompileTimeValue(v))
      return std::nullopt;
    Operation *def = v.getDefiningOp();
    if (auto it = nodeOf.find(def); it != nodeOf.end())
      return it->second;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
            tensor::ExtractSliceOp, tensor::CastOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    return std::nullopt;
  }
}

LogicalResult PlacePass::placeFunction(func::FuncOp func,
                                       const Machine &machine,
                                       std::vector<Pin> &pins,
                                       PlacedFunction &placed) {
  bool decode = phase == "decode";
  PhaseBinding full{batch, decode ? 1 : context, decode ? context - 1 : 0};
  PhaseBinding half = full;
  half.batch = (batch + 1) / 2;
  PhaseShapes fullShapes(full), halfShapes(half);
  auto fullDims = [&](Value v, int64_t d) { return fullShapes.dimSize(v, d); };
  auto halfDims = [&](Value v, int64_t d) { return halfShapes.dimSize(v, d); };

  PlacementProblem &problem = placed.problem;
  problem.machine = &machine;
  problem.interleave = interleave;
  placed.function = func.getSymName().str();
  DenseMap<Operation *, int> nodeOf;
  std::vector<Operation *> nodeOps;
  int ordinal = 0;
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    ++ordinal;
    std::optional<OpCost> cost = estimateOpCost(&op, fullDims);
    if (!cost)
      continue;
    PlacementNode node;
    node.name = displayName(&op, ordinal);
    node.opName = op.getName().getStringRef().str();
    node.cost = *cost;
    node.residentBytes = cost->weightBytes + cost->kvReadBytes;
    std::optional<OpCost> halfCost = estimateOpCost(&op, halfDims);
    for (const Device &device : machine.devices) {
      node.estimates.push_back(device.estimate(*cost));
      node.halfEstimates.push_back(device.estimate(*halfCost));
    }
    for (Value operand : op.getOperands()) {
      if (!isa<RankedTensorType>(operand.getType()))
        continue;
      std::optional<int> producer = producerOf(operand, nodeOf);
      if (!producer)
        continue;
      node.inputs.push_back({*producer, numBytes(operand, fullDims),
                             numBytes(operand, halfDims)});
    }
    for (Pin &pin : pins)
      if (pin.pattern.match(node.name)) {
        node.pinned = pin.device;
        pin.used = true;
      }
    nodeOf[&op] = problem.nodes.size();
    nodeOps.push_back(&op);
    problem.nodes.push_back(std::move(node));
  }
  // Returned values go back to the host (caches stay where they are).
  Operation *terminator = body.getTerminator();
  for (OpOperand &operand : terminator->getOpOperands()) {
    if (func.getResultAttr(operand.getOperandNumber(),
                           LLMDialect::kTiedArgAttrName))
      continue;
    std::optional<int> producer = producerOf(operand.get(), nodeOf);
    if (!producer || *producer < 0)
      continue;
    problem.nodes[*producer].outputBytes += numBytes(operand.get(), fullDims);
    problem.nodes[*producer].halfOutputBytes +=
        numBytes(operand.get(), halfDims);
  }

  std::string error;
  std::optional<std::vector<unsigned>> assignment =
      solvePlacement(problem, error);
  if (!assignment)
    return func.emitError()
           << "cannot place @" << func.getSymName() << ": " << error;
  placed.assignment = *assignment;
  if (interleave) {
    // What interleaving buys: the best placement without it.
    PlacementProblem whole = problem;
    whole.interleave = false;
    std::optional<std::vector<unsigned>> alone = solvePlacement(whole, error);
    if (alone)
      placed.uninterleavedSeconds = scheduleStep(whole, *alone);
  }
  double step = scheduleStep(problem, placed.assignment, &placed.schedule);
  std::vector<unsigned> hostOnly(problem.nodes.size(), machine.host);
  bool hostRunsAll = llvm::all_of(problem.nodes, [&](const PlacementNode &n) {
    return n.estimates[machine.host].supported;
  });
  placed.hostOnlySeconds = hostRunsAll
                               ? scheduleStep(problem, hostOnly)
                               : std::numeric_limits<double>::infinity();

  MLIRContext *ctx = func.getContext();
  auto deviceAttr = [&](unsigned d) {
    return DeviceAttr::get(ctx, machine.devices[d].kind,
                           machine.devices[d].index);
  };
  for (size_t i = 0; i < nodeOps.size(); ++i)
    nodeOps[i]->setAttr(LLMDialect::kDeviceAttrName,
                        deviceAttr(placed.assignment[i]));
  // The other ops (views, size arithmetic, tensor.empty, weight
  // preparation) run where their value is consumed: the first placed user,
  // walking backwards so that chains of them resolve; failing that, where
  // their operand was produced; failing that, on the host.
  auto follows = [&](Operation &op) {
    return !nodeOf.count(&op) && !op.hasTrait<OpTrait::ConstantLike>();
  };
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (follows(op))
      for (Operation *user : op.getUsers())
        if (DeviceAttr d = placedDevice(user)) {
          op.setAttr(LLMDialect::kDeviceAttrName, d);
          break;
        }
  for (Operation &op : body.without_terminator()) {
    if (!follows(op) || placedDevice(&op))
      continue;
    DeviceAttr chosen = deviceAttr(machine.host);
    for (Value operand : op.getOperands())
      if (DeviceAttr d = placedDevice(operand.getDefiningOp())) {
        chosen = d;
        break;
      }
    op.setAttr(LLMDialect::kDeviceAttrName, chosen);
  }

  Builder b(ctx);
  SmallVector<NamedAttribute> summary = {
      b.getNamedAttr("target", b.getStringAttr(machine.name)),
      b.getNamedAttr("phase", b.getStringAttr(phase)),
      b.getNamedAttr("batch", b.getI64IntegerAttr(batch)),
      b.getNamedAttr("context", b.getI64IntegerAttr(context)),
      b.getNamedAttr("interleave", b.getBoolAttr(interleave)),
      b.getNamedAttr("host", deviceAttr(machine.host)),
      b.getNamedAttr("step_us", b.getF64FloatAttr(step * 1e6))};
  if (std::isfinite(placed.uninterleavedSeconds))
    summary.push_back(
        b.getNamedAttr("step_us_without_interleave",
                       b.getF64FloatAttr(placed.uninterleavedSeconds * 1e6)));
  func->setAttr(LLMDialect::kPlacementAttrName, b.getDictionaryAttr(summary));
  return success();
}

void PlacePass::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Expected<Machine> machine = loadMachine(target);
  if (!machine) {
    module.emitError() << "llm-place: " << llvm::toString(machine.takeError());
    return signalPassFailure();
  }
  if (phase != "prefill" && phase != "decode") {
    module.emitError()
        << "llm-place: phase must be 'prefill' or 'decode', not '" << phase
        << "'";
    return signalPassFailure();
  }
  if (batch < 1 || context < 1) {
    module.emitError() << "llm-place: batch and context must be at least 1";
    return signalPassFailure();
  }
  std::vector<Pin> pins;
  for (const std::string &spec : this->pins) {
    auto [pattern, device] = StringRef(spec).rsplit('=');
    auto [kind, indexText] = device.split(':');
    int64_t index = 0;
    if (device.empty() ||
        (!indexText.empty() && indexText.getAsInteger(10, index))) {
      module.emitError() << "llm-place: pin '" << spec
                         << "' is not NAME=KIND[:INDEX]";
      return signalPassFailure();
    }
    std::optional<unsigned> d = machine->find(kind, index);
    if (!d) {
      module.emitError() << "llm-place: pin '" << spec
                         << "' names no device of '" << machine->name << "'";
      return signalPassFailure();
    }
    llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(pattern);
    if (!glob) {
      module.emitError() << "llm-place: pin '" << spec
                         << "': " << llvm::toString(glob.takeError());
      return signalPassFailure();
    }
    pins.push_back({std::move(*glob), spec, *d});
  }

  std::vector<PlacedFunction> placed;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isDeclaration() || func->hasAttr(LLMDialect::kDeviceAttrName))
      continue;
    placed.emplace_back();
    if (failed(placeFunction(func, *machine, pins, placed.back())))
      return signalPassFailure();
  }
  for (const Pin &pin : pins)
    if (!pin.used) {
      module.emitError() << "llm-place: pin '" << pin.text << "' matches no op";
      return signalPassFailure();
    }

  if (report.empty())
    return;
  PlacementSettings settings{target, phase, batch, context, interleave};
  std::error_code ec;
  llvm::raw_fd_ostream json(report, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    module.emitError() << "llm-place: cannot write '" << report
                       << "': " << ec.message();
    return signalPassFailure();
  }
  json << llvm::formatv("{0:2}",
                        placementReportJSON(settings, *machine, placed))
       << "\n";
  SmallString<256> htmlPath(report);
  llvm::sys::path::replace_extension(htmlPath, "html");
  llvm::raw_fd_ostream html(htmlPath, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    module.emitError() << "llm-place: cannot write '" << htmlPath
                       << "': " << ec.message();
    return signalPassFailure();
  }
  html << placementReportHTML(settings, *machine, placed);
}
