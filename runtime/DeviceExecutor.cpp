//===- DeviceExecutor.cpp - runs an artifact's device programs ------------===//

#include "runtime/DeviceExecutor.h"

#include "runtime/Status.h"

#include <algorithm>
#include <cstring>

using namespace llmc::runtime;
namespace device = llmc::device;

namespace {

/// The sub-batch of the launches of this thread (see setSubBatch).
thread_local int64_t currentSubBatch = 0;

uint64_t read64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// A contiguous f32 buffer from a ranked memref descriptor (allocated,
/// aligned, offset, sizes, strides), or what is wrong with it.
std::string bufferOf(int64_t rank, const void *descriptor,
                     device::Buffer &out) {
  if (rank < 1 || rank > int64_t(device::kMaxRank) || !descriptor)
    return "has rank " + std::to_string(rank);
  const auto *words = static_cast<const int64_t *>(descriptor);
  const int64_t *sizes = words + 3, *strides = words + 3 + rank;
  int64_t expected = 1;
  for (int64_t d = rank; d-- > 0;) {
    if (sizes[d] < 0 || (sizes[d] > 1 && strides[d] != expected))
      return "is not a contiguous buffer";
    expected *= sizes[d];
  }
  out.data = reinterpret_cast<float *>(words[1]) + words[2];
  out.rank = int(rank);
  for (int64_t d = 0; d < rank; ++d)
    out.shape[d] = sizes[d];
  return "";
}

} // namespace

llmc_status DeviceExecutor::load(const uint8_t *section, uint64_t size,
                                 const Manifest &manifest) {
  auto bad = [&](const std::string &what) {
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "device programs: " + what);
  };
  uint64_t count = 0;
  if (section) {
    if (size < 8 || (count = read64(section)) > (size - 8) / 16)
      return bad("the program table runs past the section's " +
                 std::to_string(size) + " bytes");
  }
  if (count != manifest.devicePrograms.size())
    return bad("the section has " + std::to_string(count) +
               " programs, the manifest lists " +
               std::to_string(manifest.devicePrograms.size()));
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t offset = read64(section + 8 + 16 * i);
    uint64_t bytes = read64(section + 16 + 16 * i);
    std::string name = "program " + std::to_string(i);
    if (offset < 8 + 16 * count || offset > size || bytes > size - offset)
      return bad(name + " [" + std::to_string(offset) + ", +" +
                 std::to_string(bytes) + ") is outside the section");
    device::DeviceProgram program;
    std::string error;
    if (!device::parseDeviceProgram(section + offset, bytes, program, error))
      return bad(name + ": " + error);
    const DeviceProgramSpec &spec = manifest.devicePrograms[i];
    if (spec.device != device::deviceKindName(program.kind))
      return bad(name + " is a " + device::deviceKindName(program.kind) +
                 " program, the manifest says " + spec.device);
    programs_.push_back(std::move(program));
    specs_.push_back(spec);
    std::string device = spec.device + std::to_string(spec.deviceIndex);
    auto slot = std::find(deviceNames_.begin(), deviceNames_.end(), device);
    deviceOf_.push_back(size_t(slot - deviceNames_.begin()));
    if (slot == deviceNames_.end())
      deviceNames_.push_back(device);
  }
  programTimes_.assign(programs_.size(), DeviceTime());
  return LLMC_OK;
}

void DeviceExecutor::hook(
    void *context, int64_t program, int64_t rank0, const void *buffer0,
    int64_t rank1, const void *buffer1, int64_t rank2, const void *buffer2,
    int64_t rank3, const void *buffer3, int64_t rank4, const void *buffer4,
    int64_t rank5, const void *buffer5, int64_t rank6, const void *buffer6,
    int64_t rank7, const void *buffer7) {
  const int64_t ranks[] = {rank0, rank1, rank2, rank3,
                           rank4, rank5, rank6, rank7};
  const void *descriptors[] = {buffer0, buffer1, buffer2, buffer3,
                               buffer4, buffer5, buffer6, buffer7};
  static_cast<DeviceExecutor *>(context)->run(program, ranks, descriptors);
}

void DeviceExecutor::run(int64_t program, const int64_t *ranks,
                         const void *const *descriptors) {
  std::string error;
  const device::DeviceProgram *p = nullptr;
  device::Buffer buffers[device::kMaxBuffers];
  int64_t rows = -1;
  if (program < 0 || size_t(program) >= programs_.size()) {
    error = "the code ran device program " + std::to_string(program) +
            ", the artifact has " + std::to_string(programs_.size());
  } else {
    p = &programs_[size_t(program)];
    for (uint32_t i = 0; error.empty() && i < p->inputs + p->outputs; ++i)
      if (std::string problem = bufferOf(ranks[i], descriptors[i], buffers[i]);
          !problem.empty())
        error = (i < p->inputs ? "input " + std::to_string(i)
                               : "output " + std::to_string(i - p->inputs)) +
                " " + problem;
    if (error.empty())
      rows = device::checkLaunch(*p, buffers, error);
  }
  if (!error.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.empty())
      error_ = "device program " + std::to_string(program) + ": " + error;
    failed_ = true;
    return;
  }
  // No rows (an expert no token chose): nothing to launch.
  if (rows == 0)
    return;
  device::DeviceRun r = device::runDeviceProgram(*p, buffers, rows);
  std::lock_guard<std::mutex> lock(mutex_);
  traces_[currentSubBatch].push_back({deviceOf_[size_t(program)], r.seconds});
  DeviceTime &t = programTimes_[size_t(program)];
  ++t.calls;
  t.rows += rows;
  t.seconds += r.seconds;
  if (rows == 1) {
    ++t.singleRowCalls;
    t.singleRowSeconds += r.seconds;
    t.singleRowEstimateSeconds += specs_[size_t(program)].decodeEstimateSeconds;
  }
}

std::string DeviceExecutor::takeError() {
  if (!failed_)
    return "";
  std::lock_guard<std::mutex> lock(mutex_);
  failed_ = false;
  std::string e;
  e.swap(error_);
  return e;
}

std::vector<std::pair<std::string, DeviceTime>> DeviceExecutor::times() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, DeviceTime>> out;
  for (const std::string &name : deviceNames_)
    out.push_back({name, DeviceTime()});
  for (size_t i = 0; i < programTimes_.size(); ++i) {
    DeviceTime &sum = out[deviceOf_[i]].second;
    const DeviceTime &t = programTimes_[i];
    sum.calls += t.calls;
    sum.rows += t.rows;
    sum.seconds += t.seconds;
    sum.singleRowCalls += t.singleRowCalls;
    sum.singleRowSeconds += t.singleRowSeconds;
    sum.singleRowEstimateSeconds += t.singleRowEstimateSeconds;
  }
  return out;
}

void DeviceExecutor::resetTimes() {
  std::lock_guard<std::mutex> lock(mutex_);
  programTimes_.assign(programs_.size(), DeviceTime());
  traces_.clear();
}

void DeviceExecutor::setSubBatch(int64_t firstRow) {
  currentSubBatch = firstRow;
}

double DeviceExecutor::timelineSeconds(int64_t *subBatches) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (subBatches)
    *subBatches = int64_t(traces_.size());
  // List scheduling: the next launch to start is the one that can start
  // first (the lower sub-batch on a tie).
  std::vector<const std::vector<std::pair<size_t, double>> *> sequences;
  for (const auto &[first, trace] : traces_)
    sequences.push_back(&trace);
  std::vector<size_t> next(sequences.size(), 0);
  std::vector<double> ready(sequences.size(), 0);
  std::vector<double> free(deviceNames_.size(), 0);
  double end = 0;
  for (;;) {
    size_t best = sequences.size();
    double bestStart = 0;
    for (size_t s = 0; s < sequences.size(); ++s) {
      if (next[s] == sequences[s]->size())
        continue;
      double start = std::max(ready[s], free[(*sequences[s])[next[s]].first]);
      if (best == sequences.size() || start < bestStart) {
        best = s;
        bestStart = start;
      }
    }
    if (best == sequences.size())
      return end;
    auto [device, seconds] = (*sequences[best])[next[best]++];
    ready[best] = free[device] = bestStart + seconds;
    end = std::max(end, ready[best]);
  }
}
