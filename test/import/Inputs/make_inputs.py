#!/usr/bin/python3
"""Writes the small hand-made ONNX files the import tests read.

Run with Debian's python3 (python3-onnx, python3-numpy):
    /usr/bin/python3 test/import/Inputs/make_inputs.py
The outputs are committed, so tests never need Python.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(model, name, **kw):
    onnx.save(model, os.path.join(HERE, name), **kw)


def mlp(opset=17, weight_name="w", node_input="w", op="MatMul", initializers=True):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, weight_name)
    node = helper.make_node(op, ["x", node_input], ["y"], name="/mlp/MatMul")
    graph = helper.make_graph([node], "mlp", [x], [y], [w] if initializers else [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


# A valid baseline, and one file per kind of bad input.
save(mlp(), "mlp.onnx")
save(mlp(op="Hardmax"), "unsupported-op.onnx")
save(mlp(opset=11), "opset-too-old.onnx")
save(mlp(opset=19), "opset-too-new.onnx")
save(mlp(initializers=False), "missing-initializer.onnx")
save(mlp(node_input="w_typo"), "dangling-input.onnx")
data = mlp().SerializeToString()
with open(os.path.join(HERE, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(HERE, "not-onnx.onnx"), "w") as f:
    f.write("this is a text file, not an ONNX model\n")

# Weights in a separate file beside the model (onnx.save appends to it).
if os.path.exists(os.path.join(HERE, "external.onnx.data")):
    os.remove(os.path.join(HERE, "external.onnx.data"))
ext = mlp()
onnx.save_model(ext, os.path.join(HERE, "external.onnx"), save_as_external_data=True,
                all_tensors_to_one_file=True, location="external.onnx.data",
                size_threshold=0)

# External data pointing outside its file (written without onnx.save, which
# would rewrite the offsets).
bad = mlp()
t = bad.graph.initializer[0]
t.ClearField("raw_data")
t.data_location = TensorProto.EXTERNAL
for key, value in (("location", "external.onnx.data"), ("offset", "4096"), ("length", "48")):
    entry = t.external_data.add()
    entry.key, entry.value = key, value
with open(os.path.join(HERE, "external-out-of-range.onnx"), "wb") as f:
    f.write(bad.SerializeToString())

# External data escaping the model's directory.
escape = mlp()
t = escape.graph.initializer[0]
t.ClearField("raw_data")
t.data_location = TensorProto.EXTERNAL
for key, value in (("location", "../secret.data"), ("offset", "0"), ("length", "48")):
    entry = t.external_data.add()
    entry.key, entry.value = key, value
with open(os.path.join(HERE, "external-escape.onnx"), "wb") as f:
    f.write(escape.SerializeToString())

# Raw data of the wrong size.
wrong = mlp()
wrong.graph.initializer[0].raw_data = wrong.graph.initializer[0].raw_data[:20]
save(wrong, "wrong-raw-size.onnx")

# Quantized linear algebra: uint8 weights dequantized per output column
# (constant: evaluated at import), an activation quantized at run time, and
# the integer matmul forms.
xq = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
outs = [helper.make_tensor_value_info(n, t, None) for n, t in
        (("deq", TensorProto.FLOAT), ("q", TensorProto.UINT8), ("mmi", TensorProto.INT32),
         ("qmm", TensorProto.UINT8))]
wq = numpy_helper.from_array(np.array([[0, 255, 128], [10, 20, 30], [1, 2, 3], [200, 100, 50]],
                                      dtype=np.uint8), "wq")
ws = numpy_helper.from_array(np.array([0.5, 0.25, 2.0], dtype=np.float32), "ws")
wz = numpy_helper.from_array(np.array([128, 0, 1], dtype=np.uint8), "wz")
xs = numpy_helper.from_array(np.array(0.1, dtype=np.float32), "xs")
xz = numpy_helper.from_array(np.array(10, dtype=np.uint8), "xz")
ys = numpy_helper.from_array(np.array(0.2, dtype=np.float32), "ys")
yz = numpy_helper.from_array(np.array(3, dtype=np.uint8), "yz")
nodes = [
    helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["deq"], name="/deq", axis=1),
    helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["q"], name="/quant"),
    helper.make_node("MatMulInteger", ["q", "wq", "xz", "wz"], ["mmi"], name="/mmi"),
    helper.make_node("QLinearMatMul", ["q", "xs", "xz", "wq", "ws", "wz", "ys", "yz"], ["qmm"],
                     name="/qmm"),
]
graph = helper.make_graph(nodes, "quant", [xq], outs, [wq, ws, wz, xs, xz, ys, yz])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "quant.onnx")

# MoE routing ops on a run-time tensor: TopK, OneHot, NonZero, ScatterElements.
probs = helper.make_tensor_value_info("probs", TensorProto.FLOAT, [4, 8])
routing_outs = [helper.make_tensor_value_info(n, t, None) for n, t in
                (("w", TensorProto.FLOAT), ("onehot", TensorProto.FLOAT),
                 ("nz", TensorProto.INT64), ("gates", TensorProto.FLOAT))]
consts = [numpy_helper.from_array(np.array([2], dtype=np.int64), "k"),
          numpy_helper.from_array(np.array(8, dtype=np.int64), "depth"),
          numpy_helper.from_array(np.array([0.0, 1.0], dtype=np.float32), "onoff"),
          numpy_helper.from_array(np.zeros((4, 8), dtype=np.float32), "zeros")]
nodes = [
    helper.make_node("TopK", ["probs", "k"], ["w", "idx"], name="/topk", axis=-1),
    helper.make_node("OneHot", ["idx", "depth", "onoff"], ["onehot"], name="/onehot", axis=-1),
    helper.make_node("Cast", ["onehot"], ["mask"], name="/cast", to=TensorProto.BOOL),
    helper.make_node("NonZero", ["mask"], ["nz"], name="/nonzero"),
    helper.make_node("ScatterElements", ["zeros", "idx", "w"], ["gates"], name="/scatter", axis=1),
]
graph = helper.make_graph(nodes, "routing", [probs], routing_outs, consts)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "routing.onnx")

# An op llmc evaluates only on constants, here fed a run-time tensor.
ge = helper.make_graph(
    [helper.make_node("GatherElements", ["x", "gi"], ["y"], name="/gather_elements", axis=1)],
    "gather_elements", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
    [numpy_helper.from_array(np.array([[0, 2], [1, 0]], dtype=np.int64), "gi")])
save(helper.make_model(ge, opset_imports=[helper.make_opsetid("", 17)]), "runtime-gather-elements.onnx")

# Tile of a run-time tensor and of a constant (evaluated at import).
tile = helper.make_graph(
    [helper.make_node("Tile", ["x", "reps"], ["y"], name="/tile"),
     helper.make_node("Tile", ["c", "reps"], ["z"], name="/tile_const")],
    "tile", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
     helper.make_tensor_value_info("z", TensorProto.INT64, None)],
    [numpy_helper.from_array(np.array([2, 1], dtype=np.int64), "reps"),
     numpy_helper.from_array(np.array([[1, 2]], dtype=np.int64), "c")])
save(helper.make_model(tile, opset_imports=[helper.make_opsetid("", 17)]), "tile.onnx")

# A Transpose whose perm does not cover the axes.
bad_perm = helper.make_graph(
    [helper.make_node("Transpose", ["x"], ["y"], name="/transpose", perm=[0])],
    "bad_perm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
save(helper.make_model(bad_perm, opset_imports=[helper.make_opsetid("", 17)]), "bad-perm.onnx")

# ReduceSum with no axes and noop_with_empty_axes passes its input through.
noop = helper.make_graph(
    [helper.make_node("ReduceSum", ["x"], ["y"], name="/reduce", noop_with_empty_axes=1),
     helper.make_node("ReduceSum", ["x"], ["z"], name="/reduce_all", keepdims=0)],
    "noop", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
     helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
save(helper.make_model(noop, opset_imports=[helper.make_opsetid("", 17)]), "reduce-noop.onnx")

# CumSum of a run-time tensor.
cs = helper.make_graph(
    [helper.make_node("CumSum", ["x", "axis"], ["y"], name="/cumsum")],
    "cumsum", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    [numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")])
save(helper.make_model(cs, opset_imports=[helper.make_opsetid("", 17)]), "runtime-cumsum.onnx")

# ScatterElements on run-time tensors: a multiplying reduction, and a
# reduction ONNX does not define.
for reduction, name in (("mul", "runtime-scatter-mul.onnx"), ("xor", "bad-scatter-reduction.onnx")):
    sc = helper.make_graph(
        [helper.make_node("ScatterElements", ["x", "si", "u"], ["y"], name="/scatter",
                          axis=1, reduction=reduction)],
        "scatter", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                    helper.make_tensor_value_info("u", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array([[0, 2], [1, 1]], dtype=np.int64), "si")])
    save(helper.make_model(sc, opset_imports=[helper.make_opsetid("", 17)]), name)

# CumSum on run-time tensors in all four orders, on floats and on an int64
# attention mask (the HF position_ids = cumsum(mask) - 1 form), written as an
# ONNX node-test folder (model + inputs + numpy's outputs) that
# llmc-conformance runs through import, lowering and the JIT.
def cumsum_case():
    folder = os.path.join(HERE, "runtime-cumsum-jit")
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    x = np.array([[1.5, -2.0, 3.25, 0.5, 4.0], [2.0, 1.0, -1.0, 0.25, -3.5]], dtype=np.float32)
    mask = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=np.int64)
    nodes, outs, expected = [], [], []
    for exclusive in (0, 1):
        for reverse in (0, 1):
            name = f"y_e{exclusive}_r{reverse}"
            nodes.append(helper.make_node("CumSum", ["x", "axis"], [name], name=f"/cumsum_{name}",
                                          exclusive=exclusive, reverse=reverse))
            outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [2, 5]))
            y = np.flip(np.cumsum(np.flip(x, 1) if reverse else x, axis=1), 1) if reverse \
                else np.cumsum(x, axis=1)
            if exclusive:
                y = y - x
            expected.append(y.astype(np.float32))
    nodes.append(helper.make_node("CumSum", ["mask", "axis"], ["positions"], name="/cumsum_mask"))
    outs.append(helper.make_tensor_value_info("positions", TensorProto.INT64, [2, 5]))
    expected.append(np.cumsum(mask, axis=1))
    graph = helper.make_graph(
        nodes, "cumsum", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5]),
                          helper.make_tensor_value_info("mask", TensorProto.INT64, [2, 5])],
        outs, [numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         os.path.join(folder, "model.onnx"))
    for i, t in enumerate((x, mask)):
        onnx.save_tensor(numpy_helper.from_array(t), os.path.join(data, f"input_{i}.pb"))
    for i, t in enumerate(expected):
        onnx.save_tensor(numpy_helper.from_array(t), os.path.join(data, f"output_{i}.pb"))


cumsum_case()


# --- ONNX Runtime contrib ops (domain com.microsoft) the importer refuses.
def contrib(name, op, inputs, outputs, inits=(), domain="com.microsoft", **attrs):
    """One contrib node over float graph inputs x [1, 4, 64] (and any
    other names in `inputs` that are not initializers)."""
    init_names = {t.name for t in inits}
    graph_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4, 64])
                    for n in inputs if n and n not in init_names and n != "seqlens"]
    if "seqlens" in inputs:
        graph_inputs.append(helper.make_tensor_value_info("seqlens", TensorProto.INT32, [1]))
    node = helper.make_node(op, inputs, outputs, name="/contrib", domain=domain, **attrs)
    graph = helper.make_graph([node], name, graph_inputs,
                              [helper.make_tensor_value_info(outputs[0], TensorProto.FLOAT, None)],
                              list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    save(model, name)


def nbits_inits(k=64, n=8, block=16, bits=4):
    blocks = -(-k // block)
    return [numpy_helper.from_array(np.zeros((n, blocks, block * bits // 8), np.uint8), "qweight"),
            numpy_helper.from_array(np.ones(n * blocks, np.float32), "scales")]


contrib("contrib-unknown-op.onnx", "QOrderedMatMul", ["x", "x"], ["y"])
contrib("contrib-gqa-softcap.onnx", "GroupQueryAttention",
        ["x", "", "", "x", "x", "seqlens", "seqlens"], ["y"],
        num_heads=2, kv_num_heads=1, softcap=30.0)
contrib("contrib-nbits-bits.onnx", "MatMulNBits", ["x", "qweight", "scales"], ["y"],
        nbits_inits(bits=3), K=64, N=8, bits=3, block_size=16)
contrib("contrib-nbits-padded.onnx", "MatMulNBits", ["x", "qweight", "scales"], ["y"],
        nbits_inits(k=40), K=40, N=8, bits=4, block_size=16)
contrib("contrib-nbits-gidx.onnx", "MatMulNBits", ["x", "qweight", "scales", "", "x"], ["y"],
        nbits_inits(), K=64, N=8, bits=4, block_size=16)
contrib("contrib-mha-packed.onnx", "MultiHeadAttention", ["x"], ["y"], num_heads=4)
contrib("contrib-skip-mean.onnx", "SkipSimplifiedLayerNormalization", ["x", "x", "gamma"],
        ["y", "mean"], [numpy_helper.from_array(np.ones(64, np.float32), "gamma")])
