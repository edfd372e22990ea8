//===- PlacementReport.cpp - what llm-place decided, and why --------------===//

#include "passes/PlacementReport.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir::llm;
using llvm::json::Array;
using llvm::json::Object;

/// Microseconds, to the nanosecond.
static double us(double seconds) { return std::round(seconds * 1e9) / 1e3; }

/// The same for the report; null where the device cannot run the op.
static llvm::json::Value usOrNull(double seconds) {
  if (!std::isfinite(seconds))
    return nullptr;
  return us(seconds);
}

/// The sentence the report gives for a choice.
static std::string reason(const PlacementNode &node, const Machine &machine,
                          unsigned chosen) {
  const CostEstimate &mine = node.estimates[chosen];
  std::string text = llvm::formatv("{0}-bound on {1} ({2})", mine.bound(),
                                   machine.devices[chosen].name, mine.note)
                         .str();
  if (node.pinned)
    return text + "; pinned";
  // The fastest device alone, when it was not chosen: transfers or a busy
  // device decided.
  unsigned fastest = chosen;
  for (unsigned d = 0; d < node.estimates.size(); ++d)
    if (node.estimates[d].seconds < node.estimates[fastest].seconds)
      fastest = d;
  if (fastest != chosen)
    text += llvm::formatv("; {0} alone is faster ({1} us vs {2} us) but moving "
                          "data there or waiting for it costs more",
                          machine.devices[fastest].name,
                          us(node.estimates[fastest].seconds), us(mine.seconds))
                .str();
  return text;
}

llvm::json::Value
mlir::llm::placementReportJSON(const PlacementSettings &settings,
                               const Machine &machine,
                               llvm::ArrayRef<PlacedFunction> functions) {
  Array devices;
  for (const Device &device : machine.devices)
    devices.push_back(Object{
        {"name", device.name},
        {"kind", device.kind},
        {"index", device.index},
        {"peak_gflops", device.model->peakOpsPerSecond() / 1e9},
        {"memory_bandwidth_gbps", device.model->memoryBandwidth() / 1e9}});
  Array functionReports;
  for (const PlacedFunction &placed : functions) {
    const PlacementProblem &problem = placed.problem;
    Array ops;
    for (size_t i = 0; i < problem.nodes.size(); ++i) {
      const PlacementNode &node = problem.nodes[i];
      Object estimates;
      for (unsigned d = 0; d < machine.devices.size(); ++d) {
        const CostEstimate &e = node.estimates[d];
        estimates[machine.devices[d].name] =
            Object{{"supported", e.supported},
                   {"us", usOrNull(e.seconds)},
                   {"compute_us", us(e.computeSeconds)},
                   {"memory_us", us(e.memorySeconds)},
                   {"communication_us", us(e.communicationSeconds)},
                   {"overhead_us", us(e.overheadSeconds)},
                   {"bound", e.bound()},
                   {"note", e.note}};
      }
      unsigned chosen = placed.assignment[i];
      ops.push_back(
          Object{{"name", node.name},
                 {"op", node.opName},
                 {"kind", workKindName(node.cost.kind)},
                 {"device", machine.devices[chosen].name},
                 {"pinned", node.pinned.has_value()},
                 {"flops", node.cost.flops},
                 {"bytes", node.cost.bytes()},
                 {"weight_bytes", node.cost.weightBytes},
                 {"kv_bytes", node.cost.kvReadBytes + node.cost.kvWriteBytes},
                 {"op_per_byte", node.cost.opsPerByte()},
                 {"shape", Object{{"batch", node.cost.batch},
                                  {"m", node.cost.m},
                                  {"n", node.cost.n},
                                  {"k", node.cost.k}}},
                 {"reason", reason(node, machine, chosen)},
                 {"estimates", std::move(estimates)}});
    }
    Array timeline;
    for (const ScheduledOp &op : placed.schedule.ops)
      timeline.push_back(Object{{"op", op.node},
                                {"sub_batch", op.subBatch},
                                {"device", machine.devices[op.device].name},
                                {"start_us", us(op.start)},
                                {"end_us", us(op.end)}});
    Array transfers;
    for (const ScheduledTransfer &t : placed.schedule.transfers)
      transfers.push_back(Object{{"from", machine.devices[t.from].name},
                                 {"to", machine.devices[t.to].name},
                                 {"producer", t.producer},
                                 {"consumer", t.consumer},
                                 {"sub_batch", t.subBatch},
                                 {"bytes", t.bytes},
                                 {"start_us", us(t.start)},
                                 {"end_us", us(t.end)}});
    Object busy;
    for (unsigned d = 0; d < machine.devices.size(); ++d)
      busy[machine.devices[d].name] = us(placed.schedule.busy[d]);
    functionReports.push_back(Object{
        {"function", placed.function},
        {"step_us", us(placed.schedule.makespan)},
        {"host_only_step_us", usOrNull(placed.hostOnlySeconds)},
        {"step_us_without_interleave", usOrNull(placed.uninterleavedSeconds)},
        {"busy_us", std::move(busy)},
        {"ops", std::move(ops)},
        {"transfers", std::move(transfers)},
        {"timeline", std::move(timeline)}});
  }
  return Object{{"target", machine.name},
                {"description", machine.description},
                {"phase", settings.phase},
                {"batch", settings.batch},
                {"context", settings.context},
                {"interleave", settings.interleave},
                {"devices", std::move(devices)},
                {"functions", std::move(functionReports)}};
}

static std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// A colour per work kind, so that the timeline reads at a glance.
static const char *colour(WorkKind kind) {
  switch (kind) {
  case WorkKind::Matmul:
    return "#4e79a7";
  case WorkKind::Attention:
    return "#e15759";
  case WorkKind::Elementwise:
    return "#59a14f";
  case WorkKind::Gather:
    return "#b07aa1";
  case WorkKind::DataMovement:
    return "#9c755f";
  }
  return "#bab0ac";
}

std::string
mlir::llm::placementReportHTML(const PlacementSettings &settings,
                               const Machine &machine,
                               llvm::ArrayRef<PlacedFunction> functions) {
  std::string html;
  llvm::raw_string_ostream os(html);
  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>llmc "
        "placement: "
     << escape(machine.name) << "</title>\n<style>\n"
     << "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
     << "table{border-collapse:collapse;font-size:13px}\n"
     << "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\n"
     << "td.l,th.l{text-align:left}\n"
     << "tr.chosen td{background:#eef5ff}\n.best{font-weight:bold}\n"
     << "svg text{font-size:11px}\n</style></head><body>\n";
  os << "<h1>Placement on " << escape(machine.name) << "</h1>\n<p>"
     << escape(machine.description) << "</p>\n<p>Phase <b>"
     << escape(settings.phase) << "</b>, batch " << settings.batch
     << ", context " << settings.context
     << (settings.interleave ? ", two sub-batches interleaved" : "")
     << ". Times are cost-model estimates (no device here runs them).</p>\n";
  for (const PlacedFunction &placed : functions) {
    const PlacementProblem &problem = placed.problem;
    const Schedule &schedule = placed.schedule;
    os << "<h2>@" << escape(placed.function) << "</h2>\n<p>Estimated step: <b>"
       << llvm::formatv("{0:F2}", us(schedule.makespan)) << " us</b>";
    if (std::isfinite(placed.hostOnlySeconds))
      os << llvm::formatv(" (all on {0}: {1:F2} us, {2:F2}x)",
                          machine.devices[machine.host].name,
                          us(placed.hostOnlySeconds),
                          placed.hostOnlySeconds / schedule.makespan);
    if (std::isfinite(placed.uninterleavedSeconds))
      os << llvm::formatv("; without interleaving: {0:F2} us ({1:F2}x)",
                          us(placed.uninterleavedSeconds),
                          placed.uninterleavedSeconds / schedule.makespan);
    os << ". Busy:";
    for (unsigned d = 0; d < machine.devices.size(); ++d)
      os << llvm::formatv(" {0} {1:F2} us;", machine.devices[d].name,
                          us(schedule.busy[d]));
    os << "</p>\n";

    // Timeline: one lane per device, ops as bars, transfers as thin bars.
    double width = 1100, lane = 28, left = 90;
    double span = std::max(schedule.makespan, 1e-12);
    unsigned lanes = machine.devices.size();
    os << llvm::formatv("<svg width=\"{0}\" height=\"{1}\" "
                        "xmlns=\"http://www.w3.org/2000/svg\">\n",
                        left + width + 20, lanes * lane + 40);
    for (unsigned d = 0; d < lanes; ++d)
      os << llvm::formatv(
          "<text x=\"4\" y=\"{0}\">{1}</text><line x1=\"{2}\" "
          "x2=\"{3}\" y1=\"{4}\" y2=\"{4}\" stroke=\"#ddd\"/>\n",
          d * lane + 18, escape(machine.devices[d].name), left, left + width,
          d * lane + lane);
    for (const ScheduledOp &op : schedule.ops) {
      const PlacementNode &node = problem.nodes[op.node];
      double x = left + width * op.start / span;
      double w = std::max(0.5, width * (op.end - op.start) / span);
      os << llvm::formatv(
          "<rect x=\"{0:F1}\" y=\"{1}\" width=\"{2:F1}\" height=\"{3}\" "
          "fill=\"{4}\" opacity=\"{5}\"><title>{6} ({7}{8}): {9:F3}-{10:F3} "
          "us</title></rect>\n",
          x, op.device * lane + 4, w, lane - 12, colour(node.cost.kind),
          op.subBatch ? 0.6 : 1.0, escape(node.name), escape(node.opName),
          problem.interleave ? (op.subBatch ? ", sub-batch 2" : ", sub-batch 1")
                             : "",
          us(op.start), us(op.end));
    }
    for (const ScheduledTransfer &t : schedule.transfers) {
      double x = left + width * t.start / span;
      double w = std::max(0.5, width * (t.end - t.start) / span);
      os << llvm::formatv(
          "<rect x=\"{0:F1}\" y=\"{1}\" width=\"{2:F1}\" height=\"3\" "
          "fill=\"#f28e2b\"><title>transfer {3} -> {4}, {5} bytes</title>"
          "</rect>\n",
          x, t.to * lane + lane - 7, w, escape(machine.devices[t.from].name),
          escape(machine.devices[t.to].name), t.bytes);
    }
    os << llvm::formatv("<text x=\"{0}\" y=\"{1}\">0</text><text x=\"{2}\" "
                        "y=\"{1}\" text-anchor=\"end\">{3:F2} us</text>\n",
                        left, lanes * lane + 20, left + width,
                        us(schedule.makespan));
    os << "</svg>\n<p>Blue: matmul, red: attention, green: elementwise, "
          "purple: gather, brown: data movement, orange: transfers.</p>\n";

    // The table: one row per op, every device's estimate.
    os << "<table>\n<tr><th class=\"l\">op</th><th class=\"l\">kind</th>"
          "<th>GFLOP</th><th>MB</th><th>Op/B</th><th class=\"l\">device</th>";
    for (const Device &device : machine.devices)
      os << "<th>" << escape(device.name) << " us</th>";
    os << "<th class=\"l\">why</th></tr>\n";
    for (size_t i = 0; i < problem.nodes.size(); ++i) {
      const PlacementNode &node = problem.nodes[i];
      unsigned chosen = placed.assignment[i];
      os << llvm::formatv("<tr><td class=\"l\">{0}</td><td class=\"l\">{1}"
                          "</td><td>{2:F4}</td><td>{3:F3}</td><td>{4:F1}</td>"
                          "<td class=\"l\">{5}</td>",
                          escape(node.name), workKindName(node.cost.kind),
                          node.cost.flops / 1e9, node.cost.bytes() / 1e6,
                          node.cost.opsPerByte(),
                          escape(machine.devices[chosen].name));
      for (unsigned d = 0; d < machine.devices.size(); ++d) {
        const CostEstimate &e = node.estimates[d];
        os << "<td" << (d == chosen ? " class=\"best\"" : "") << " title=\""
           << escape(e.note) << "\">";
        if (e.supported)
          os << llvm::formatv("{0:F3}", us(e.seconds));
        else
          os << "&ndash;";
        os << "</td>";
      }
      os << "<td class=\"l\">" << escape(reason(node, machine, chosen))
         << "</td></tr>\n";
    }
    os << "</table>\n";
  }
  os << "</body></html>\n";
  return html;
}
