#!/usr/bin/python3
"""Writes a layer-pruned copy of a decoder-only ONNX export: the auxiliary
model of KV prediction (a base model with only some of its layers).

    /usr/bin/python3 prune_layers.py IN.onnx OUT.onnx --keep 0,2

Layers are found by their node names (`/layers.<i>/...`, as torch.onnx
names a `self.layers` ModuleList). A dropped layer is bypassed: its output
is replaced by its residual input (the tensor it reads from the layer
before), and its nodes and now unused initializers are removed.
"""
import argparse
import re

import onnx


def layer_of(name):
    m = re.search(r"/layers\.(\d+)/", name)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--keep", required=True, help="comma-separated layer indices to keep")
    args = ap.parse_args()
    keep = {int(x) for x in args.keep.split(",")}
    model = onnx.load(args.src)
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    layers = sorted({l for n in g.node if (l := layer_of(n.name)) is not None})
    rename = {}
    for l in layers:
        if l in keep:
            continue
        nodes = [n for n in g.node if layer_of(n.name) == l]
        produced = {o for n in nodes for o in n.output}
        # Inputs from the previous layer (or the embedding): the residual.
        outside = [i for n in nodes for i in n.input
                   if i and i not in produced and i in producer
                   and layer_of(producer[i].name) == (l - 1 if l > 0 else None)
                   and producer[i].op_type not in ("Constant",)]
        consumers = [n for n in g.node if layer_of(n.name) != l]
        outputs = [o for o in produced if any(o in c.input for c in consumers)
                   or o in {x.name for x in g.output}]
        residual = sorted(set(outside))
        if len(residual) != 1 or len(outputs) != 1:
            raise SystemExit(f"layer {l}: expected one residual input and one output, "
                             f"found {residual} and {outputs}")
        rename[outputs[0]] = rename.get(residual[0], residual[0])
        for n in nodes:
            g.node.remove(n)
    for n in g.node:
        for i, name in enumerate(n.input):
            if name in rename:
                n.input[i] = rename[name]
    used = {i for n in g.node for i in n.input}
    for init in list(g.initializer):
        if init.name not in used:
            g.initializer.remove(init)
    onnx.save(model, args.dst)
    print(f"kept layers {sorted(keep)} of {layers}: {args.dst}")


if __name__ == "__main__":
    main()
