//===- Status.h - the runtime's error reporting -----------------*- C++ -*-===//

#ifndef LLMC_RUNTIME_STATUS_H
#define LLMC_RUNTIME_STATUS_H

#include "llmc/runtime.h"

#include <string>

namespace llmc::runtime {

/// Records `message` as this thread's last error and returns `code`.
llmc_status fail(llmc_status code, std::string message);

/// This thread's last error message.
const std::string &lastError();

} // namespace llmc::runtime

#endif // LLMC_RUNTIME_STATUS_H
