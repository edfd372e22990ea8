#!/usr/bin/python3
"""Tiny transformers written the way onnxruntime-genai's model builder and
optimum's ORT exports write them: Microsoft contrib operators (domain
`com.microsoft`) instead of decomposed attention, 4-bit `MatMulNBits`
weights, the genai calling convention. Built with `onnx.helper` (no torch),
random weights; every output comes with a plain NumPy forward pass of the
same graph (the contrib ops' documented semantics, the int4 weights
dequantized), written as `output_i.pb`. `regenerate.sh` then checks that
ONNX Runtime agrees and stores ONNX Runtime's own outputs as
`ort_output_i.pb`.

    /usr/bin/python3 genai_models.py OUT_DIR
    /usr/bin/python3 genai_models.py --perf OUT_DIR   # the benchmark's models

Models (each `model.onnx` + `test_data_set_0` (prefill, empty past) and
`test_data_set_1` (one decode step after set 0's presents)):

- `genai_llama`: RMSNorm as `SimplifiedLayerNormalization` and
  `SkipSimplifiedLayerNormalization`, `GroupQueryAttention` (4/2 heads) with
  its built-in rotary (cos/sin caches) and `seqlens_k` /
  `total_sequence_length` derived from `attention_mask`, SwiGLU, f32
  `MatMul` weights. Inputs `input_ids`, `attention_mask`,
  `past_key_values.N.key/value`; outputs `logits`, `present.N.key/value`.
- `genai_llama_int4`: the same with packed QKV (GQA's key and value inputs
  empty) and every linear layer a 4-bit `MatMulNBits`, block 32, no zero
  points (zero point 8), 1-D scales.
- `genai_llama_int4_zp`: the same with block 16, asymmetric weights and
  packed 4-bit zero points.
- `genai_mistral`: the int4 model's graph with GroupQueryAttention's
  sliding window (`local_window_size` 3) and interleaved rotary, and
  `MatMulNBits` of 8 bits (QKV with zero points, the LM head), 2 bits
  (output projection, zero points, block 16) and 4 bits (MLP).
- `genai_phi`: Phi-style parallel attention and MLP at opset 14:
  `LayerNormalization` (ONNX Runtime's registration below opset 17) and
  `SkipLayerNormalization`, `RotaryEmbedding` (interleaved, partial
  rotary: 8 of 16 features) on `position_ids`, `MultiHeadAttention` with past/present,
  `unidirectional` and a 2-D key padding mask, `FastGelu` with its bias.
  Inputs add `position_ids`; set 0 is a left-padded batch.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, LAYERS = 96, 64, 4, 2, 16, 128, 2
MAX_POS = 64
EPS = 1e-5
MS = "com.microsoft"


class Graph:
    def __init__(self, name):
        self.name, self.nodes, self.inits, self.count = name, [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, n_out=1, domain="", outputs=None, **attrs):
        self.count += 1
        name = f"/{op}_{self.count}"
        outs = outputs or [f"{name}/out{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, domain=domain, **attrs))
        return outs if len(outs) > 1 else outs[0]


def rotary_tables(rotary_dim):
    inv = 1.0 / (10000.0 ** (np.arange(0, rotary_dim, 2, dtype=np.float32) / rotary_dim))
    freqs = np.outer(np.arange(MAX_POS, dtype=np.float32), inv)
    return np.cos(freqs).astype(np.float32), np.sin(freqs).astype(np.float32)


def rope(x, pos, cos, sin, rotary_dim, interleaved=False):
    """x [B, S, H, D], pos [B, S]; rotate-half (or interleaved pairs) over
    the first rotary_dim features."""
    half = rotary_dim // 2
    c, s = cos[pos][:, :, None, :], sin[pos][:, :, None, :]
    if interleaved:
        x1, x2 = x[..., 0:rotary_dim:2], x[..., 1:rotary_dim:2]
        out = np.stack([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1).reshape(x.shape[:-1] + (rotary_dim,))
        return np.concatenate([out, x[..., rotary_dim:]], axis=-1)
    x1, x2, rest = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s, rest], axis=-1)


def attention(q, k, v, key_valid, scale, window=-1):
    """q [B, S, Hq, D]; k, v [B, Hkv, T, D] (past + new); causal with the
    queries the last S positions; key_valid [B, T] bool; with window > 0
    query i sees the `window` keys i - window + 1 .. i (ONNX Runtime's
    reading of GroupQueryAttention's local_window_size)."""
    b, s, hq, d = q.shape
    hkv, t = k.shape[1], k.shape[2]
    rep = hq // hkv
    k = np.repeat(k, rep, axis=1)
    v = np.repeat(v, rep, axis=1)
    scores = np.einsum("bshd,bhtd->bhst", q, k).astype(np.float64) * scale
    causal = np.arange(t)[None, :] <= (np.arange(s)[:, None] + t - s)
    if window > 0:
        causal &= np.arange(t)[None, :] > (np.arange(s)[:, None] + t - s - window)
    visible = causal[None, None] & key_valid[:, None, None, :]
    scores = np.where(visible, scores, -1e30)
    scores -= scores.max(-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(-1, keepdims=True)
    out = np.einsum("bhst,bhtd->bshd", p, v.astype(np.float64))
    return out.reshape(b, s, hq * d).astype(np.float32)


def rms(x, w):
    return (x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + EPS) * w).astype(np.float32)


def layer_norm(x, w, b):
    x64 = x.astype(np.float64)
    mu = x64.mean(-1, keepdims=True)
    var = ((x64 - mu) ** 2).mean(-1, keepdims=True)
    return ((x64 - mu) / np.sqrt(var + EPS) * w + b).astype(np.float32)


def silu(x):
    return x / (1 + np.exp(-x))


def fast_gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


# --------------------------------------------------------------- MatMulNBits
def pack_codes(q, bits):
    """Codes [..., M] (M a multiple of 8 / bits) -> bytes, the lowest index
    in the low bits."""
    per = 8 // bits
    out = np.zeros(q.shape[:-1] + (q.shape[-1] // per,), np.uint8)
    for j in range(per):
        out |= (q[..., j::per].astype(np.uint8) << (bits * j)).astype(np.uint8)
    return out


def quantize_nbits(w, bits, block, asymmetric):
    """w [K, N] -> (packed B [N, K/block, block·bits/8] u8, scales [N·nb]
    f32, packed zero points or None, dequantized w [K, N])."""
    k, n = w.shape
    nb, top = k // block, (1 << bits) - 1
    g = w.T.reshape(n, nb, block)
    if asymmetric:
        lo, hi = np.minimum(g.min(-1), 0), np.maximum(g.max(-1), 0)
        scale = ((hi - lo) / top).astype(np.float32)
        scale[scale == 0] = 1
        zp = np.clip(np.round(-lo / scale), 0, top).astype(np.uint8)
    else:
        scale = (np.abs(g).max(-1) / ((1 << (bits - 1)) - 1 or 1)).astype(np.float32)
        scale[scale == 0] = 1
        zp = np.full((n, nb), 1 << (bits - 1), np.uint8)
    q = np.clip(np.round(g / scale[..., None]) + zp[..., None], 0, top).astype(np.uint8)
    deq = ((q.astype(np.float32) - zp[..., None]) * scale[..., None]).reshape(n, k).T
    zp_packed = None
    if asymmetric:
        per = 8 // bits
        padded = np.concatenate([zp, np.zeros((n, -nb % per), np.uint8)], axis=1)
        zp_packed = pack_codes(padded, bits).reshape(-1)
    return pack_codes(q, bits), scale.reshape(-1), zp_packed, np.ascontiguousarray(deq)


class Linear:
    """A MatMul (f32) or MatMulNBits (int4) layer and its reference."""

    def __init__(self, g, name, w, quant):
        self.g, self.name = g, name
        if quant is None:
            self.w = w
            self.wname = g.init(name, w)
            self.nbits = False
        else:
            block, asym, self.bits = quant if len(quant) == 3 else (*quant, 4)
            packed, scales, zp, self.w = quantize_nbits(w, self.bits, block, asym)
            self.inputs = [g.init(name + ".qweight", packed), g.init(name + ".scales", scales)]
            if zp is not None:
                self.inputs.append(g.init(name + ".qzeros", zp))
            self.k, self.n, self.block = w.shape[0], w.shape[1], block
            self.nbits = True

    def __call__(self, x):
        if not self.nbits:
            return self.g.node("MatMul", [x, self.wname])
        return self.g.node("MatMulNBits", [x] + self.inputs, domain=MS, K=self.k, N=self.n,
                           bits=self.bits, block_size=self.block, accuracy_level=0)

    def ref(self, x):
        return (x.astype(np.float64) @ self.w.astype(np.float64)).astype(np.float32)


def genai_model(g, kv_heads, opset, positions):
    """The ModelProto of graph `g` with the genai calling convention:
    input_ids, attention_mask, [position_ids], past_key_values.N.key/value
    -> logits, present.N.key/value."""
    def info(name, dtype, shape):
        return helper.make_tensor_value_info(name, dtype, shape)
    inputs = [info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              info("attention_mask", TensorProto.INT64, ["batch", "total"])]
    if positions:
        inputs.append(info("position_ids", TensorProto.INT64, ["batch", "seq"]))
    outputs = [info("logits", TensorProto.FLOAT, ["batch", "seq", VOCAB])]
    for l in range(LAYERS):
        for kv in ("key", "value"):
            inputs.append(info(f"past_key_values.{l}.{kv}", TensorProto.FLOAT,
                               ["batch", kv_heads, "past", HEAD_DIM]))
            outputs.append(info(f"present.{l}.{kv}", TensorProto.FLOAT,
                                ["batch", kv_heads, "total", HEAD_DIM]))
    model = helper.make_model(helper.make_graph(g.nodes, g.name, inputs, outputs, g.inits),
                              opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    return model


def weights(rng, *shape, scale=None):
    scale = scale if scale is not None else 1 / np.sqrt(shape[0])
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# --------------------------------------------------------------- Llama with GroupQueryAttention
def build_llama(name, quant=None, window=-1, interleaved=False):
    """quant: None (f32 MatMul), (block, asymmetric[, bits]) for every
    linear, or a dict of those by "qkv", "o", "mlp", "lm_head"."""
    rng = np.random.default_rng(1234)
    g = Graph(name)
    packed_qkv = quant is not None
    kinds = quant if isinstance(quant, dict) else dict.fromkeys(("qkv", "o", "mlp", "lm_head"), quant)
    q_out, kv_out = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    embed = weights(rng, VOCAB, HIDDEN, scale=1.0)
    g.init("model.embed_tokens.weight", embed)
    cos, sin = rotary_tables(HEAD_DIM)
    g.init("cos_cache", cos)
    g.init("sin_cache", sin)
    layers = []
    for l in range(LAYERS):
        p = f"model.layers.{l}"
        wq, wk, wv = weights(rng, HIDDEN, q_out), weights(rng, HIDDEN, kv_out), weights(rng, HIDDEN, kv_out)
        lay = {
            "ln1": g.init(p + ".input_layernorm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)),
            "ln2": g.init(p + ".post_attention_layernorm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)),
            "o": Linear(g, p + ".attn.o_proj", weights(rng, q_out, HIDDEN), kinds["o"]),
            "gate": Linear(g, p + ".mlp.gate_proj", weights(rng, HIDDEN, FFN), kinds["mlp"]),
            "up": Linear(g, p + ".mlp.up_proj", weights(rng, HIDDEN, FFN), kinds["mlp"]),
            "down": Linear(g, p + ".mlp.down_proj", weights(rng, FFN, HIDDEN), kinds["mlp"]),
        }
        if packed_qkv:
            lay["qkv"] = Linear(g, p + ".attn.qkv_proj", np.concatenate([wq, wk, wv], axis=1), kinds["qkv"])
        else:
            lay["q"] = Linear(g, p + ".attn.q_proj", wq, None)
            lay["k"] = Linear(g, p + ".attn.k_proj", wk, None)
            lay["v"] = Linear(g, p + ".attn.v_proj", wv, None)
        layers.append(lay)
    final_ln = g.init("model.norm.weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))
    lm_head = Linear(g, "lm_head", weights(rng, HIDDEN, VOCAB), kinds["lm_head"])

    # The genai wiring: seqlens_k = sum(mask) - 1, total = mask's length.
    axes = g.init("axes_1", np.array([1], np.int64))
    one = g.init("one_i64", np.array(1, np.int64))
    mask_sum = g.node("ReduceSum", ["attention_mask", axes], keepdims=0)
    seqlens = g.node("Cast", [g.node("Sub", [mask_sum, one])], to=TensorProto.INT32)
    total = g.node("Cast", [g.node("Gather", [g.node("Shape", ["attention_mask"]), one], axis=0)],
                   to=TensorProto.INT32)
    x = g.node("Gather", ["model.embed_tokens.weight", "input_ids"], axis=0)
    residual, pending = x, None
    for l, lay in enumerate(layers):
        if pending is None:
            h = g.node("SimplifiedLayerNormalization", [residual, lay["ln1"]], axis=-1, epsilon=EPS)
        else:
            h, _, _, residual = g.node("SkipSimplifiedLayerNormalization", [pending, residual, lay["ln1"]],
                                       domain=MS, outputs=[f"/ln1_{l}", "", "", f"/res1_{l}"], epsilon=EPS)
        if packed_qkv:
            qkv_inputs = [lay["qkv"](h), "", ""]
        else:
            qkv_inputs = [lay["q"](h), lay["k"](h), lay["v"](h)]
        attn = g.node("GroupQueryAttention",
                      qkv_inputs + [f"past_key_values.{l}.key", f"past_key_values.{l}.value", seqlens, total,
                                    "cos_cache", "sin_cache"], domain=MS,
                      outputs=[f"/attn_{l}", f"present.{l}.key", f"present.{l}.value"],
                      num_heads=HEADS, kv_num_heads=KV_HEADS, do_rotary=1,
                      local_window_size=window, rotary_interleaved=int(interleaved))[0]
        o = lay["o"](attn)
        h, _, _, residual = g.node("SkipSimplifiedLayerNormalization", [o, residual, lay["ln2"]], domain=MS,
                                   outputs=[f"/ln2_{l}", "", "", f"/res2_{l}"], epsilon=EPS)
        gate = lay["gate"](h)
        act = g.node("Mul", [g.node("Mul", [gate, g.node("Sigmoid", [gate])]), lay["up"](h)])
        pending = lay["down"](act)
    h = g.node("SkipSimplifiedLayerNormalization", [pending, residual, final_ln], domain=MS,
               outputs=["/final_norm", "", "", ""], epsilon=EPS)[0]
    g.nodes.append(helper.make_node("Identity", [lm_head(h)], ["logits"], name="/logits"))

    model = genai_model(g, KV_HEADS, opset=17, positions=False)

    def forward(ids, mask, pos, past):
        b, s = ids.shape
        seqlens_k = mask.sum(1) - 1
        positions = np.maximum(seqlens_k[:, None] + 1 - s + np.arange(s)[None, :], 0)
        key_valid = mask.astype(bool)
        x = embed[ids]
        res, pend, presents = x, None, []
        for l, lay in enumerate(layers):
            w1 = numpy_helper.to_array([t for t in g.inits if t.name == lay["ln1"]][0])
            w2 = numpy_helper.to_array([t for t in g.inits if t.name == lay["ln2"]][0])
            if pend is not None:
                res = res + pend
            h = rms(res, w1)
            if packed_qkv:
                qkv = lay["qkv"].ref(h)
                q, k, v = np.split(qkv, [q_out, q_out + kv_out], axis=-1)
            else:
                q, k, v = lay["q"].ref(h), lay["k"].ref(h), lay["v"].ref(h)
            q = rope(q.reshape(b, s, HEADS, HEAD_DIM), positions, cos, sin, HEAD_DIM, interleaved)
            k = rope(k.reshape(b, s, KV_HEADS, HEAD_DIM), positions, cos, sin, HEAD_DIM, interleaved)
            v = v.reshape(b, s, KV_HEADS, HEAD_DIM)
            pk = np.concatenate([past[2 * l], k.transpose(0, 2, 1, 3)], axis=2).astype(np.float32)
            pv = np.concatenate([past[2 * l + 1], v.transpose(0, 2, 1, 3)], axis=2).astype(np.float32)
            presents += [pk, pv]
            a = attention(q, pk, pv, key_valid, 1 / np.sqrt(HEAD_DIM), window)
            res = res + lay["o"].ref(a)
            h = rms(res, w2)
            pend = lay["down"].ref((silu(lay["gate"].ref(h)) * lay["up"].ref(h)).astype(np.float32))
        wf = numpy_helper.to_array([t for t in g.inits if t.name == final_ln][0])
        logits = lm_head.ref(rms(res + pend, wf))
        return [logits] + presents

    return model, forward, False


# --------------------------------------------------------------- Phi with MultiHeadAttention
def build_phi(name):
    rng = np.random.default_rng(4321)
    g = Graph(name)
    rotary_dim = HEAD_DIM // 2
    cos, sin = rotary_tables(rotary_dim)
    g.init("cos_cache", cos)
    g.init("sin_cache", sin)
    embed = weights(rng, VOCAB, HIDDEN, scale=1.0)
    g.init("model.embed_tokens.weight", embed)

    def ln_params(prefix):
        return (g.init(prefix + ".weight", (1 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)),
                g.init(prefix + ".bias", (0.1 * rng.standard_normal(HIDDEN)).astype(np.float32)))

    def dense(prefix, k, n):
        return (g.init(prefix + ".weight", weights(rng, k, n)),
                g.init(prefix + ".bias", (0.05 * rng.standard_normal(n)).astype(np.float32)))

    layers = []
    for l in range(LAYERS):
        p = f"model.layers.{l}"
        layers.append({"ln": ln_params(p + ".input_layernorm"), "q": dense(p + ".q_proj", HIDDEN, HIDDEN),
                       "k": dense(p + ".k_proj", HIDDEN, HIDDEN), "v": dense(p + ".v_proj", HIDDEN, HIDDEN),
                       "o": dense(p + ".dense", HIDDEN, HIDDEN), "fc1": dense(p + ".fc1", HIDDEN, FFN),
                       "fc2": dense(p + ".fc2", FFN, HIDDEN)})
    final_ln = ln_params("model.final_layernorm")
    lm = dense("lm_head", HIDDEN, VOCAB)

    def linear(x, wb):
        return g.node("Add", [g.node("MatMul", [x, wb[0]]), wb[1]])

    padding_mask = g.node("Cast", ["attention_mask"], to=TensorProto.INT32)
    x = g.node("Gather", ["model.embed_tokens.weight", "input_ids"], axis=0)
    residual, pending = x, None
    for l, lay in enumerate(layers):
        if pending is None:
            h = g.node("LayerNormalization", [residual, *lay["ln"]], axis=-1, epsilon=EPS)
        else:
            h, _, _, residual = g.node("SkipLayerNormalization", [pending, residual, *lay["ln"]], domain=MS,
                                       outputs=[f"/ln_{l}", "", "", f"/res_{l}"], epsilon=EPS)
        q, k = [g.node("RotaryEmbedding", [linear(h, lay[n]), "position_ids", "cos_cache", "sin_cache"],
                       domain=MS, num_heads=HEADS, rotary_embedding_dim=rotary_dim, interleaved=1)
                for n in ("q", "k")]
        v = linear(h, lay["v"])
        attn = g.node("MultiHeadAttention",
                      [q, k, v, "", padding_mask, "", f"past_key_values.{l}.key", f"past_key_values.{l}.value"],
                      domain=MS, outputs=[f"/attn_{l}", f"present.{l}.key", f"present.{l}.value"],
                      num_heads=HEADS, unidirectional=1)[0]
        mlp = linear(g.node("FastGelu", [g.node("MatMul", [h, lay["fc1"][0]]), lay["fc1"][1]], domain=MS),
                     lay["fc2"])
        pending = g.node("Add", [linear(attn, lay["o"]), mlp])
    h = g.node("SkipLayerNormalization", [pending, residual, *final_ln], domain=MS,
               outputs=["/final_norm", "", "", ""], epsilon=EPS)[0]
    g.nodes.append(helper.make_node("Identity", [linear(h, lm)], ["logits"], name="/logits"))

    model = genai_model(g, HEADS, opset=14, positions=True)
    arr = {t.name: numpy_helper.to_array(t) for t in g.inits}

    def lin(x, wb):
        return (x.astype(np.float64) @ arr[wb[0]] + arr[wb[1]]).astype(np.float32)

    def forward(ids, mask, pos, past):
        b, s = ids.shape
        x = embed[ids]
        res, pend, presents = x, None, []
        for l, lay in enumerate(layers):
            if pend is not None:
                res = res + pend
            h = layer_norm(res, arr[lay["ln"][0]], arr[lay["ln"][1]])
            q = rope(lin(h, lay["q"]).reshape(b, s, HEADS, HEAD_DIM), pos, cos, sin, rotary_dim, True)
            k = rope(lin(h, lay["k"]).reshape(b, s, HEADS, HEAD_DIM), pos, cos, sin, rotary_dim, True)
            v = lin(h, lay["v"]).reshape(b, s, HEADS, HEAD_DIM)
            pk = np.concatenate([past[2 * l], k.transpose(0, 2, 1, 3)], axis=2).astype(np.float32)
            pv = np.concatenate([past[2 * l + 1], v.transpose(0, 2, 1, 3)], axis=2).astype(np.float32)
            presents += [pk, pv]
            a = attention(q.reshape(b, s, HEADS, HEAD_DIM), pk, pv, mask.astype(bool), 1 / np.sqrt(HEAD_DIM))
            mlp = lin(fast_gelu(lin(h, lay["fc1"])).astype(np.float32), lay["fc2"])
            pend = lin(a, lay["o"]) + mlp
        h = layer_norm(res + pend, arr[final_ln[0]], arr[final_ln[1]])
        return [lin(h, lm)] + presents

    return model, forward, True


# --------------------------------------------------------------- test sets
def write_set(d, names_in, ins, names_out, outs):
    os.makedirs(d, exist_ok=True)
    for i, (n, t) in enumerate(zip(names_in, ins)):
        onnx.save_tensor(numpy_helper.from_array(t, n), os.path.join(d, f"input_{i}.pb"))
    for i, (n, t) in enumerate(zip(names_out, outs)):
        onnx.save_tensor(numpy_helper.from_array(t, n), os.path.join(d, f"output_{i}.pb"))


def main(out_dir):
    builders = {
        "genai_llama": lambda: build_llama("genai_llama"),
        "genai_llama_int4": lambda: build_llama("genai_llama_int4", quant=(32, False)),
        "genai_llama_int4_zp": lambda: build_llama("genai_llama_int4_zp", quant=(16, True)),
        "genai_phi": lambda: build_phi("genai_phi"),
        "genai_mistral": lambda: build_llama(
            "genai_mistral", quant={"qkv": (32, True, 8), "o": (16, True, 2), "mlp": (32, False, 4),
                                    "lm_head": (64, False, 8)}, window=3, interleaved=True),
    }
    for name, build in builders.items():
        model, forward, positions = build()
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        heads = HEADS if positions else KV_HEADS
        rng = np.random.default_rng(99)
        batch, steps = 2, 6
        ids = rng.integers(0, VOCAB, (batch, steps)).astype(np.int64)
        mask = np.ones((batch, steps), np.int64)
        if positions:
            mask[1, :2] = 0  # row 1 left-padded by two tokens
        pos = np.maximum(np.cumsum(mask, 1) - 1, 0).astype(np.int64)
        past = [np.zeros((batch, heads, 0, HEAD_DIM), np.float32) for _ in range(2 * LAYERS)]
        names_in = ["input_ids", "attention_mask"] + (["position_ids"] if positions else [])
        names_in += [f"past_key_values.{l}.{kv}" for l in range(LAYERS) for kv in ("key", "value")]
        names_out = ["logits"] + [f"present.{l}.{kv}" for l in range(LAYERS) for kv in ("key", "value")]
        outs = forward(ids, mask, pos, past)
        write_set(os.path.join(d, "test_data_set_0"), names_in,
                  [ids, mask] + ([pos] if positions else []) + past, names_out, outs)
        # Set 1: one decode step after set 0, its presents as the past.
        ids1 = rng.integers(0, VOCAB, (batch, 1)).astype(np.int64)
        mask1 = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
        pos1 = (mask1.sum(1, keepdims=True) - 1).astype(np.int64)
        outs1 = forward(ids1, mask1, pos1, outs[1:])
        write_set(os.path.join(d, "test_data_set_1"), names_in,
                  [ids1, mask1] + ([pos1] if positions else []) + outs[1:], names_out, outs1)
        print(f"wrote {d}")


def main_perf(out_dir):
    """The benchmark's models: genai_llama (f32) and genai_llama_int4 at the
    size of the team's Llama perf export (d = 512, 4 layers, 8/2 heads,
    FFN 1376, vocabulary 4096), no test sets."""
    global VOCAB, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, LAYERS, MAX_POS
    VOCAB, HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, LAYERS, MAX_POS = 4096, 512, 8, 2, 64, 1376, 4, 2048
    for name, quant in (("genai_llama_perf", None), ("genai_llama_int4_perf", (32, False))):
        model = build_llama(name, quant)[0]
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        print(f"wrote {d}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--perf":
        main_perf(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
