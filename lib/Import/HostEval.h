//===- HostEval.h - evaluating ONNX ops on host constants -------*- C++ -*-===//

#ifndef LLMC_LIB_IMPORT_HOSTEVAL_H
#define LLMC_LIB_IMPORT_HOSTEVAL_H

#include "lib/Import/HostTensor.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace llmc::onnx_import {

/// Visits every element of the broadcast of `inputs` (shape `outShape`),
/// giving the flat output index and the flat index into each input.
void forEachBroadcast(
    llvm::ArrayRef<const HostTensor *> inputs, llvm::ArrayRef<int64_t> outShape,
    llvm::function_ref<void(int64_t out, llvm::ArrayRef<int64_t> in)> fn);

/// Copies element `i` of `from` to element `j` of `to` (one element type;
/// `to` made by HostTensor::zeros).
void copyElement(const HostTensor &from, int64_t i, HostTensor &to, int64_t j);

/// Elements of `t` gathered along `axis` at `indices` (ONNX Gather).
HostTensor gatherHost(const HostTensor &t, int64_t axis,
                      const HostTensor &indices);

/// Static slice with per-dimension start and step, `sizes` elements.
HostTensor sliceHost(const HostTensor &t, llvm::ArrayRef<int64_t> starts,
                     llvm::ArrayRef<int64_t> steps,
                     llvm::ArrayRef<int64_t> sizes);

/// Transpose with ONNX's perm.
HostTensor transposeHost(const HostTensor &t, llvm::ArrayRef<int64_t> perm);

/// Concatenation along `axis`.
HostTensor concatHost(llvm::ArrayRef<const HostTensor *> parts, int64_t axis);

/// Element type conversion.
HostTensor castHost(const HostTensor &t, DType to);

} // namespace llmc::onnx_import

#endif // LLMC_LIB_IMPORT_HOSTEVAL_H
