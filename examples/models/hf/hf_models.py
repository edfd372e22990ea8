#!/usr/bin/python3
"""Transformers written the way Hugging Face `transformers` writes them, for
testing llmc on the graphs HF/optimum exports produce. No `transformers`
package is needed: the modules below follow the public modeling code
(modeling_llama.py, modeling_mistral.py, modeling_phi.py, and
modeling_attn_mask_utils.py of transformers 4.36) with tiny sizes and
random weights.

Exported with the genai/optimum calling convention: inputs `input_ids`,
`attention_mask`, `position_ids`, `past_key_values.N.key/value`; outputs
`logits`, `present.N.key/value`.

    /usr/bin/python3 hf_models.py OUT_DIR
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

MIN = torch.finfo(torch.float32).min


# --------------------------------------------------------------- masks (modeling_attn_mask_utils.py)
def make_causal_mask(bsz, tgt_len, past_len, dtype, sliding_window=None):
    mask = torch.full((tgt_len, tgt_len), MIN)
    mask_cond = torch.arange(mask.size(-1))
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    mask = mask.to(dtype)
    if past_len > 0:
        mask = torch.cat([torch.zeros(tgt_len, past_len, dtype=dtype), mask], dim=-1)
    if sliding_window is not None:
        diagonal = past_len - sliding_window + 1
        context_mask = 1 - torch.triu(torch.ones_like(mask, dtype=torch.int), diagonal=diagonal)
        mask.masked_fill_(context_mask.bool(), MIN)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len + past_len)


def expand_mask(mask, dtype, tgt_len):
    bsz, src_len = mask.size()
    expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), MIN)


def prepare_4d_causal_attention_mask(attention_mask, input_shape, past_len, sliding_window=None):
    bsz, tgt_len = input_shape
    causal = make_causal_mask(bsz, tgt_len, past_len, torch.float32, sliding_window)
    padding = expand_mask(attention_mask, torch.float32, tgt_len)
    return causal.masked_fill(padding.bool(), MIN)


# --------------------------------------------------------------- rotary (modeling_llama.py)
class RotaryEmbedding(nn.Module):
    def __init__(self, dim, max_pos=256, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        t = torch.arange(max_pos).float()
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def forward(self, x, seq_len):
        return self.cos_cached[:seq_len], self.sin_cached[:seq_len]


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, position_ids):
    cos = cos[position_ids].unsqueeze(1)
    sin = sin[position_ids].unsqueeze(1)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x, n_rep):
    b, h, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)


# --------------------------------------------------------------- Llama / Mistral
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


class LlamaAttention(nn.Module):
    def __init__(self, d, h, hkv):
        super().__init__()
        self.h, self.hkv, self.dh = h, hkv, d // h
        self.q_proj = nn.Linear(d, h * self.dh, bias=False)
        self.k_proj = nn.Linear(d, hkv * self.dh, bias=False)
        self.v_proj = nn.Linear(d, hkv * self.dh, bias=False)
        self.o_proj = nn.Linear(h * self.dh, d, bias=False)
        self.rotary_emb = RotaryEmbedding(self.dh)

    def forward(self, x, mask, position_ids, past_k, past_v):
        bsz, q_len, _ = x.size()
        q = self.q_proj(x).view(bsz, q_len, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(x).view(bsz, q_len, self.hkv, self.dh).transpose(1, 2)
        v = self.v_proj(x).view(bsz, q_len, self.hkv, self.dh).transpose(1, 2)
        kv_len = k.shape[-2] + past_k.shape[-2]
        cos, sin = self.rotary_emb(v, seq_len=kv_len)
        q, k = apply_rotary_pos_emb(q, k, cos, sin, position_ids)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        k = repeat_kv(k, self.h // self.hkv)
        v = repeat_kv(v, self.h // self.hkv)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.dh)
        w = w + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).reshape(bsz, q_len, self.h * self.dh)
        return self.o_proj(out), present


class LlamaMLP(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, d, h, hkv, f):
        super().__init__()
        self.self_attn = LlamaAttention(d, h, hkv)
        self.mlp = LlamaMLP(d, f)
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)

    def forward(self, x, mask, position_ids, pk, pv):
        a, present = self.self_attn(self.input_layernorm(x), mask, position_ids, pk, pv)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab=256, d=64, h=4, hkv=2, f=176, layers=2, sliding_window=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaLayer(d, h, hkv, f) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.sliding_window = sliding_window

    def forward(self, input_ids, attention_mask, position_ids, *past):
        past_len = past[0].shape[2]
        mask = prepare_4d_causal_attention_mask(attention_mask, input_ids.shape, past_len,
                                                self.sliding_window)
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, (k, v) = layer(x, mask, position_ids, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(x)), *presents)


# --------------------------------------------------------------- Phi (modeling_phi.py, v4.36)
class PhiAttention(nn.Module):
    """Fused QKV with bias, partial rotary embedding (rotary_dim < head_dim)."""
    def __init__(self, d, h, rotary_dim):
        super().__init__()
        self.h, self.dh, self.rot = h, d // h, rotary_dim
        self.qkv = nn.Linear(d, 3 * d)
        self.dense = nn.Linear(d, d)
        self.rotary_emb = RotaryEmbedding(rotary_dim)

    def forward(self, x, mask, position_ids, past_k, past_v):
        bsz, q_len, d = x.size()
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.view(bsz, q_len, self.h, self.dh).transpose(1, 2)
        k = k.view(bsz, q_len, self.h, self.dh).transpose(1, 2)
        v = v.view(bsz, q_len, self.h, self.dh).transpose(1, 2)
        kv_len = k.shape[-2] + past_k.shape[-2]
        cos, sin = self.rotary_emb(v, seq_len=kv_len)
        q_rot, q_pass = q[..., : self.rot], q[..., self.rot:]
        k_rot, k_pass = k[..., : self.rot], k[..., self.rot:]
        q_rot, k_rot = apply_rotary_pos_emb(q_rot, k_rot, cos, sin, position_ids)
        q = torch.cat((q_rot, q_pass), dim=-1)
        k = torch.cat((k_rot, k_pass), dim=-1)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.dh)
        w = w + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(v.dtype)
        out = torch.matmul(w, v).transpose(1, 2).reshape(bsz, q_len, d)
        return self.dense(out), present


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class PhiLayer(nn.Module):
    """Parallel residual: attention and MLP both read the same LayerNorm."""
    def __init__(self, d, h, f, rotary_dim):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(d)
        self.self_attn = PhiAttention(d, h, rotary_dim)
        self.fc1 = nn.Linear(d, f)
        self.fc2 = nn.Linear(f, d)
        self.act = NewGELU()

    def forward(self, x, mask, position_ids, pk, pv):
        hidden = self.input_layernorm(x)
        a, present = self.self_attn(hidden, mask, position_ids, pk, pv)
        m = self.fc2(self.act(self.fc1(hidden)))
        return a + m + x, present


class PhiForCausalLM(nn.Module):
    def __init__(self, vocab=256, d=64, h=4, f=256, layers=2, rotary_dim=8):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([PhiLayer(d, h, f, rotary_dim) for _ in range(layers)])
        self.final_layernorm = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        past_len = past[0].shape[2]
        mask = prepare_4d_causal_attention_mask(attention_mask, input_ids.shape, past_len)
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, (k, v) = layer(x, mask, position_ids, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.final_layernorm(x)), *presents)


# --------------------------------------------------------------- export
def perturb(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.LayerNorm, RMSNorm)):
                m.weight.add_(0.1 * torch.randn(m.weight.shape, generator=g))
                if getattr(m, "bias", None) is not None:
                    m.bias.add_(0.1 * torch.randn(m.bias.shape, generator=g))


def inputs(batch, seq, past, pad, hkv, dh, layers, seed):
    """Left-padded prompts: row b has `pad[b]` padding positions at the start."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 256, (batch, seq), generator=g)
    total = past + seq
    mask = torch.ones(batch, total, dtype=torch.long)
    for b, p in enumerate(pad):
        mask[b, :p] = 0
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)[:, past:]
    past_kv = [torch.randn(batch, hkv, past, dh, generator=g) for _ in range(2 * layers)]
    return [ids, mask, position_ids, *past_kv]


def export(name, model, hkv, dh, layers, sets, out_dir):
    torch.manual_seed(0)
    perturb(model)
    model.eval()
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
           "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for i in range(layers):
        for kind in ("key", "value"):
            in_names.append(f"past_key_values.{i}.{kind}")
            out_names.append(f"present.{i}.{kind}")
            dyn[in_names[-1]] = {0: "batch", 2: "past"}
            dyn[out_names[-1]] = {0: "batch", 2: "total"}
    # Traced with a past so that the past branch of the mask is in the graph
    # (with a zero-length past it concatenates nothing).
    example = inputs(2, 3, 4, [0, 1], hkv, dh, layers, seed=0)
    path = os.path.join(folder, "model.onnx")
    torch.onnx.export(model, tuple(example), path, opset_version=17, input_names=in_names,
                      output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    for k, spec in enumerate(sets):
        args = inputs(*spec, hkv, dh, layers, seed=k + 1)
        with torch.no_grad():
            outs = model(*args)
        d = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        for i, t in enumerate(args):
            onnx.save_tensor(numpy_helper.from_array(t.numpy(), in_names[i]),
                             os.path.join(d, f"input_{i}.pb"))
        for i, t in enumerate(outs):
            onnx.save_tensor(numpy_helper.from_array(t.numpy(), out_names[i]),
                             os.path.join(d, f"output_{i}.pb"))
    print(f"{name}: {len(onnx.load(path).graph.node)} nodes")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    # (batch, seq, past, left padding per row)
    sets = [(2, 5, 0, [0, 2]), (2, 1, 6, [1, 0])]
    export("hf_llama", LlamaForCausalLM(), 2, 16, 2, sets, out)
    export("hf_mistral", LlamaForCausalLM(sliding_window=3), 2, 16, 2, sets, out)
    export("hf_phi", PhiForCausalLM(), 4, 16, 2, sets, out)
