//===- Invoke.cpp - calling a function-mode entry point -------------------===//

#include "runtime/Invoke.h"

#include "runtime/Descriptor.h"
#include "runtime/Status.h"

#include <memory>

using namespace llmc::runtime;

llmc_status llmc::runtime::invoke(const Artifact &artifact,
                                  const EntryPoint &entry, void *const *buffers,
                                  const int64_t *const *shapes) {
  if (!buffers || !shapes)
    return fail(LLMC_ERROR_INVALID_ARGUMENT, "buffers and shapes are required");
  const Manifest &m = artifact.manifest();
  std::vector<std::unique_ptr<Descriptor>> descriptors;
  std::vector<void *> args;
  size_t next = 0;
  for (const ArgumentSpec &a : entry.args) {
    std::string what = "argument '" + (a.name.empty() ? a.role : a.name) + "'";
    if (!a.buffer)
      return fail(LLMC_ERROR_UNSUPPORTED,
                  what + " is a scalar; call generative models through a "
                         "session");
    if (a.role == "weights") {
      descriptors.push_back(std::make_unique<Descriptor>(
          artifact.weights(), std::vector<int64_t>{int64_t(m.weightsBytes)}));
    } else if (a.role == "input" || a.role == "output") {
      void *data = buffers[next];
      const int64_t *shape = shapes[next];
      ++next;
      if ((!data || !shape) && !a.shape.empty())
        return fail(LLMC_ERROR_INVALID_ARGUMENT, what + " has no buffer");
      std::vector<int64_t> sizes(a.shape.size());
      for (size_t d = 0; d < sizes.size(); ++d) {
        sizes[d] = shape[d];
        if (sizes[d] < 0 || (a.shape[d] >= 0 && a.shape[d] != sizes[d]))
          return fail(LLMC_ERROR_INVALID_ARGUMENT,
                      what + " dimension " + std::to_string(d) + " is " +
                          std::to_string(sizes[d]) +
                          ", the entry point takes " +
                          std::to_string(a.shape[d]));
      }
      // A 0-d argument still needs an address.
      static int64_t scratch = 0;
      descriptors.push_back(
          std::make_unique<Descriptor>(data ? data : &scratch, sizes));
    } else {
      return fail(LLMC_ERROR_UNSUPPORTED,
                  what + " has role " + a.role +
                      ", which only a session provides");
    }
    args.push_back(descriptors.back()->words.data());
  }
  artifact.function(entry)(args.data());
  if (std::string e = artifact.devices().takeError(); !e.empty())
    return fail(LLMC_ERROR_INVALID_ARTIFACT, entry.name + ": " + e);
  return LLMC_OK;
}
