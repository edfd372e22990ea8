//===- Descriptor.h - memref descriptors for compiled code ------*- C++ -*-===//

#ifndef LLMC_RUNTIME_DESCRIPTOR_H
#define LLMC_RUNTIME_DESCRIPTOR_H

#include <cstdint>
#include <vector>

namespace llmc::runtime {

/// A memref descriptor {allocated, aligned, offset, sizes[R], strides[R]}
/// with row-major strides, as the compiled code's C interface takes it.
struct Descriptor {
  std::vector<int64_t> words;
  Descriptor(const void *data, const std::vector<int64_t> &sizes) {
    size_t rank = sizes.size();
    words.assign(3 + 2 * rank, 0);
    int64_t address = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
    words[0] = words[1] = address;
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      words[3 + d] = sizes[d];
      words[3 + rank + d] = stride;
      stride *= sizes[d];
    }
  }
};

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_DESCRIPTOR_H
