#!/usr/bin/python3
"""Writes the JIT drivers of the end-to-end tests: for one test set of a
bundled model, a function @entry that calls the imported @main on the
test inputs and prints the largest absolute difference from torch's
outputs (over every output, and over the non-padded positions when the
model takes an attention_mask).

    /usr/bin/python3 test/e2e/make_drivers.py

Needs Debian's python3-onnx and python3-numpy; the drivers are committed.
"""
import os

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "examples", "models")

MLIR_TYPES = {np.dtype("int64"): "i64", np.dtype("float32"): "f32"}


def tensor_type(a):
    dims = "x".join(str(d) for d in a.shape)
    return f"tensor<{dims}x{MLIR_TYPES[a.dtype]}>" if a.shape else f"tensor<{MLIR_TYPES[a.dtype]}>"


def literal(a):
    return f'arith.constant dense<"0x{a.tobytes().hex().upper()}"> : {tensor_type(a)}'


def driver(model_dir, test_set, name):
    d = os.path.join(model_dir, f"test_data_set_{test_set}")
    inputs, outputs = [], []
    i = 0
    while os.path.exists(os.path.join(d, f"input_{i}.pb")):
        inputs.append(numpy_helper.to_array(onnx.load_tensor(os.path.join(d, f"input_{i}.pb"))))
        i += 1
    i = 0
    while os.path.exists(os.path.join(d, f"output_{i}.pb")):
        outputs.append(numpy_helper.to_array(onnx.load_tensor(os.path.join(d, f"output_{i}.pb"))))
        i += 1
    graph = onnx.load(os.path.join(model_dir, "model.onnx"), load_external_data=False).graph
    in_names = [v.name for v in graph.input]
    mask = inputs[in_names.index("attention_mask")] if "attention_mask" in in_names else None
    lines = ["func.func private @printMemrefF32(memref<*xf32>)",
             "func.func @entry() {"]
    args = []
    for k, a in enumerate(inputs):
        if a.size == 0:
            # A zero-length past: an empty tensor.
            lines.append(f"  %in{k} = tensor.empty() : {tensor_type(a)}")
        else:
            lines.append(f"  %in{k} = {literal(a)}")
        args.append(f"%in{k}")
    in_types = ", ".join(tensor_type(a) for a in inputs)
    out_types = ", ".join(tensor_type(o) for o in outputs)
    results = ", ".join(f"%out{k}" for k in range(len(outputs)))
    lines.append(f"  {results} = call @main({', '.join(args)}) : ({in_types}) -> ({out_types})")
    lines.append("  %zero = arith.constant dense<0.0> : tensor<f32>")
    err = "%zero"
    for k, o in enumerate(outputs):
        rank = o.ndim
        dims = ", ".join(f"d{j}" for j in range(rank))
        ident = f"affine_map<({dims}) -> ({dims})>"
        scalar = f"affine_map<({dims}) -> ()>"
        lines.append(f"  %exp{k} = {literal(o.astype(np.float32))}")
        ins = [f"%out{k}", f"%exp{k}"]
        types = [tensor_type(o), tensor_type(o)]
        maps = [ident, ident]
        weighted = mask is not None
        if weighted:
            # Only positions whose token is not padding: logits [B, S, V]
            # by query position, present.* [B, H, P + S, D] by key position
            # (from layer 1 on they carry the padding queries' outputs).
            if k == 0:
                past = mask.shape[1] - o.shape[1]
                valid = (mask[:, past:] != 0).astype(np.float32)
                position = "d1"
            else:
                valid = (mask != 0).astype(np.float32)
                position = "d2"
            lines.append(f"  %valid{k} = {literal(valid)}")
            ins.append(f"%valid{k}")
            types.append(tensor_type(valid))
            maps.append(f"affine_map<({dims}) -> (d0, {position})>")
        maps.append(scalar)
        body = ["      %d = arith.subf %a0, %a1 : f32", "      %ad = math.absf %d : f32"]
        if weighted:
            body.append("      %w = arith.mulf %ad, %a2 : f32")
            last = "%w"
        else:
            last = "%ad"
        body.append(f"      %m = arith.maximumf {last}, %acc : f32")
        block_args = ", ".join(f"%a{j}: f32" for j in range(len(ins)))
        iterators = ", ".join(['"reduction"'] * rank)
        lines.append(f"  %err{k} = linalg.generic {{indexing_maps = [{', '.join(maps)}], "
                     f"iterator_types = [{iterators}]}} "
                     f"ins({', '.join(ins)} : {', '.join(types)}) outs({err} : tensor<f32>) {{")
        lines.append(f"    ^bb0({block_args}, %acc: f32):")
        lines.extend(body)
        lines.append("      linalg.yield %m : f32")
        lines.append("    } -> tensor<f32>")
        err = f"%err{k}"
    # [max abs difference, 1 if it is within the tolerance]
    lines.append(f"  %ev = tensor.extract {err}[] : tensor<f32>")
    lines.append("  %tol = arith.constant 1.0e-04 : f32")
    lines.append("  %okb = arith.cmpf ole, %ev, %tol : f32")
    lines.append("  %ok = arith.uitofp %okb : i1 to f32")
    lines.append("  %e = tensor.from_elements %ev, %ok : tensor<2xf32>")
    lines.append("  %buf = bufferization.to_buffer %e : tensor<2xf32> to memref<2xf32>")
    lines.append("  %u = memref.cast %buf : memref<2xf32> to memref<*xf32>")
    lines.append("  call @printMemrefF32(%u) : (memref<*xf32>) -> ()")
    lines.append("  return")
    lines.append("}")
    with open(os.path.join(HERE, "Inputs", f"{name}.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    shapes = ",".join(f"{n}={'x'.join(str(d) for d in a.shape)}" for n, a in zip(in_names, inputs))
    return shapes


TEST = """# Generated by make_drivers.py: {model}, test set {s}. The ONNX export,
# imported with static shapes, raised, lowered to linalg and JIT-compiled,
# reproduces torch's outputs: the driver prints [max |llmc - torch|, 1 if
# that is <= 1e-4]{padding}.
RUN: llm-translate --import-onnx %models/{model}/model.onnx \\
RUN:   --input-shape {shapes} \\
RUN:   --mlir-elide-resource-strings-if-larger=4294967295 \\
RUN:   | llm-opt --llm-raise --llm-lower-to-linalg \\
RUN:   | sed '/^module {{/r %S/Inputs/{name}.mlir' > %t.mlir
RUN: llm-opt %t.mlir %llmc_jit_lowering -o %t.llvm.mlir
RUN: %mlir_runner %t.llvm.mlir | FileCheck %s
CHECK: data =
CHECK-NEXT: [{{{{.*}}}}, 1]
"""

for model, sets in (("llama_tiny/opset17", [0, 1]), ("gpt2_tiny/opset17", [0, 1]),
                    ("llama_moe_sparse/opset17", [0, 1]), ("llama_moe_dense/opset17", [0, 1]),
                    ("llama_tiny_kv/opset17", [0, 1]), ("hf/hf_llama", [0, 1]),
                    ("hf/hf_mistral", [0, 1]), ("hf/hf_phi", [0, 1])):
    for s in sets:
        name = model.split("/")[1] if model.startswith("hf/") else model.split("/")[0]
        name = f"{name}-set{s}"
        shapes = driver(os.path.join(MODELS, model), s, name)
        padding = (" (outputs at left-padding positions are not compared: a\n"
                   "# query that sees no real key is undefined)" if model.startswith("hf/") else "")
        with open(os.path.join(HERE, f"{name}.test"), "w") as f:
            f.write(TEST.format(model=model, s=s, shapes=shapes, name=name, padding=padding))
print("ok")
