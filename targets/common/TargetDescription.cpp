//===- TargetDescription.cpp - machines described in JSON -----------------===//

#include "targets/common/TargetDescription.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <map>

using namespace mlir::llm;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// DescriptionReader
//===----------------------------------------------------------------------===//

void DescriptionReader::fail(StringRef key, const llvm::Twine &problem) {
  if (error.empty())
    error = (where + ": field '" + key + "' " + problem).str();
}

std::optional<double> DescriptionReader::number(StringRef key, bool required) {
  const llvm::json::Value *value = object.get(key);
  if (!value) {
    if (required)
      fail(key, "is missing");
    return std::nullopt;
  }
  std::optional<double> n = value->getAsNumber();
  if (!n || !std::isfinite(*n)) {
    fail(key, "must be a number");
    return std::nullopt;
  }
  return n;
}

double DescriptionReader::positive(StringRef key) {
  std::optional<double> n = number(key, /*required=*/true);
  if (n && *n <= 0)
    fail(key, "must be a positive number");
  return n && *n > 0 ? *n : 1;
}

double DescriptionReader::positive(StringRef key, double fallback) {
  std::optional<double> n = number(key, /*required=*/false);
  if (!n)
    return fallback;
  if (*n <= 0)
    fail(key, "must be a positive number");
  return *n > 0 ? *n : fallback;
}

double DescriptionReader::fraction(StringRef key, double fallback) {
  std::optional<double> n = number(key, /*required=*/false);
  if (!n)
    return fallback;
  if (*n <= 0 || *n > 1)
    fail(key, "must be in (0, 1]");
  return *n > 0 && *n <= 1 ? *n : fallback;
}

double DescriptionReader::nonNegative(StringRef key, double fallback) {
  std::optional<double> n = number(key, /*required=*/false);
  if (!n)
    return fallback;
  if (*n < 0)
    fail(key, "must not be negative");
  return *n >= 0 ? *n : fallback;
}

int64_t DescriptionReader::count(StringRef key) {
  std::optional<double> n = number(key, /*required=*/true);
  if (n && (*n < 1 || *n != std::floor(*n)))
    fail(key, "must be a positive integer");
  return n && *n >= 1 ? static_cast<int64_t>(*n) : 1;
}

std::string DescriptionReader::string(StringRef key, StringRef fallback) {
  const llvm::json::Value *value = object.get(key);
  if (!value)
    return fallback.str();
  if (std::optional<StringRef> s = value->getAsString())
    return s->str();
  fail(key, "must be a string");
  return fallback.str();
}

std::vector<std::string> DescriptionReader::strings(StringRef key) {
  std::vector<std::string> result;
  const llvm::json::Value *value = object.get(key);
  if (!value)
    return result;
  const llvm::json::Array *array = value->getAsArray();
  if (!array) {
    fail(key, "must be an array of strings");
    return result;
  }
  for (const llvm::json::Value &element : *array) {
    std::optional<StringRef> s = element.getAsString();
    if (!s) {
      fail(key, "must be an array of strings");
      return {};
    }
    result.push_back(s->str());
  }
  return result;
}

llvm::Error DescriptionReader::takeError() {
  if (error.empty())
    return llvm::Error::success();
  return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

static std::map<std::string, DeviceModelFactory> &registry() {
  static std::map<std::string, DeviceModelFactory> factories;
  return factories;
}

void mlir::llm::registerDeviceKind(StringRef kind, DeviceModelFactory factory) {
  registry()[kind.str()] = std::move(factory);
}

std::vector<std::string> mlir::llm::registeredDeviceKinds() {
  std::vector<std::string> kinds;
  for (auto &entry : registry())
    kinds.push_back(entry.first);
  return kinds;
}

//===----------------------------------------------------------------------===//
// Machine
//===----------------------------------------------------------------------===//

CostEstimate Device::estimate(const OpCost &cost) const {
  if (!dtypes.empty() && !cost.dtype.empty() &&
      llvm::find(dtypes, cost.dtype) == dtypes.end()) {
    std::string list;
    for (const std::string &dtype : dtypes)
      list += (list.empty() ? "" : ", ") + dtype;
    return CostEstimate::unsupported(name + " does not compute in " +
                                     cost.dtype + " (dtypes: " + list + ")");
  }
  return model->estimate(cost);
}

std::optional<unsigned> Machine::find(StringRef kind, int64_t index) const {
  for (unsigned i = 0; i < devices.size(); ++i)
    if (devices[i].kind == kind && devices[i].index == index)
      return i;
  return std::nullopt;
}

std::optional<size_t> Machine::linkBetween(unsigned a, unsigned b) const {
  for (size_t i = 0; i < links.size(); ++i)
    if ((links[i].from == a && links[i].to == b) ||
        (links[i].from == b && links[i].to == a))
      return i;
  return std::nullopt;
}

static llvm::Error descriptionError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

llvm::Expected<Machine> mlir::llm::parseMachine(StringRef text,
                                                StringRef source) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return descriptionError(
        source + ": not valid JSON: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return descriptionError(source + ": the description must be an object");

  Machine machine;
  DescriptionReader top(*root, source.str());
  machine.name = top.string("name", source);
  machine.description = top.string("description", "");
  if (!top.ok())
    return top.takeError();

  const llvm::json::Array *devices = root->getArray("devices");
  if (!devices || devices->empty())
    return descriptionError(source +
                            ": field 'devices' must be a non-empty array");
  llvm::StringMap<unsigned> byName;
  std::map<std::string, int64_t> perKind;
  for (size_t i = 0; i < devices->size(); ++i) {
    std::string where = llvm::formatv("{0}: devices[{1}]", source, i).str();
    const llvm::json::Object *object = (*devices)[i].getAsObject();
    if (!object)
      return descriptionError(where + " must be an object");
    DescriptionReader reader(*object, where);
    Device device;
    device.kind = reader.string("kind", "");
    device.name = reader.string("name", "");
    if (!reader.ok())
      return reader.takeError();
    if (device.name.empty())
      return descriptionError(where + ": field 'name' is missing");
    where += " '" + device.name + "'";
    DescriptionReader named(*object, where);
    auto factory = registry().find(device.kind);
    if (factory == registry().end()) {
      std::string known;
      for (const std::string &kind : registeredDeviceKinds())
        known += (known.empty() ? "" : ", ") + kind;
      return descriptionError(where + ": field 'kind' names unknown target '" +
                              device.kind + "' (known: " + known + ")");
    }
    std::string pool = named.string("memory_pool", "");
    if (!pool.empty()) {
      auto it = llvm::find(machine.pools, pool);
      device.pool = it - machine.pools.begin();
      if (it == machine.pools.end())
        machine.pools.push_back(pool);
    }
    device.dtypes = named.strings("dtypes");
    device.model = factory->second(named);
    if (!named.ok())
      return named.takeError();
    if (!byName.try_emplace(device.name, machine.devices.size()).second)
      return descriptionError(where +
                              ": field 'name' repeats an earlier device");
    device.index = perKind[device.kind]++;
    machine.devices.push_back(std::move(device));
  }

  std::string host = top.string("host", machine.devices.front().name);
  auto hostIt = byName.find(host);
  if (hostIt == byName.end())
    return descriptionError(source + ": field 'host' names no device ('" +
                            host + "')");
  machine.host = hostIt->second;

  if (const llvm::json::Value *links = root->get("links")) {
    const llvm::json::Array *array = links->getAsArray();
    if (!array)
      return descriptionError(source + ": field 'links' must be an array");
    for (size_t i = 0; i < array->size(); ++i) {
      std::string where = llvm::formatv("{0}: links[{1}]", source, i).str();
      const llvm::json::Object *object = (*array)[i].getAsObject();
      if (!object)
        return descriptionError(where + " must be an object");
      DescriptionReader reader(*object, where);
      Link link;
      for (auto [key, slot] :
           {std::pair<StringRef, unsigned *>{"from", &link.from},
            {"to", &link.to}}) {
        std::string name = reader.string(key, "");
        auto it = byName.find(name);
        if (it == byName.end())
          reader.fail(key, "names no device ('" + name + "')");
        else
          *slot = it->second;
      }
      link.sharedMemory = object->getBoolean("shared_memory").value_or(false);
      link.bandwidth = reader.positive("bandwidth_gbps") * 1e9;
      link.latency = reader.nonNegative("latency_us", 0) * 1e-6;
      if (!reader.ok())
        return reader.takeError();
      machine.links.push_back(link);
    }
  }
  return machine;
}

//===----------------------------------------------------------------------===//
// Presets
//===----------------------------------------------------------------------===//

namespace {
struct Preset {
  const char *name;
  const char *text;
};
// Generated from examples/targets/*.json by CMake.
const Preset presets[] = {
#include "targets/common/Presets.inc"
};
} // namespace

std::vector<std::string> mlir::llm::presetNames() {
  std::vector<std::string> names;
  for (const Preset &preset : presets)
    names.push_back(preset.name);
  return names;
}

StringRef mlir::llm::presetText(StringRef name) {
  for (const Preset &preset : presets)
    if (name == preset.name)
      return preset.text;
  return {};
}

llvm::Expected<Machine> mlir::llm::loadMachine(StringRef nameOrPath) {
  if (StringRef text = presetText(nameOrPath); !text.empty())
    return parseMachine(text, nameOrPath);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(nameOrPath);
  if (!file) {
    std::string names;
    for (const std::string &name : presetNames())
      names += (names.empty() ? "" : ", ") + name;
    return descriptionError(
        "target '" + nameOrPath + "' is neither a preset (" + names +
        ") nor a readable file: " + file.getError().message());
  }
  return parseMachine((*file)->getBuffer(), nameOrPath);
}
