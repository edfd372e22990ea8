#!/usr/bin/python3
"""Export a Llama-style model of any size for the benchmarks, with the
torch model definitions of ../shared/tools (tiny_models.py), in the layout
bench_ort.js reads: OUT/llama_perf_prefill/opset17/model.onnx (plain graph,
logits for every position) and, with --kv, OUT/llama_perf_kv/opset17/
model.onnx (past/present KV inputs and outputs). Weights are random (seeded);
only the timing matters. Needs Debian's python3-torch and python3-onnx.

usage: /usr/bin/python3 bench/export_llama.py OUT [--d 512] [--layers 4]
         [--heads 8] [--kv-heads 2] [--ffn 1376] [--vocab 4096]
         [--max-pos 2048] [--kv] [--tools ../shared/tools]
Prints the configuration as JSON (the benchmark's FLOP and byte counts).
"""
import argparse, json, os, sys

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--d", type=int, default=512)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--heads", type=int, default=8)
ap.add_argument("--kv-heads", type=int, default=2)
ap.add_argument("--ffn", type=int, default=1376)
ap.add_argument("--vocab", type=int, default=4096)
ap.add_argument("--max-pos", type=int, default=2048)
ap.add_argument("--kv", action="store_true")
ap.add_argument("--tools", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools"))
a = ap.parse_args()

sys.path.insert(0, os.path.abspath(a.tools))
import torch  # noqa: E402
from tiny_models import LlamaTiny, LlamaTinyKV  # noqa: E402

cfg = dict(vocab=a.vocab, d=a.d, h=a.heads, hkv=a.kv_heads, f=a.ffn, layers=a.layers, max_pos=a.max_pos)
dh = a.d // a.heads


def export(cls, name, inputs, in_names, out_names, dyn):
    torch.manual_seed(0)
    m = cls(**cfg).eval()
    d = os.path.join(a.out, name, "opset17")
    os.makedirs(d, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(m, inputs, os.path.join(d, "model.onnx"), opset_version=17, input_names=in_names,
                          output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
    return sum(p.numel() for p in m.parameters())


ids = torch.randint(0, a.vocab, (1, 8))
params = export(LlamaTiny, "llama_perf_prefill", (ids,), ["input_ids"], ["logits"],
                {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
if a.kv:
    L = a.layers
    past = [torch.zeros(1, a.kv_heads, 3, dh) for _ in range(2 * L)]
    ins = ["input_ids"] + [f"past_{kv}_{i}" for i in range(L) for kv in ("key", "value")]
    outs = ["logits"] + [f"present_{kv}_{i}" for i in range(L) for kv in ("key", "value")]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    dyn.update({n: {0: "batch", 2: "past_seq"} for n in ins[1:]})
    dyn.update({n: {0: "batch", 2: "total_seq"} for n in outs[1:]})
    export(LlamaTinyKV, "llama_perf_kv", (ids, *past), ins, outs, dyn)
print(json.dumps(dict(cfg, params=params)))
