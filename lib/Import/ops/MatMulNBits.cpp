//===- MatMulNBits.cpp - ONNX Runtime's block-quantized MatMul ------------===//
//
// com.microsoft MatMulNBits: `Y = A · dequant(B)ᵀ (+ bias)` with B `[N, K]`
// stored as `bits`-bit codes in blocks of `block_size` along K, one scale
// (and zero point) per block. Its packing is llm.quantized_linear's: the
// codes `[N, K/block, block·bits/8]` are `[N, K·bits/8]` bytes with the
// lowest k in the low bits, so the weights stay quantized, byte for byte;
// only packed zero points are unpacked to one byte per block.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/NodeContext.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

LogicalResult importMatMulNBits(NodeContext &ctx) {
  if (failed(ctx.requireInputs({"A", "B", "scales"})))
    return failure();
  int64_t k = ctx.intAttr("K", 0), n = ctx.intAttr("N", 0),
          bits = ctx.intAttr("bits", 4), block = ctx.intAttr("block_size", 0);
  if (k <= 0 || n <= 0)
    return ctx.emitError("attributes K and N must be positive (got K = " +
                         Twine(k) + ", N = " + Twine(n) + ")");
  if (bits != 2 && bits != 4 && bits != 8)
    return ctx.emitError("bits = " + Twine(bits) +
                         " is not supported (2, 4 or 8)");
  if (block < 16 || (block & (block - 1)) != 0)
    return ctx.emitError("block_size = " + Twine(block) +
                         " must be a power of two >= 16");
  if (k % block != 0)
    return ctx.emitError("K = " + Twine(k) +
                         " is not a multiple of block_size " + Twine(block) +
                         " (padded last blocks are not supported)");
  if (ctx.hasInput(4))
    return ctx.emitError("input g_idx (act-order block indices) is not "
                         "supported");
  RankedTensorType at = ctx.type(0);
  if (!at.getElementType().isF32())
    return ctx.emitError("A must be f32");
  if (at.getRank() < 1 || at.getShape().back() != k)
    return ctx.emitError("A's last dimension must be K = " + Twine(k));

  int64_t blocks = k / block, blob = block * bits / 8;
  auto codes = ctx.requireConstant(1, "B (the packed weights)");
  auto scales = ctx.requireConstant(2, "scales");
  if (failed(codes) || failed(scales))
    return failure();
  if ((*codes)->dtype() != DType::U8 || (*codes)->numel() != n * blocks * blob)
    return ctx.emitError("B must be uint8 [N, K/block_size, block_size·bits/8] "
                         "= [" +
                         Twine(n) + ", " + Twine(blocks) + ", " + Twine(blob) +
                         "]");
  if ((*scales)->dtype() != DType::F32 || (*scales)->numel() != n * blocks)
    return ctx.emitError("scales must be f32 with N·K/block_size = " +
                         Twine(n * blocks) + " elements");
  const onnx::NodeProto &node = ctx.node();
  // The same bytes, seen as the op's [N, K·bits/8] i8 codes.
  HostTensor codeBytes(DType::I8, {n, blocks * blob}, (*codes)->bytes(),
                       (*codes)->owner());
  Value codeValue = ctx.materialize(codeBytes, node.input(1));
  Value scaleValue =
      ctx.materialize((*scales)->reshaped({n, blocks}), node.input(2));

  Value zeroValue;
  if (ctx.hasInput(3)) {
    auto zeros = ctx.requireConstant(3, "zero_points");
    if (failed(zeros))
      return failure();
    if ((*zeros)->dtype() != DType::U8)
      return ctx.emitError("zero_points must be packed uint8 (float zero "
                           "points are not supported)");
    int64_t perByte = 8 / bits, rowBytes = (blocks + perByte - 1) / perByte;
    if ((*zeros)->numel() != n * rowBytes)
      return ctx.emitError("zero_points must have N·ceil(blocks·bits/8) = " +
                           Twine(n * rowBytes) + " bytes");
    HostTensor unpacked = HostTensor::zeros(DType::I8, {n, blocks});
    for (int64_t row = 0; row < n; ++row)
      for (int64_t g = 0; g < blocks; ++g) {
        int64_t byte = (*zeros)->getInt(row * rowBytes + g / perByte);
        unpacked.setInt(row * blocks + g,
                        (byte >> (bits * (g % perByte))) & ((1 << bits) - 1));
      }
    zeroValue = ctx.materialize(unpacked, node.input(3));
  }
  Value bias;
  if (ctx.hasInput(5)) {
    RankedTensorType bt = ctx.type(5);
    if (bt.getRank() != 1 || bt.getDimSize(0) != n)
      return ctx.emitError("bias must be [N] = [" + Twine(n) + "]");
    bias = ctx.value(5);
  }
  OpBuilder &b = ctx.builder();
  SmallVector<int64_t> shape(at.getShape());
  shape.back() = n;
  // accuracy_level is the lowest precision ONNX Runtime may compute A in;
  // f32 activations satisfy every level.
  auto op = llm::QuantizedLinearOp::create(
      b, ctx.loc(), RankedTensorType::get(shape, at.getElementType()),
      ctx.value(0), codeValue, scaleValue, zeroValue, Value(), Value(), bias,
      b.getI64IntegerAttr(bits), b.getI64IntegerAttr(block), IntegerAttr());
  if (failed(verify(op)))
    return failure();
  ctx.setOutput(0, op.getResult());
  return success();
}

} // namespace

void llmc::onnx_import::registerMatMulNBits(OpRegistry &r) {
  r.add(kMicrosoftDomain, "MatMulNBits", 1, importMatMulNBits);
}
