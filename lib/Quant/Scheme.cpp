//===- Scheme.cpp - quantization scheme names -----------------------------===//

#include "lib/Quant/Scheme.h"

#include <cstdlib>
#include <sstream>
#include <vector>

using namespace llmc::quant;

static bool parseWeightScheme(const std::string &name, NamedScheme &scheme,
                              std::string &error);

bool llmc::quant::parseScheme(const std::string &name, NamedScheme &scheme,
                              std::string &error) {
  // The KV cache part comes last: <weights>-kv8, or kv8 alone.
  int kvBits = 0;
  std::string weights = name;
  for (auto [suffix, bits] : {std::pair("kv8", 8), std::pair("kv4", 4)}) {
    std::string part = suffix;
    if (weights == part) {
      scheme = NamedScheme();
      scheme.weightsF32 = true;
      scheme.kvBits = bits;
      return true;
    }
    part = "-" + part;
    if (weights.size() > part.size() &&
        weights.compare(weights.size() - part.size(), part.size(), part) == 0) {
      weights.resize(weights.size() - part.size());
      kvBits = bits;
    }
  }
  if (!parseWeightScheme(weights, scheme, error))
    return false;
  scheme.kvBits = kvBits;
  return true;
}

static bool parseWeightScheme(const std::string &name, NamedScheme &scheme,
                              std::string &error) {
  std::vector<std::string> parts;
  std::stringstream stream(name);
  for (std::string part; std::getline(stream, part, '-');)
    parts.push_back(part);
  const char *known =
      "int8, int4, int3 (with -a8), int2 with optional -g<N> (group size), "
      "-pc (per-channel), -asym and -a8 (int8 activations), e.g. "
      "int4-g128-asym; w8a8 and w4a8 for int8-a8 and int4-a8; ternary (b1.58 "
      "weights, int8 activations); bitmod4 and bitmod3 with optional -g<N> "
      "(BitMoD weights, int8 activations); -lut (T-MAC lookup-table kernels, "
      "int8 activations) with int4, int2 and ternary; any of them with -kv8 "
      "or -kv4 (int8/int4 KV cache), or kv8/kv4 alone";
  if (name == "ternary" || name == "ternary-lut") {
    scheme = NamedScheme();
    scheme.format = NamedScheme::Format::Ternary;
    scheme.weights.bits = 2;
    scheme.weights.groupSize = 0;
    scheme.explicitGroup = true;
    scheme.activationBits = 8;
    scheme.lookupTables = name == "ternary-lut";
    return true;
  }
  int activationBits = 0;
  bool bitMod =
      !parts.empty() && (parts[0] == "bitmod4" || parts[0] == "bitmod3");
  if (bitMod) {
    parts[0] = parts[0] == "bitmod3" ? "int3" : "int4";
    activationBits = 8;
  }
  if (!parts.empty() && (parts[0] == "w8a8" || parts[0] == "w4a8")) {
    parts[0] = parts[0] == "w8a8" ? "int8" : "int4";
    activationBits = 8;
  }
  if (parts.empty() || parts[0].size() < 4 || parts[0].compare(0, 3, "int")) {
    error = "unknown quantization scheme '" + name + "' (known: " + known + ")";
    return false;
  }
  int bits = std::atoi(parts[0].c_str() + 3);
  if (parts[0] != "int" + std::to_string(bits) ||
      (bits != 2 && bits != 3 && bits != 4 && bits != 8)) {
    error = "unsupported bit width in '" + name + "' (known: " + known + ")";
    return false;
  }
  scheme = NamedScheme();
  scheme.weights.bits = bits;
  scheme.weights.groupSize = -1;
  scheme.activationBits = activationBits;
  if (bitMod)
    scheme.format = NamedScheme::Format::BitMod;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string &part = parts[i];
    if (part == "asym" && !bitMod) {
      scheme.weights.asymmetric = true;
    } else if (part == "a8") {
      scheme.activationBits = 8;
    } else if (part == "lut" && !bitMod) {
      scheme.activationBits = 8;
      scheme.lookupTables = true;
    } else if (part == "pc") {
      scheme.weights.groupSize = 0;
      scheme.explicitGroup = true;
    } else if (part.size() > 1 && part[0] == 'g' &&
               part.find_first_not_of("0123456789", 1) == std::string::npos &&
               std::atoll(part.c_str() + 1) > 0) {
      scheme.weights.groupSize = std::atoll(part.c_str() + 1);
      scheme.explicitGroup = true;
    } else {
      error = "unknown part '" + part + "' of quantization scheme '" + name +
              "' (known: " + known + ")";
      return false;
    }
  }
  // Lookup tables index 4 activations per table, 16 inputs per step.
  if (scheme.lookupTables && bits != 2 && bits != 4) {
    error = "'" + name +
            "': lookup-table kernels take 2- or 4-bit weights, "
            "not " +
            std::to_string(bits) + "-bit";
    return false;
  }
  // 3-bit codes have CPU kernels with int8 activations only.
  if (bits == 3 && scheme.activationBits != 8) {
    error = "'" + name + "': 3-bit weights run with int8 activations (" + name +
            "-a8)";
    return false;
  }
  if (scheme.lookupTables && scheme.explicitGroup &&
      scheme.weights.groupSize % 16 != 0) {
    error = "'" + name +
            "': lookup-table kernels need groups of a multiple of 16 inputs";
    return false;
  }
  return true;
}

static std::string weightOptions(const NamedScheme &scheme);

std::string llmc::quant::passOptions(const NamedScheme &scheme) {
  std::string options =
      scheme.weightsF32 ? "weights=none" : weightOptions(scheme);
  if (scheme.kvBits)
    options += " kv=" + std::to_string(scheme.kvBits);
  return options;
}

static std::string weightOptions(const NamedScheme &scheme) {
  if (scheme.format == NamedScheme::Format::Ternary)
    return "weights=ternary activations=" +
           std::to_string(scheme.activationBits);
  if (scheme.format == NamedScheme::Format::BitMod)
    return "weights=bitmod bits=" + std::to_string(scheme.weights.bits) +
           " group-size=" + std::to_string(scheme.weights.groupSize) +
           " activations=" + std::to_string(scheme.activationBits);
  return "bits=" + std::to_string(scheme.weights.bits) +
         " group-size=" + std::to_string(scheme.weights.groupSize) +
         " asymmetric=" + (scheme.weights.asymmetric ? "true" : "false") +
         " activations=" + std::to_string(scheme.activationBits);
}
