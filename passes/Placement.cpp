//===- Placement.cpp - choosing a device per op for one step --------------===//

#include "passes/Placement.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir::llm;

static constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// Schedules the first `count` ops.
static double schedulePrefix(const PlacementProblem &problem,
                             const std::vector<unsigned> &assignment,
                             Schedule *out, size_t count) {
  const Machine &machine = *problem.machine;
  unsigned numDevices = machine.devices.size();
  int subBatches = problem.interleave ? 2 : 1;
  std::vector<double> deviceFree(numDevices, 0.0);
  // When each shared memory is next free (ops of devices sharing it do
  // not move data at the same time).
  std::vector<double> poolFree(machine.pools.size(), 0.0);
  // When each link is next free: a link that copies carries one transfer
  // at a time.
  std::vector<double> linkFree(machine.links.size(), 0.0);
  // Devices that hold their weights and KV: the step is infeasible past
  // their capacity.
  std::vector<double> resident(numDevices, 0.0);
  for (size_t i = 0; i < count; ++i)
    resident[assignment[i]] += problem.nodes[i].residentBytes;
  for (unsigned d = 0; d < numDevices; ++d)
    if (resident[d] > machine.devices[d].model->residentCapacity()) {
      if (out) {
        *out = Schedule();
        out->makespan = kInfinity;
        out->busy.assign(numDevices, 0.0);
      }
      return kInfinity;
    }
  // The arrival of `bytes` sent from `from` at `sent` on `to`.
  auto deliver = [&](unsigned from, unsigned to, double sent, double bytes) {
    if (from == to)
      return sent;
    std::optional<size_t> link = machine.linkBetween(from, to);
    if (!link)
      return kInfinity;
    const Link &l = machine.links[*link];
    if (l.sharedMemory)
      return sent + l.latency;
    double start = std::max(sent, linkFree[*link]);
    linkFree[*link] = start + bytes / l.bandwidth;
    return linkFree[*link] + l.latency;
  };
  // finish[node * subBatches + s]
  std::vector<double> finish(problem.nodes.size() * subBatches, 0.0);
  double makespan = 0;
  if (out) {
    *out = Schedule();
    out->busy.assign(numDevices, 0.0);
  }
  for (size_t i = 0; i < count; ++i) {
    const PlacementNode &node = problem.nodes[i];
    unsigned device = assignment[i];
    for (int s = 0; s < subBatches; ++s) {
      bool half = problem.interleave;
      double ready = 0;
      for (const PlacementInput &input : node.inputs) {
        double bytes = half ? input.halfBytes : input.bytes;
        unsigned from =
            input.producer < 0 ? machine.host : assignment[input.producer];
        double available =
            input.producer < 0 ? 0 : finish[input.producer * subBatches + s];
        double arrival = deliver(from, device, available, bytes);
        ready = std::max(ready, arrival);
        if (out && from != device)
          out->transfers.push_back({input.producer, int(i), s, from, device,
                                    bytes, available, arrival});
      }
      const CostEstimate &estimate =
          half ? node.halfEstimates[device] : node.estimates[device];
      double start = std::max(ready, deviceFree[device]);
      int pool = machine.devices[device].pool;
      if (pool >= 0 && estimate.sharedMemorySeconds > 0) {
        start = std::max(start, poolFree[pool]);
        poolFree[pool] = start + estimate.sharedMemorySeconds;
      }
      double end = start + estimate.seconds;
      deviceFree[device] = end;
      finish[i * subBatches + s] = end;
      makespan = std::max(makespan, end);
      double outputBytes = half ? node.halfOutputBytes : node.outputBytes;
      if (outputBytes > 0) {
        double back = deliver(device, machine.host, end, outputBytes);
        makespan = std::max(makespan, back);
        if (out && device != machine.host)
          out->transfers.push_back(
              {int(i), -1, s, device, machine.host, outputBytes, end, back});
      }
      if (out) {
        out->ops.push_back({int(i), s, device, start, end});
        out->busy[device] += estimate.seconds;
      }
    }
  }
  if (out)
    out->makespan = makespan;
  return makespan;
}

double mlir::llm::scheduleStep(const PlacementProblem &problem,
                               const std::vector<unsigned> &assignment,
                               Schedule *out) {
  return schedulePrefix(problem, assignment, out, problem.nodes.size());
}

namespace {

bool runs(const PlacementNode &node, unsigned device) {
  return node.estimates[device].supported &&
         std::isfinite(node.estimates[device].seconds) &&
         (!node.pinned || *node.pinned == device);
}

/// Earliest-finish greedy: each op in order on the device where the steps
/// so far would end first.
std::vector<unsigned> greedy(const PlacementProblem &problem) {
  std::vector<unsigned> assignment(problem.nodes.size(), 0);
  unsigned numDevices = problem.machine->devices.size();
  for (size_t i = 0; i < problem.nodes.size(); ++i) {
    double best = kInfinity;
    std::optional<unsigned> bestDevice;
    for (unsigned d = 0; d < numDevices; ++d) {
      if (!runs(problem.nodes[i], d))
        continue;
      assignment[i] = d;
      double t = schedulePrefix(problem, assignment, nullptr, i + 1);
      // The first device that runs it, even when every choice so far is
      // infeasible (the search may still repair the prefix).
      if (!bestDevice || t < best) {
        best = t;
        bestDevice = d;
      }
    }
    assignment[i] = bestDevice.value_or(0);
  }
  return assignment;
}

/// Everything on `device` that it runs; the rest where it runs fastest.
std::vector<unsigned> allOn(const PlacementProblem &problem, unsigned device) {
  std::vector<unsigned> assignment;
  for (const PlacementNode &node : problem.nodes) {
    if (runs(node, device)) {
      assignment.push_back(device);
      continue;
    }
    unsigned best = 0;
    double bestTime = kInfinity;
    for (unsigned d = 0; d < node.estimates.size(); ++d)
      if (runs(node, d) && node.estimates[d].seconds < bestTime) {
        bestTime = node.estimates[d].seconds;
        best = d;
      }
    assignment.push_back(best);
  }
  return assignment;
}

/// Moves single ops and whole runs of same-device ops while the step gets
/// faster (strictly; first improvement in a fixed order, so deterministic).
double improve(const PlacementProblem &problem,
               std::vector<unsigned> &assignment) {
  double current = scheduleStep(problem, assignment);
  unsigned numDevices = problem.machine->devices.size();
  size_t n = problem.nodes.size();
  auto better = [&](double t) { return t < current * (1 - 1e-12); };
  for (int sweep = 0; sweep < 50; ++sweep) {
    bool improved = false;
    // Runs first: moving a run pays its boundary transfers once.
    for (size_t begin = 0; begin < n;) {
      size_t end = begin + 1;
      while (end < n && assignment[end] == assignment[begin])
        ++end;
      for (unsigned d = 0; d < numDevices; ++d) {
        if (d == assignment[begin])
          continue;
        bool movable = true;
        for (size_t i = begin; i < end && movable; ++i)
          movable = runs(problem.nodes[i], d);
        if (!movable)
          continue;
        std::vector<unsigned> trial = assignment;
        std::fill(trial.begin() + begin, trial.begin() + end, d);
        double t = scheduleStep(problem, trial);
        if (better(t)) {
          assignment = std::move(trial);
          current = t;
          improved = true;
          break;
        }
      }
      begin = end;
    }
    for (size_t i = 0; i < n; ++i) {
      for (unsigned d = 0; d < numDevices; ++d) {
        if (d == assignment[i] || !runs(problem.nodes[i], d))
          continue;
        unsigned old = assignment[i];
        assignment[i] = d;
        double t = scheduleStep(problem, assignment);
        if (better(t)) {
          current = t;
          improved = true;
        } else {
          assignment[i] = old;
        }
      }
    }
    if (!improved)
      break;
  }
  return current;
}

} // namespace

std::optional<std::vector<unsigned>>
mlir::llm::solvePlacement(const PlacementProblem &problem, std::string &error) {
  const Machine &machine = *problem.machine;
  for (const PlacementNode &node : problem.nodes) {
    bool any = false;
    for (unsigned d = 0; d < machine.devices.size(); ++d)
      any |= runs(node, d);
    if (any)
      continue;
    error = "'" + node.name + "' (" + node.opName + ")";
    if (node.pinned)
      error += " cannot run on " + machine.devices[*node.pinned].name +
               ", where it is pinned: " + node.estimates[*node.pinned].note;
    else
      error += " runs on no device of '" + machine.name + "'";
    if (!node.pinned)
      for (unsigned d = 0; d < machine.devices.size(); ++d)
        error += (d ? "; " : ": ") + machine.devices[d].name + ": " +
                 node.estimates[d].note;
    return std::nullopt;
  }
  std::vector<std::vector<unsigned>> starts = {greedy(problem)};
  for (unsigned d = 0; d < machine.devices.size(); ++d)
    starts.push_back(allOn(problem, d));
  std::vector<unsigned> best;
  double bestTime = kInfinity;
  for (std::vector<unsigned> &start : starts) {
    double t = improve(problem, start);
    if (t < bestTime * (1 - 1e-12) || best.empty()) {
      bestTime = t;
      best = start;
    }
  }
  if (!std::isfinite(bestTime)) {
    error = "no assignment fits the weights and KV cache in the devices "
            "that must hold them, and no device can reach the others";
    return std::nullopt;
  }
  return best;
}
