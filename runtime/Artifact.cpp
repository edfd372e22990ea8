//===- Artifact.cpp - a mapped, validated .llmc artifact ------------------===//

#include "runtime/Artifact.h"

#include "runtime/ArtifactFormat.h"
#include "runtime/CpuFeatures.h"
#include "runtime/Status.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llmc::runtime;

/// The compiled code mallocs its temporaries and frees each after its last
/// use. With glibc's defaults, large blocks are mmap'd and unmapped (or the
/// heap top trimmed) on free, so every step faults fresh zeroed pages in:
/// that cost more than half of a warm prefill. Freed blocks stay in the
/// heap for the next step instead (once per process; the host's own
/// allocations behave the same, minus the returns to the OS).
static void keepTemporariesInHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's largest
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}
namespace format = llmc::artifact;

namespace {

uint32_t read32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}
uint64_t read64(const uint8_t *p) {
  return uint64_t(read32(p)) | uint64_t(read32(p + 4)) << 32;
}

} // namespace

Artifact::~Artifact() {
  if (library_)
    dlclose(library_);
  if (codeFd_ >= 0)
    ::close(codeFd_);
  if (hugeWeights_)
    munmap(hugeWeights_, hugeWeightsSize_);
  if (map_)
    munmap(map_, mapSize_);
}

llmc_status Artifact::open(const std::string &path,
                           std::unique_ptr<Artifact> &out) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  if (llmc_status s = artifact->load(path))
    return s;
  out = std::move(artifact);
  return LLMC_OK;
}

llmc_status Artifact::load(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(LLMC_ERROR_IO, "cannot open " + path + ": " + strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(LLMC_ERROR_IO, path + " is not a regular file");
  }
  uint64_t fileSize = static_cast<uint64_t>(st.st_size);
  if (fileSize < sizeof(format::FileHeader)) {
    ::close(fd);
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                path + ": " + std::to_string(fileSize) +
                    " bytes, shorter than the artifact header");
  }
  map_ = mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    return fail(LLMC_ERROR_IO, "cannot map " + path + ": " + strerror(errno));
  }
  mapSize_ = fileSize;
  if (llmc_status s = validate(path))
    return s;
  moveWeightsToHugePages();
  return LLMC_OK;
}

void Artifact::moveWeightsToHugePages() {
  // A decode step streams every weight once. Read through the file mapping
  // (4 KiB pages) that is one TLB miss per 4 KiB, and the hardware
  // prefetchers stop at each page boundary; weights far larger than the
  // TLB's reach (64 MiB and more) are copied into 2 MiB pages instead.
  // LLMC_HUGE_PAGES=0 keeps the file mapping, =1 copies whatever the size.
  // Best effort: without huge pages the copy is skipped.
  constexpr uint64_t kMinBytes = 64ull << 20, kHuge = 2ull << 20;
  uint64_t bytes = manifest_.weightsBytes;
  const char *env = getenv("LLMC_HUGE_PAGES");
  bool force = env && std::strcmp(env, "1") == 0;
  if (bytes == 0 || (env && std::strcmp(env, "0") == 0) ||
      (bytes < kMinBytes && !force))
    return;
  size_t size = (bytes + kHuge - 1) / kHuge * kHuge;
  // Over-allocate to align the start to a huge page.
  size_t reserve = size + kHuge;
  void *raw = mmap(nullptr, reserve, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return;
  uintptr_t start =
      (reinterpret_cast<uintptr_t>(raw) + kHuge - 1) & ~(kHuge - 1);
  auto *aligned = reinterpret_cast<uint8_t *>(start);
  if (start > reinterpret_cast<uintptr_t>(raw))
    munmap(raw, start - reinterpret_cast<uintptr_t>(raw));
  size_t tail = reinterpret_cast<uintptr_t>(raw) + reserve - (start + size);
  if (tail)
    munmap(aligned + size, tail);
  if (madvise(aligned, size, MADV_HUGEPAGE) != 0) {
    munmap(aligned, size);
    return;
  }
  std::memcpy(aligned, weights_, bytes);
  mprotect(aligned, size, PROT_READ);
  // The file's pages of the weights are not needed any more.
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t from =
      (reinterpret_cast<uintptr_t>(weights_) + page - 1) & ~(page - 1);
  uintptr_t to = (reinterpret_cast<uintptr_t>(weights_) + bytes) & ~(page - 1);
  if (to > from)
    madvise(reinterpret_cast<void *>(from), to - from, MADV_DONTNEED);
  weights_ = aligned;
  hugeWeights_ = aligned;
  hugeWeightsSize_ = size;
}

llmc_status Artifact::openBuffer(const void *data, size_t size,
                                 std::unique_ptr<Artifact> &out) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  if (size < sizeof(format::FileHeader))
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                "<memory>: " + std::to_string(size) +
                    " bytes, shorter than the artifact header");
  // Page-aligned like a mapped file, so that the weights stay aligned.
  void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    return fail(LLMC_ERROR_OUT_OF_MEMORY, "cannot map " + std::to_string(size) +
                                              " bytes for the artifact");
  std::memcpy(map, data, size);
  mprotect(map, size, PROT_READ);
  artifact->map_ = map;
  artifact->mapSize_ = size;
  if (llmc_status s = artifact->validate("<memory>"))
    return s;
  out = std::move(artifact);
  return LLMC_OK;
}

llmc_status Artifact::validate(const std::string &path) {
  uint64_t fileSize = mapSize_;
  const auto *bytes = static_cast<const uint8_t *>(map_);
  auto bad = [&](const std::string &what) {
    return fail(LLMC_ERROR_INVALID_ARTIFACT, path + ": " + what);
  };

  if (std::memcmp(bytes, format::kMagic, sizeof(format::kMagic)) != 0)
    return bad("not an llmc artifact (wrong magic)");
  uint32_t version = read32(bytes + offsetof(format::FileHeader, version));
  if (version != format::kVersion)
    return bad("artifact version " + std::to_string(version) +
               ", this runtime reads version " +
               std::to_string(format::kVersion));
  uint64_t declaredSize =
      read64(bytes + offsetof(format::FileHeader, fileSize));
  if (declaredSize != fileSize)
    return bad("the header says " + std::to_string(declaredSize) +
               " bytes but the file has " + std::to_string(fileSize) +
               " (truncated or padded)");
  uint32_t count = read32(bytes + offsetof(format::FileHeader, sectionCount));
  if (count == 0 || count > format::kMaxSections)
    return bad(std::to_string(count) + " sections (1 to " +
               std::to_string(format::kMaxSections) + " expected)");
  uint64_t tableEnd = sizeof(format::FileHeader) +
                      uint64_t(count) * sizeof(format::SectionEntry);
  if (tableEnd > fileSize)
    return bad("the section table runs past the end of the file");

  const uint8_t *sections[5] = {};
  uint64_t sizes[5] = {};
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t *e =
        bytes + sizeof(format::FileHeader) + i * sizeof(format::SectionEntry);
    uint32_t kind = read32(e + offsetof(format::SectionEntry, kind));
    uint64_t offset = read64(e + offsetof(format::SectionEntry, offset));
    uint64_t size = read64(e + offsetof(format::SectionEntry, size));
    std::string name = "section " + std::to_string(i);
    if (kind < 1 || kind > 4)
      return bad(name + " has unknown kind " + std::to_string(kind));
    if (sections[kind])
      return bad(name + " repeats kind " + std::to_string(kind));
    if (offset < tableEnd || offset > fileSize || size > fileSize - offset)
      return bad(name + " [" + std::to_string(offset) + ", +" +
                 std::to_string(size) + ") is outside the file");
    if (offset % format::kSectionAlignment != 0)
      return bad(name + " is not page aligned");
    sections[kind] = bytes + offset;
    sizes[kind] = size;
  }
  for (uint32_t kind = 1; kind <= 3; ++kind)
    if (!sections[kind])
      return bad("no section of kind " + std::to_string(kind) +
                 (kind == 1   ? " (manifest)"
                  : kind == 2 ? " (CPU code)"
                              : " (weights)"));

  if (llmc_status s = parseManifest(reinterpret_cast<const char *>(sections[1]),
                                    sizes[1], manifest_))
    return fail(s, path + ": " + lastError());
  if (manifest_.weightsBytes != sizes[3])
    return bad("the manifest says " + std::to_string(manifest_.weightsBytes) +
               " bytes of weights, the section has " +
               std::to_string(sizes[3]));
  for (const WeightSpec &w : manifest_.weights)
    if (w.offset > sizes[3] || w.bytes > sizes[3] - w.offset)
      return bad("weight '" + w.name + "' [" + std::to_string(w.offset) +
                 ", +" + std::to_string(w.bytes) +
                 ") is outside the weights section");
  weights_ = sections[3];
  if (llmc_status s = devices_.load(sections[4], sizes[4], manifest_))
    return fail(s, path + ": " + lastError());
  return loadCode(sections[2], sizes[2]);
}

llmc_status Artifact::loadCode(const uint8_t *elf, uint64_t size) {
  if (size < 4 || std::memcmp(elf,
                              "\x7f"
                              "ELF",
                              4) != 0)
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                "the CPU code section is not an ELF shared object");
  // Code for instructions this CPU lacks would die of SIGILL in its first
  // call.
  std::vector<std::string> missing = missingCpuFeatures(manifest_.cpuFeatures);
  if (!missing.empty()) {
    std::string names;
    for (const std::string &m : missing)
      names += (names.empty() ? "" : ", ") + m;
    return fail(LLMC_ERROR_UNSUPPORTED,
                "the CPU code was compiled for features this CPU does not "
                "have (" +
                    names +
                    "); compile the model for this machine (llm-compile "
                    "--mcpu=host) or a CPU without them");
  }
  keepTemporariesInHeap();
  // dlopen needs a file: an anonymous in-memory one, or with LLMC_CODE_DIR
  // set a real one there, so that profilers can read the code's symbols.
  std::string codePath;
  int fd;
  if (const char *dir = getenv("LLMC_CODE_DIR"); dir && *dir) {
    // One name per artifact: dlopen of a loaded name returns that library.
    static std::atomic<int> loaded{0};
    codePath = std::string(dir) + "/llmc-cpu-code-" + std::to_string(getpid()) +
               "-" + std::to_string(loaded++) + ".so";
    fd = ::open(codePath.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC,
                0700);
  } else {
    fd = memfd_create("llmc-cpu-code", MFD_CLOEXEC);
  }
  if (fd < 0)
    return fail(LLMC_ERROR_IO, "cannot stage the CPU code" +
                                   (codePath.empty() ? "" : " in " + codePath) +
                                   ": " + strerror(errno));
  uint64_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd, elf + written, size - written);
    if (n <= 0) {
      ::close(fd);
      return fail(LLMC_ERROR_IO,
                  std::string("cannot stage the CPU code: ") + strerror(errno));
    }
    written += static_cast<uint64_t>(n);
  }
  // The in-memory file stays open while the code is loaded: dlopen
  // returns an already loaded library of the same name, so a second
  // artifact must not get a /proc/self/fd path whose number was reused.
  if (codePath.empty()) {
    codePath = "/proc/self/fd/" + std::to_string(fd);
    codeFd_ = fd;
  }
  library_ = dlopen(codePath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (codeFd_ < 0)
    ::close(fd);
  if (!library_) {
    const char *why = dlerror();
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                std::string("cannot load the CPU code: ") +
                    (why ? why : "unknown error"));
  }
  // Code that runs device programs calls the executor through two globals.
  void *hook = dlsym(library_, format::kDeviceHookSymbol);
  void *context = dlsym(library_, format::kDeviceContextSymbol);
  if ((hook != nullptr) != !devices_.empty() || (hook && !context))
    return fail(LLMC_ERROR_INVALID_ARTIFACT,
                hook ? "the CPU code runs device programs, the artifact has "
                       "none"
                     : "the artifact has device programs the CPU code never "
                       "runs");
  if (hook) {
    *static_cast<format::DeviceHook *>(hook) = &DeviceExecutor::hook;
    *static_cast<void **>(context) = &devices_;
  }
  for (const EntryPoint &e : manifest_.entryPoints) {
    void *symbol = dlsym(library_, e.symbol.c_str());
    if (!symbol)
      return fail(LLMC_ERROR_INVALID_ARTIFACT, "entry point '" + e.name +
                                                   "': symbol " + e.symbol +
                                                   " is not in the CPU code");
    functions_.emplace_back(e.name, reinterpret_cast<PackedEntry>(symbol));
  }
  return LLMC_OK;
}

PackedEntry Artifact::function(const EntryPoint &entry) const {
  for (const auto &[name, fn] : functions_)
    if (name == entry.name)
      return fn;
  return nullptr;
}
