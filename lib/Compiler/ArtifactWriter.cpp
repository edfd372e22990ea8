//===- ArtifactWriter.cpp - the bytes of a .llmc artifact -----------------===//

#include "lib/Compiler/ArtifactWriter.h"

#include "runtime/ArtifactFormat.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>
#include <vector>

using namespace llmc;
namespace format = llmc::artifact;

namespace {

void put32(std::string &out, size_t at, uint32_t v) {
  llvm::support::endian::write32le(&out[at], v);
}
void put64(std::string &out, size_t at, uint64_t v) {
  llvm::support::endian::write64le(&out[at], v);
}

/// u64 count, count × (u64 offset, u64 size) from the section's start, then
/// the programs, each 8-byte aligned.
std::string
deviceProgramsSection(llvm::ArrayRef<llvm::ArrayRef<char>> programs) {
  uint64_t end = 8 + 16 * programs.size();
  std::vector<uint64_t> offsets;
  for (llvm::ArrayRef<char> p : programs) {
    offsets.push_back(llvm::alignTo(end, 8));
    end = offsets.back() + p.size();
  }
  std::string out(end, '\0');
  put64(out, 0, programs.size());
  for (auto [i, p] : llvm::enumerate(programs)) {
    put64(out, 8 + 16 * i, offsets[i]);
    put64(out, 16 + 16 * i, p.size());
    std::memcpy(&out[offsets[i]], p.data(), p.size());
  }
  return out;
}

} // namespace

std::string
llmc::writeArtifact(llvm::StringRef manifest, llvm::StringRef sharedObject,
                    const mlir::llm::cpu::WeightsLayout &weights,
                    llvm::ArrayRef<llvm::ArrayRef<char>> devicePrograms) {
  struct Section {
    format::SectionKind kind;
    uint64_t size;
  };
  std::string programs =
      devicePrograms.empty() ? "" : deviceProgramsSection(devicePrograms);
  Section sections[] = {
      {format::SectionKind::Manifest, manifest.size()},
      {format::SectionKind::CpuSharedObject, sharedObject.size()},
      {format::SectionKind::Weights, static_cast<uint64_t>(weights.totalBytes)},
      {format::SectionKind::DevicePrograms, programs.size()}};
  const uint32_t count = programs.empty() ? 3 : 4;
  uint64_t offsets[4];
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
  if (!programs.empty())
    std::memcpy(&out[offsets[3]], programs.data(), programs.size());
  return out;
}
