//===- CpuFeatures.h - does this CPU run an artifact's code? ----*- C++ -*-===//
//
// An artifact records the LLVM features its CPU code was compiled for
// ("+avx512f,+avx512vnni,-amx-tile,..."). Loading code that uses an
// instruction this CPU lacks ends in SIGILL at the first call; the runtime
// checks the features it can ask the CPU about first.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_CPUFEATURES_H
#define LLMC_RUNTIME_CPUFEATURES_H

#include <string>
#include <vector>

namespace llmc::runtime {

/// The enabled ("+name") features of an LLVM feature string that this CPU
/// does not have, among those the runtime knows how to ask about (x86 SIMD
/// extensions); unknown names are not reported.
std::vector<std::string> missingCpuFeatures(const std::string &features);

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_CPUFEATURES_H
