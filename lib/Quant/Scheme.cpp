//===- Scheme.cpp - quantization scheme names -----------------------------===//

#include "lib/Quant/Scheme.h"

#include <cstdlib>
#include <sstream>
#include <vector>

using namespace llmc::quant;

bool llmc::quant::parseScheme(const std::string &name, NamedScheme &scheme,
                              std::string &error) {
  std::vector<std::string> parts;
  std::stringstream stream(name);
  for (std::string part; std::getline(stream, part, '-');)
    parts.push_back(part);
  const char *known = "int8, int4, int2 with optional -g<N> (group size), -pc "
                      "(per-channel) and -asym, e.g. int4-g128-asym";
  if (parts.empty() || parts[0].size() < 4 || parts[0].compare(0, 3, "int")) {
    error = "unknown quantization scheme '" + name + "' (known: " + known + ")";
    return false;
  }
  int bits = std::atoi(parts[0].c_str() + 3);
  if (parts[0] != "int" + std::to_string(bits) ||
      (bits != 2 && bits != 4 && bits != 8)) {
    error = "unsupported bit width in '" + name + "' (known: " + known + ")";
    return false;
  }
  scheme = NamedScheme();
  scheme.weights.bits = bits;
  scheme.weights.groupSize = -1;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string &part = parts[i];
    if (part == "asym") {
      scheme.weights.asymmetric = true;
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
  return true;
}

std::string llmc::quant::passOptions(const NamedScheme &scheme) {
  return "bits=" + std::to_string(scheme.weights.bits) +
         " group-size=" + std::to_string(scheme.weights.groupSize) +
         " asymmetric=" + (scheme.weights.asymmetric ? "true" : "false");
}
