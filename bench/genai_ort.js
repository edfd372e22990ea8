#!/usr/bin/env node
// Prefill and per-token decode latency of a genai-style model (inputs
// input_ids, attention_mask, past_key_values.N.key/value; outputs logits,
// present.N.key/value) in ONNX Runtime (onnxruntime-node, CPU EP): prefill
// of --prompt-len tokens with an empty past, then greedy decode of
// --decode-steps tokens feeding the presents back, repeated --runs times.
// Prints one JSON object with medians (ms), like llmc-bench.
//
//   ORT_NODE=.../onnxruntime-node node genai_ort.js MODEL.onnx
//       [--threads N] [--prompt-len 128] [--decode-steps 64] [--runs 7]
'use strict';
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
const model = args[0];
const threads = opt('--threads', 1), T = opt('--prompt-len', 128);
const steps = opt('--decode-steps', 64), runs = opt('--runs', 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const now = () => Number(process.hrtime.bigint()) / 1e6;

(async () => {
  const sess = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential' });
  // The past's shape [batch, kv_heads, 0, head_dim] from the model's inputs.
  const pastNames = sess.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = sess.inputMetadata || [];
  const shapeOf = (name) => { const m = Array.isArray(meta) ? meta.find((x) => x.name === name) : meta[name];
    return m && m.shape; };
  const ids = (n, seed) => { const x = new BigInt64Array(n); let s = seed;
    for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; x[i] = BigInt(s % 1000); } return x; };
  const mask = (n) => new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const argmax = (t) => { const v = t.dims[t.dims.length - 1], off = t.data.length - v; let best = 0;
    for (let i = 1; i < v; i++) if (t.data[off + i] > t.data[off + best]) best = i; return BigInt(best); };
  const prefill = [], decode = [];
  for (let run = 0; run < runs + 1; run++) {
    const feed = { input_ids: new ort.Tensor('int64', ids(T, 7), [1, T]), attention_mask: mask(T) };
    for (const name of pastNames) {
      const s = shapeOf(name);
      const heads = s && typeof s[1] === 'number' ? s[1] : 2, dim = s && typeof s[3] === 'number' ? s[3] : 64;
      feed[name] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, dim]);
    }
    let t0 = now();
    let out = await sess.run(feed);
    const p = now() - t0;
    const times = [];
    for (let s = 0; s < steps; s++) {
      const f = { input_ids: new ort.Tensor('int64', BigInt64Array.of(argmax(out.logits)), [1, 1]),
        attention_mask: mask(T + s + 1) };
      for (const name of pastNames) f[name] = out[name.replace('past_key_values.', 'present.')];
      t0 = now();
      out = await sess.run(f);
      times.push(now() - t0);
    }
    if (run > 0) { prefill.push(p); decode.push(median(times)); }
  }
  console.log(JSON.stringify({ threads, prompt_len: T, decode_steps: steps,
    prefill_ms: { median: +median(prefill).toFixed(3) }, decode_ms: { median: +median(decode).toFixed(3) } }));
})();
