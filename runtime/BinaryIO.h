//===- BinaryIO.h - little-endian readers and writers for binary formats --===//
//
// The device program formats are sequences of fixed-size little-endian
// fields. The reader never reads past its end: every get reports whether
// the field was there, so a truncated or corrupt program is an error, not a
// crash.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_RUNTIME_BINARYIO_H
#define LLMC_RUNTIME_BINARYIO_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace llmc {

class ByteWriter {
public:
  template <typename T> void put(const T &value) {
    const auto *p = reinterpret_cast<const uint8_t *>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  std::vector<uint8_t> bytes;
};

class ByteReader {
public:
  ByteReader(const uint8_t *data, size_t size) : data(data), size(size) {}
  template <typename T> bool get(T &value) {
    if (size - position < sizeof(T))
      return false;
    std::memcpy(&value, data + position, sizeof(T));
    position += sizeof(T);
    return true;
  }
  size_t remaining() const { return size - position; }
  const uint8_t *here() const { return data + position; }

private:
  const uint8_t *data;
  size_t size;
  size_t position = 0;
};

/// Reads a format's 8-byte magic and u32 version. Returns "" when both are
/// right, else what is wrong ("truncated header", "bad magic (not an NAME
/// program)", "unsupported version V (this runtime reads version W)").
inline std::string readMagicAndVersion(ByteReader &r, const char (&magic)[8],
                                       uint32_t version) {
  char seen[8];
  for (char &c : seen)
    if (!r.get(c))
      return "truncated header";
  if (std::memcmp(seen, magic, sizeof(seen)) != 0)
    return "bad magic (not an " + std::string(magic, sizeof(seen)) +
           " program)";
  uint32_t found = 0;
  if (!r.get(found))
    return "truncated header";
  if (found != version)
    return "unsupported version " + std::to_string(found) +
           " (this runtime reads version " + std::to_string(version) + ")";
  return "";
}

} // namespace llmc

#endif // LLMC_RUNTIME_BINARYIO_H
