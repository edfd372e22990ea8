//===- ArtifactFormat.h - the .llmc artifact's binary layout ----*- C++ -*-===//
//
// Shared by the compiler, which writes artifacts, and the runtime, which
// reads them; plain C++ so that the runtime stays free of LLVM and MLIR.
// docs/targets/artifact.md describes the format.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_ARTIFACTFORMAT_H
#define LLMC_RUNTIME_ARTIFACTFORMAT_H

#include <cstdint>

namespace llmc::artifact {

/// The first 8 bytes of every artifact.
constexpr char kMagic[8] = {'L', 'L', 'M', 'C', 'A', 'R', 'T', '\0'};
/// Bumped on any incompatible change of the layout or the manifest.
constexpr uint32_t kVersion = 1;
/// Sections start on page boundaries so that they can be mapped.
constexpr uint64_t kSectionAlignment = 4096;

enum class SectionKind : uint32_t {
  Manifest = 1,        // JSON, UTF-8
  CpuSharedObject = 2, // an ELF shared object with the CPU entry points
  Weights = 3,         // tensors at the offsets the manifest gives
  DevicePrograms = 4,  // u64 count, count × (u64 offset, u64 size) from the
                       // section's start, then the programs (LLMCDEVP)
};

/// All integers little-endian.
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t sectionCount;
  uint64_t fileSize; // the whole artifact, for truncation checks
  uint64_t reserved[5];
};
static_assert(sizeof(FileHeader) == 64, "header layout");

struct SectionEntry {
  uint32_t kind; // SectionKind
  uint32_t reserved;
  uint64_t offset; // from the start of the file
  uint64_t size;   // in bytes
  uint64_t reserved2;
};
static_assert(sizeof(SectionEntry) == 32, "section entry layout");

/// Code that runs device programs calls
///   void llmc_device_call(int64_t program,
///                         int64_t rank0, const Descriptor *buffer0, ...,
///                         int64_t rank7, const Descriptor *buffer7)
/// (MLIR's unranked memref convention, f32 buffers): the program's inputs,
/// then its outputs, then unused slots (which repeat buffer 0). The
/// compiler defines it to call the function the runtime stores in
/// llmc_device_hook with the pointer it stores in llmc_device_context and
/// the same arguments.
constexpr char kDeviceCallSymbol[] = "llmc_device_call";
constexpr char kDeviceHookSymbol[] = "llmc_device_hook";
constexpr char kDeviceContextSymbol[] = "llmc_device_context";
constexpr int kDeviceCallBuffers = 8;
using DeviceHook = void (*)(void *context, int64_t program, int64_t rank0,
                            const void *buffer0, int64_t rank1,
                            const void *buffer1, int64_t rank2,
                            const void *buffer2, int64_t rank3,
                            const void *buffer3, int64_t rank4,
                            const void *buffer4, int64_t rank5,
                            const void *buffer5, int64_t rank6,
                            const void *buffer6, int64_t rank7,
                            const void *buffer7);

/// Sections follow the header and the section table.
constexpr uint32_t kMaxSections = 16;

} // namespace llmc::artifact

#endif // LLMC_RUNTIME_ARTIFACTFORMAT_H
