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

} // namespace llmc

#endif // LLMC_RUNTIME_BINARYIO_H
