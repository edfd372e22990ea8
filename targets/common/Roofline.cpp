//===- Roofline.cpp - roofline time shared by the device models ----------===//

#include "targets/common/Roofline.h"

#include <algorithm>

using namespace mlir::llm;

const char *CostEstimate::bound() const {
  if (!supported)
    return "unsupported";
  double terms[] = {computeSeconds, memorySeconds, communicationSeconds,
                    overheadSeconds};
  static const char *names[] = {"compute", "memory", "communication",
                                "overhead"};
  return names[std::max_element(std::begin(terms), std::end(terms)) -
               std::begin(terms)];
}

void mlir::llm::finishEstimate(CostEstimate &estimate) {
  estimate.seconds = std::max(estimate.computeSeconds, estimate.memorySeconds) +
                     estimate.communicationSeconds + estimate.overheadSeconds;
}

CostEstimate
mlir::llm::rooflineEstimate(double ops, double bytes, double peakOps,
                            double computeEfficiency, double bandwidth,
                            double memoryEfficiency, double overheadSeconds) {
  CostEstimate estimate;
  estimate.computeSeconds = ops / (peakOps * computeEfficiency);
  estimate.memorySeconds = bytes / (bandwidth * memoryEfficiency);
  estimate.overheadSeconds = overheadSeconds;
  finishEstimate(estimate);
  return estimate;
}
