//===- QuantizeKVCache.h - int8/int4 KV cache of a step function -*- C++
//-*-===//
//
// The KV-cache part of llm-quantize (kv=8 / kv=4): the cache arguments of a
// step function become signed integer codes with a scale per head and
// position, quantized where keys and values are written and dequantized
// where attention reads them.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_QUANTIZEKVCACHE_H
#define LLMC_PASSES_QUANTIZEKVCACHE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::llm {

/// Rewrites the `key_cache`/`value_cache` arguments of `fn` to `bits`-bit
/// codes (8 or 4) with scale arguments appended. Sets `changed` when `fn`
/// had caches. Errors (an unsupported use of a cache, a head dimension the
/// codes do not fill bytes of) are emitted on the offending op.
LogicalResult quantizeKVCache(func::FuncOp fn, int64_t bits, bool &changed);

} // namespace mlir::llm

#endif // LLMC_PASSES_QUANTIZEKVCACHE_H
