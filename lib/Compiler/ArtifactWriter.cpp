//===- ArtifactWriter.cpp - the bytes of a .llmc artifact -----------------===//

#include "lib/Compiler/ArtifactWriter.h"

#include "runtime/ArtifactFormat.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace llmc;
namespace format = llmc::artifact;

namespace {

void put32(std::string &out, size_t at, uint32_t v) {
  llvm::support::endian::write32le(&out[at], v);
}
void put64(std::string &out, size_t at, uint64_t v) {
  llvm::support::endian::write64le(&out[at], v);
}

} // namespace

std::string llmc::writeArtifact(llvm::StringRef manifest,
                                llvm::StringRef sharedObject,
                                const mlir::llm::cpu::WeightsLayout &weights) {
  struct Section {
    format::SectionKind kind;
    uint64_t size;
  };
  Section sections[] = {
      {format::SectionKind::Manifest, manifest.size()},
      {format::SectionKind::CpuSharedObject, sharedObject.size()},
      {format::SectionKind::Weights,
       static_cast<uint64_t>(weights.totalBytes)}};
  constexpr uint32_t count = 3;
  uint64_t offsets[count];
  uint64_t end =
      sizeof(format::FileHeader) + count * sizeof(format::SectionEntry);
  for (uint32_t i = 0; i < count; ++i) {
    offsets[i] = llvm::alignTo(end, format::kSectionAlignment);
    end = offsets[i] + sections[i].size;
  }
  std::string out(end, '\0');
  std::memcpy(&out[0], format::kMagic, sizeof(format::kMagic));
  put32(out, offsetof(format::FileHeader, version), format::kVersion);
  put32(out, offsetof(format::FileHeader, sectionCount), count);
  put64(out, offsetof(format::FileHeader, fileSize), end);
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = sizeof(format::FileHeader) + i * sizeof(format::SectionEntry);
    put32(out, at + offsetof(format::SectionEntry, kind),
          static_cast<uint32_t>(sections[i].kind));
    put64(out, at + offsetof(format::SectionEntry, offset), offsets[i]);
    put64(out, at + offsetof(format::SectionEntry, size), sections[i].size);
  }
  std::memcpy(&out[offsets[0]], manifest.data(), manifest.size());
  std::memcpy(&out[offsets[1]], sharedObject.data(), sharedObject.size());
  for (const mlir::llm::cpu::WeightTensor &w : weights.tensors)
    std::memcpy(&out[offsets[2] + w.offset], w.data.data(), w.data.size());
  return out;
}
