//===- CpuFeatures.cpp - does this CPU run an artifact's code? ------------===//

#include "runtime/CpuFeatures.h"

#include <sstream>
#include <utility>

using namespace llmc::runtime;

namespace {

/// LLVM's feature names with whether this CPU has them. __builtin_cpu_supports
/// takes string literals only, hence one entry per feature.
const std::vector<std::pair<std::string, bool>> &hostFeatures() {
  static const std::vector<std::pair<std::string, bool>> features = {
#if defined(__x86_64__) || defined(__i386__)
      {"sse4.2", __builtin_cpu_supports("sse4.2")},
      {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},
      {"fma", __builtin_cpu_supports("fma")},
      {"bmi", __builtin_cpu_supports("bmi")},
      {"bmi2", __builtin_cpu_supports("bmi2")},
      {"avx512f", __builtin_cpu_supports("avx512f")},
      {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")},
      {"avx512vl", __builtin_cpu_supports("avx512vl")},
      {"avx512cd", __builtin_cpu_supports("avx512cd")},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni")},
      {"avx512vbmi", __builtin_cpu_supports("avx512vbmi")},
      {"avx512vbmi2", __builtin_cpu_supports("avx512vbmi2")},
      {"avx512bf16", __builtin_cpu_supports("avx512bf16")},
      {"avx512bitalg", __builtin_cpu_supports("avx512bitalg")},
      {"avx512vpopcntdq", __builtin_cpu_supports("avx512vpopcntdq")},
      {"avx512ifma", __builtin_cpu_supports("avx512ifma")},
      {"avx512fp16", __builtin_cpu_supports("avx512fp16")},
      {"avxvnni", __builtin_cpu_supports("avxvnni")},
      {"gfni", __builtin_cpu_supports("gfni")},
      {"vaes", __builtin_cpu_supports("vaes")},
      {"vpclmulqdq", __builtin_cpu_supports("vpclmulqdq")},
#endif
  };
  return features;
}

} // namespace

std::vector<std::string>
llmc::runtime::missingCpuFeatures(const std::string &features) {
  std::vector<std::string> missing;
  std::stringstream stream(features);
  for (std::string item; std::getline(stream, item, ',');) {
    if (item.size() < 2 || item[0] != '+')
      continue;
    std::string name = item.substr(1);
    for (const auto &[known, present] : hostFeatures())
      if (known == name && !present)
        missing.push_back(name);
  }
  return missing;
}
