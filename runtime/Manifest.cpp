//===- Manifest.cpp - the artifact manifest, parsed and checked -----------===//

#include "runtime/Manifest.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/Status.h"

#include <nlohmann/json.hpp>

#include <type_traits>

using nlohmann::json;
using namespace llmc::runtime;

namespace {

/// Field access that never throws: the runtime is built without exceptions.
struct Reader {
  std::string error;

  const json *field(const json &object, const char *key,
                    const std::string &where) {
    if (!object.is_object()) {
      error = where + " is not an object";
      return nullptr;
    }
    auto it = object.find(key);
    if (it == object.end()) {
      error = where + " has no '" + key + "'";
      return nullptr;
    }
    return &*it;
  }
  /// A string or integer field; an absent optional one leaves `out`.
  template <typename T>
  bool scalar(const json &object, const char *key, const std::string &where,
              T &out, bool optional) {
    if (optional && (!object.is_object() || !object.contains(key)))
      return true;
    const json *v = field(object, key, where);
    if (!v)
      return false;
    constexpr bool isString = std::is_same_v<T, std::string>;
    if (isString ? !v->is_string() : !v->is_number_integer()) {
      error = where + "." + key + " is not " +
              (isString ? "a string" : "an integer");
      return false;
    }
    out = v->get<T>();
    return true;
  }
  bool string(const json &object, const char *key, const std::string &where,
              std::string &out, bool optional = false) {
    return scalar(object, key, where, out, optional);
  }
  bool integer(const json &object, const char *key, const std::string &where,
               int64_t &out, bool optional = false) {
    return scalar(object, key, where, out, optional);
  }
  const json *array(const json &object, const char *key,
                    const std::string &where) {
    const json *v = field(object, key, where);
    if (v && !v->is_array()) {
      error = where + "." + key + " is not an array";
      return nullptr;
    }
    return v;
  }
};

bool parseArgument(Reader &r, const json &j, const std::string &where,
                   ArgumentSpec &arg) {
  std::string kind;
  if (!r.string(j, "role", where, arg.role) ||
      !r.string(j, "name", where, arg.name, true) ||
      !r.integer(j, "layer", where, arg.layer, true) ||
      !r.string(j, "kind", where, kind) ||
      !r.string(j, "dtype", where, arg.dtype))
    return false;
  if (kind != "buffer" && kind != "scalar") {
    r.error = where + ".kind is '" + kind + "', not buffer or scalar";
    return false;
  }
  arg.buffer = kind == "buffer";
  if (!arg.buffer)
    return true;
  const json *shape = r.array(j, "shape", where);
  if (!shape)
    return false;
  for (const json &d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < -1) {
      r.error = where + ".shape has a bad size";
      return false;
    }
    arg.shape.push_back(d.get<int64_t>());
  }
  if (arg.shape.size() > 8) {
    r.error = where + ".shape has rank " + std::to_string(arg.shape.size()) +
              " (at most 8)";
    return false;
  }
  return true;
}

} // namespace

const EntryPoint *Manifest::find(const std::string &name) const {
  for (const EntryPoint &e : entryPoints)
    if (e.name == name)
      return &e;
  return nullptr;
}

llmc_status llmc::runtime::parseManifest(const char *data, size_t size,
                                         Manifest &out) {
  json root = json::parse(data, data + size, nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "the manifest is not valid JSON");
  Reader r;
  auto bad = [&]() {
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "manifest: " + r.error);
  };
  std::string format;
  int64_t version = 0;
  if (!r.string(root, "format", "manifest", format) ||
      !r.integer(root, "version", "manifest", version))
    return bad();
  if (format != "llmc-artifact" || version != artifact::kVersion)
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                "manifest: format '" + format + "' version " +
                    std::to_string(version) +
                    " (this runtime reads "
                    "llmc-artifact version " +
                    std::to_string(artifact::kVersion) + ")");
  const json *entries = r.array(root, "entry_points", "manifest");
  if (!entries)
    return bad();
  for (size_t i = 0; i < entries->size(); ++i) {
    const json &e = (*entries)[i];
    std::string where = "entry_points[" + std::to_string(i) + "]";
    EntryPoint entry;
    if (!r.string(e, "name", where, entry.name) ||
        !r.string(e, "symbol", where, entry.symbol))
      return bad();
    const json *args = r.array(e, "args", where);
    if (!args)
      return bad();
    for (size_t a = 0; a < args->size(); ++a) {
      ArgumentSpec arg;
      if (!parseArgument(r, (*args)[a],
                         where + ".args[" + std::to_string(a) + "]", arg))
        return bad();
      entry.args.push_back(std::move(arg));
    }
    out.entryPoints.push_back(std::move(entry));
  }
  const json *weights = r.field(root, "weights", "manifest");
  if (!weights)
    return bad();
  int64_t total = 0;
  if (!r.integer(*weights, "bytes", "weights", total))
    return bad();
  if (total < 0)
    return fail(LLMC_ERROR_INVALID_ARTIFACT, "manifest: weights.bytes < 0");
  out.weightsBytes = static_cast<uint64_t>(total);
  const json *tensors = r.array(*weights, "tensors", "weights");
  if (!tensors)
    return bad();
  for (size_t i = 0; i < tensors->size(); ++i) {
    std::string where = "weights.tensors[" + std::to_string(i) + "]";
    WeightSpec w;
    int64_t offset = 0, bytes = 0;
    if (!r.string((*tensors)[i], "name", where, w.name) ||
        !r.string((*tensors)[i], "dtype", where, w.dtype) ||
        !r.integer((*tensors)[i], "offset", where, offset) ||
        !r.integer((*tensors)[i], "bytes", where, bytes))
      return bad();
    if (offset < 0 || bytes < 0)
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "manifest: " + where + " has a negative offset or size");
    w.offset = static_cast<uint64_t>(offset);
    w.bytes = static_cast<uint64_t>(bytes);
    out.weights.push_back(std::move(w));
  }
  // Optional: what the CPU code was compiled for (devices[kind = cpu]).
  if (auto targets = root.find("devices");
      targets != root.end() && targets->is_array())
    for (const json &t : *targets)
      if (t.is_object() && t.value("kind", "") == "cpu" &&
          t.contains("features") && t["features"].is_string())
        out.cpuFeatures = t["features"].get<std::string>();
  // Optional: the device programs of a machine target.
  if (!r.string(root, "machine", "manifest", out.machine, true))
    return bad();
  if (root.contains("device_programs")) {
    const json *programs = r.array(root, "device_programs", "manifest");
    if (!programs)
      return bad();
    for (const json &p : *programs) {
      std::string where =
          "device_programs[" + std::to_string(out.devicePrograms.size()) + "]";
      DeviceProgramSpec spec;
      if (!r.string(p, "device", where, spec.device) ||
          !r.integer(p, "device_index", where, spec.deviceIndex) ||
          !r.string(p, "ops", where, spec.ops) ||
          !r.string(p, "shape", where, spec.shape))
        return bad();
      const json *estimate = r.field(p, "decode_estimate_seconds", where);
      if (!estimate)
        return bad();
      if (!estimate->is_number())
        return fail(LLMC_ERROR_INVALID_ARTIFACT,
                    "manifest: " + where +
                        ".decode_estimate_seconds is not a number");
      spec.decodeEstimateSeconds = estimate->get<double>();
      out.devicePrograms.push_back(std::move(spec));
    }
  }
  out.generative = out.find("prefill") && out.find("decode");
  if (out.generative) {
    const json *kv = r.field(root, "kv_cache", "manifest");
    const json *model = r.field(root, "model", "manifest");
    if (!kv || !model || !r.integer(*kv, "layers", "kv_cache", out.layers) ||
        !r.integer(*kv, "num_kv_heads", "kv_cache", out.kvHeads) ||
        !r.integer(*kv, "head_dim", "kv_cache", out.headDim) ||
        !r.integer(*model, "vocab_size", "model", out.vocab) ||
        !r.integer(*model, "max_positions", "model", out.maxPositions, true))
      return bad();
    if (out.layers < 1 || out.kvHeads < 1 || out.headDim < 1 || out.vocab < 1)
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "manifest: kv_cache/model sizes must be positive");
    if (!r.integer(*kv, "bits", "kv_cache", out.kvBits, true))
      return bad();
    if (out.kvBits != 32 && out.kvBits != 8 && out.kvBits != 4)
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "manifest: kv_cache.bits must be 32, 8 or 4, got " +
                      std::to_string(out.kvBits));
    if (out.headDim * out.kvBits % 8 != 0)
      return fail(LLMC_ERROR_INVALID_ARTIFACT,
                  "manifest: kv_cache.head_dim " + std::to_string(out.headDim) +
                      " does not fill bytes of " + std::to_string(out.kvBits) +
                      "-bit codes");
  }
  return LLMC_OK;
}
