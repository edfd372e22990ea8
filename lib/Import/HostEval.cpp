//===- HostEval.cpp - evaluating ONNX ops on host constants ---------------===//

#include "lib/Import/HostEval.h"

#include <cstring>

using namespace llmc::onnx_import;
using llvm::ArrayRef;
using llvm::SmallVector;

void llmc::onnx_import::forEachBroadcast(
    ArrayRef<const HostTensor *> inputs, ArrayRef<int64_t> outShape,
    llvm::function_ref<void(int64_t, ArrayRef<int64_t>)> fn) {
  size_t rank = outShape.size();
  // Per input: strides aligned to the output, 0 along broadcast dims.
  SmallVector<SmallVector<int64_t>> strides;
  for (const HostTensor *t : inputs) {
    SmallVector<int64_t> own = stridesOf(t->shape());
    SmallVector<int64_t> s(rank, 0);
    size_t offset = rank - t->rank();
    for (size_t d = 0; d < static_cast<size_t>(t->rank()); ++d)
      s[d + offset] = t->shape()[d] == 1 ? 0 : own[d];
    strides.push_back(s);
  }
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  SmallVector<int64_t> coord(rank, 0), in(inputs.size(), 0);
  for (int64_t o = 0; o < total; ++o) {
    fn(o, in);
    // Advance the multi-index and the input offsets incrementally.
    for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
      if (++coord[d] < outShape[d]) {
        for (size_t k = 0; k < inputs.size(); ++k)
          in[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < inputs.size(); ++k)
        in[k] -= strides[k][d] * (outShape[d] - 1);
      coord[d] = 0;
    }
  }
}

void llmc::onnx_import::copyElement(const HostTensor &from, int64_t i,
                                    HostTensor &to, int64_t j) {
  assert(from.dtype() == to.dtype() && "copying between element types");
  size_t size = dtypeSize(from.dtype());
  std::memcpy(to.mutableData() + j * size, from.bytes().data() + i * size,
              size);
}

HostTensor llmc::onnx_import::gatherHost(const HostTensor &t, int64_t axis,
                                         const HostTensor &indices) {
  ArrayRef<int64_t> shape = t.shape();
  SmallVector<int64_t> outShape(shape.begin(), shape.begin() + axis);
  outShape.append(indices.shape().begin(), indices.shape().end());
  outShape.append(shape.begin() + axis + 1, shape.end());
  HostTensor out = HostTensor::zeros(t.dtype(), outShape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < t.rank(); ++d)
    inner *= shape[d];
  int64_t n = indices.numel(), dim = shape[axis];
  int64_t j = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k) {
      int64_t idx = indices.getInt(k);
      if (idx < 0)
        idx += dim;
      for (int64_t i = 0; i < inner; ++i)
        copyElement(t, (o * dim + idx) * inner + i, out, j++);
    }
  return out;
}

HostTensor llmc::onnx_import::sliceHost(const HostTensor &t,
                                        ArrayRef<int64_t> starts,
                                        ArrayRef<int64_t> steps,
                                        ArrayRef<int64_t> sizes) {
  HostTensor out = HostTensor::zeros(t.dtype(), sizes);
  SmallVector<int64_t> inStrides = stridesOf(t.shape());
  SmallVector<int64_t> coord(sizes.size(), 0);
  for (int64_t o = 0, n = out.numel(); o < n; ++o) {
    int64_t in = 0;
    for (size_t d = 0; d < sizes.size(); ++d)
      in += (starts[d] + coord[d] * steps[d]) * inStrides[d];
    copyElement(t, in, out, o);
    for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
      if (++coord[d] < sizes[d])
        break;
      coord[d] = 0;
    }
  }
  return out;
}

HostTensor llmc::onnx_import::transposeHost(const HostTensor &t,
                                            ArrayRef<int64_t> perm) {
  SmallVector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(t.shape()[p]);
  HostTensor out = HostTensor::zeros(t.dtype(), outShape);
  SmallVector<int64_t> inStrides = stridesOf(t.shape());
  SmallVector<int64_t> coord(perm.size(), 0);
  for (int64_t o = 0, n = out.numel(); o < n; ++o) {
    int64_t in = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      in += coord[d] * inStrides[perm[d]];
    copyElement(t, in, out, o);
    for (int64_t d = static_cast<int64_t>(perm.size()) - 1; d >= 0; --d) {
      if (++coord[d] < outShape[d])
        break;
      coord[d] = 0;
    }
  }
  return out;
}

HostTensor llmc::onnx_import::concatHost(ArrayRef<const HostTensor *> parts,
                                         int64_t axis) {
  SmallVector<int64_t> outShape(parts.front()->shape());
  outShape[axis] = 0;
  for (const HostTensor *p : parts)
    outShape[axis] += p->shape()[axis];
  HostTensor out = HostTensor::zeros(parts.front()->dtype(), outShape);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= outShape[d];
  size_t size = dtypeSize(out.dtype());
  char *dst = out.mutableData();
  for (int64_t o = 0; o < outer; ++o)
    for (const HostTensor *p : parts) {
      int64_t chunk = p->numel() / outer;
      std::memcpy(dst, p->bytes().data() + o * chunk * size, chunk * size);
      dst += chunk * size;
    }
  return out;
}

HostTensor llmc::onnx_import::castHost(const HostTensor &t, DType to) {
  HostTensor out = HostTensor::zeros(to, t.shape());
  for (int64_t i = 0, n = t.numel(); i < n; ++i) {
    if (isFloat(to))
      out.setDouble(i, t.getDouble(i));
    else if (to == DType::Bool)
      out.setInt(i,
                 isFloat(t.dtype()) ? t.getDouble(i) != 0.0 : t.getInt(i) != 0);
    else
      out.setInt(i, isFloat(t.dtype()) ? static_cast<int64_t>(t.getDouble(i))
                                       : t.getInt(i));
  }
  return out;
}
