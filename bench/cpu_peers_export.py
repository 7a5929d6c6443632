"""ONNX graphs of bench/cpu_peers.mjs, made with PyTorch (the dev venv: real torch, onnx, onnxscript):

    .venv/bin/python bench/cpu_peers_export.py [--out build/cpu_peers]

minilm.onnx    the MiniLM-shaped encoder of cpu_peers_workloads.py (torch.onnx.export, the TorchScript exporter),
               input "x", output "y", its large weights as external data "minilm.onnx.data"
minilm.onnx.data  those weights (raw little-endian float32). The bench does not need this file: the weights are
               hashed() ones, so torch_js rebuilds the same bytes from the layout in the manifest and hands them to
               ONNX Runtime Web; only the small graph travels.
matmul.onnx    one MatMul "a" @ "b" -> "c" with dynamic shapes (every matmul size)
manifest.json  versions, the encoder graph's ops, and "minilm_external": [[state_dict key, offset, bytes], ...]
"""
import argparse
import json
import os
import sys

import onnx
import torch
from onnx import TensorProto, external_data_helper, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_peers_workloads as W  # noqa: E402  (this folder's sibling, also run in Pyodide)

OPSET = 17
DATA = "minilm.onnx.data"


def matmul_model():
    dims = {"a": ["n", "k"], "b": ["k", "m"], "c": ["n", "m"]}
    io = {k: helper.make_tensor_value_info(k, TensorProto.FLOAT, d) for k, d in dims.items()}
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul", [io["a"], io["b"]], [io["c"]])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8   # ONNX Runtime Web reads IR 8 with opset 17
    onnx.checker.check_model(model)
    return model


def export_encoder(work, out):
    """minilm.onnx with external weights; returns (ops, [[state_dict key, offset, length], ...])."""
    enc, x = work.encoder, work.minilm_x
    path = os.path.join(out, "minilm.onnx")
    # Eval mode (no Dropout nodes); the trace keeps off TransformerEncoderLayer's fused fast path, since the
    # weights require grad. No constant folding: the initializers stay the parameters themselves, under their
    # state_dict names (ONNX Runtime folds the splits and transposes when it loads the graph).
    torch.onnx.export(enc.eval(), (x,), path, input_names=["x"], output_names=["y"], opset_version=OPSET,
                      do_constant_folding=False, dynamo=False)
    model = onnx.load(path)
    odd = sorted({f"{n.domain}::{n.op_type}" for n in model.graph.node if n.domain not in ("", "ai.onnx")
                  or n.op_type in ("ATen", "Dropout")})
    if odd:   # e.g. an aten fallback for a fused op, which ORT-Web cannot run
        raise RuntimeError(f"cpu_peers_export: ops outside standard ONNX inference: {odd}")
    state = enc.state_dict()
    for init in model.graph.initializer:   # every large initializer must be a parameter, bit for bit
        if init.name in state and state[init.name].numel() * 4 >= 1024:
            if not torch.equal(torch.from_numpy(numpy_helper.to_array(init).copy()), state[init.name]):
                raise RuntimeError(f"cpu_peers_export: initializer {init.name} differs from the parameter")
    external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=True, location=DATA,
                                                        size_threshold=1024)
    onnx.save_model(model, path)
    layout = []
    for init in onnx.load(path, load_external_data=False).graph.initializer:
        if external_data_helper.uses_external_data(init):
            info = {e.key: e.value for e in init.external_data}
            if init.name not in state:
                raise RuntimeError(f"cpu_peers_export: external initializer {init.name} is not a parameter")
            layout.append([init.name, int(info.get("offset", 0)), int(info["length"])])
    return sorted({n.op_type for n in model.graph.node}), layout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                                                  "cpu_peers"))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data_path = os.path.join(args.out, DATA)
    if os.path.exists(data_path):
        os.remove(data_path)   # onnx appends to an existing data file
    work = W.Workloads(torch)
    ops, layout = export_encoder(work, args.out)
    onnx.save(matmul_model(), os.path.join(args.out, "matmul.onnx"))
    with torch.no_grad():
        y = work.encoder(work.minilm_x)
    manifest = {"torch": torch.__version__, "onnx": onnx.__version__, "opset": OPSET, "minilm": W.MINILM,
                "minilm_onnx_ops": ops, "minilm_external": layout, "minilm_external_bytes": os.path.getsize(data_path),
                "minilm_y_abs_sum": float(y.abs().sum()), "files": ["minilm.onnx", "matmul.onnx", "manifest.json"]}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"cpu_peers_export: {os.path.abspath(args.out)}: minilm.onnx ({len(layout)} external weights, "
          f"{manifest['minilm_external_bytes']} bytes), matmul.onnx; ops {ops}")


if __name__ == "__main__":
    main()
