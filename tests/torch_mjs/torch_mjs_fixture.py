"""Fixtures for tests/torch_mjs/test_torch_mjs.mjs, written by real PyTorch (the dev venv's torch) at test time:

    .venv/bin/python tests/torch_mjs/torch_mjs_fixture.py OUT_DIR

OUT_DIR/opinfo_cases.json.gz: every OpInfo conformance case the Python suite runs (build/fixtures/
opinfo_cases.json.gz, `make fixtures`), float arguments marked {"f": x} (JavaScript's numbers do not keep 2.0 apart
from 2; ints past 2**53 {"i": "digits"}), each with the oracle's tolerance (and tests/test_opinfo_webgpu.py's factor
on webgpu), "sample": true on the first plain case of each op (the one-per-op sample), "gap": the reason for a known
torch_js gap (the Python suite xfails those too).
OUT_DIR/net.pt (torch.save of the Net's state_dict), OUT_DIR/net.safetensors (the same tensors in the safetensors
layout), OUT_DIR/net.json: the input, PyTorch's output, loss, gradients and the parameters after two Adam steps.
The Net is the torch.mjs proposal's: two convolutions and a linear layer (examples/torch_mjs/net.py; net.mjs beside it
is its JS twin).
"""
import ast
import gzip
import importlib.util
import json
import os
import struct
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import oracle  # noqa: E402  (tests/oracle.py: the conformance cases and their tolerances)

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples",
                        "torch_mjs")


def _load_net():
    """The Net of examples/torch_mjs/net.py (the docs page's Python twin of net.mjs)."""
    spec = importlib.util.spec_from_file_location("torch_mjs_net", os.path.join(EXAMPLES, "net.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Net


Net = _load_net()


def flat(t):
    return t.detach().reshape(-1).tolist()


def save_safetensors(state, path):
    """The safetensors layout: u64 header length, JSON header (dtype, shape, byte offsets), then the raw bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = Net()
    torch.save(model.state_dict(), os.path.join(out, "net.pt"))
    save_safetensors(model.state_dict(), os.path.join(out, "net.safetensors"))
    x = torch.randn(4, 3, 8, 8)
    target = torch.tensor([1, 0, 4, 9])
    model.eval()
    with torch.no_grad():
        out_eval = model(x)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, grads = [], {}
    for step in range(2):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()
        if step == 0:
            grads = {"mlp.weight": flat(model.mlp.weight.grad), "convs.0.weight": flat(model.convs[0].weight.grad)}
        losses.append(loss.item())
        opt.step()
    rec = {
        "input": flat(x), "input_shape": list(x.shape), "target": target.tolist(), "output": flat(out_eval),
        "output_shape": list(out_eval.shape), "losses": losses, "grads": grads,
        "after_adam": {"mlp.weight": flat(model.mlp.weight), "mlp.bias": flat(model.mlp.bias)},
        "keys": list(model.state_dict().keys()),
    }
    with open(os.path.join(out, "net.json"), "w") as f:
        json.dump(rec, f)


def _mark_floats(v):
    """Python floats marked {"f": x}; ints past 2**53 (which a JavaScript number rounds) {"i": "digits"}, a BigInt."""
    if isinstance(v, float):
        return {"f": "nan" if v != v else v}
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 53:
        return {"i": str(v)}
    if isinstance(v, list):
        return [_mark_floats(x) for x in v]
    if isinstance(v, dict):
        return {k: _mark_floats(x) for k, x in v.items()}
    return v


def _plain(case):
    """A case the JS test can express: no strides, expands, RNG state, memory formats or devices, no adapter."""
    if "rng" in case or case["opinfo"] in oracle.CALL_ADAPTERS or oracle.known_gap(case):
        return False
    if any("strides" in t or "expand" in t for t in case["tensors"]):
        return False
    text = json.dumps([case["args"], case["kwargs"], case["input"]])
    return not any(k in text for k in ('"memfmt"', '"device"', '"slice"', '"ellipsis"'))


def webgpu_tolerances():
    """tests/test_opinfo_webgpu.py's WEBGPU_TOL (op -> tolerance factor on webgpu), read from its source (the module
    itself only imports inside Pyodide with the webgpu bridge)."""
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test_opinfo_webgpu.py")
    for node in ast.parse(open(src, encoding="utf-8").read()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "WEBGPU_TOL":
            return ast.literal_eval(node.value)
    raise RuntimeError(f"no WEBGPU_TOL in {src}")


def opinfo_cases(out):
    cases = oracle.load_fixture()
    webgpu_tol = webgpu_tolerances()
    picked, seen = [], set()
    for case in cases:
        key = (case["op"], "error" in case["expect"])
        case = {k: v for k, v in case.items() if k not in ("grad", "summary")}
        if key not in seen and _plain(case):
            seen.add(key)
            case["sample"] = True
        gap = oracle.known_gap(case)
        if gap:
            case["gap"] = gap
        case["args"], case["kwargs"] = _mark_floats(case["args"]), _mark_floats(case["kwargs"])
        case["tol"] = {dt: oracle.tolerance(case["kind"], dt) for dt in ("float32", "float64")}
        case["webgpu_tol"] = webgpu_tol.get(case["op"], 1.0)
        picked.append(case)
    with gzip.open(os.path.join(out, "opinfo_cases.json.gz"), "wt", compresslevel=3) as f:
        json.dump(picked, f)


if __name__ == "__main__":
    main(sys.argv[1])
    opinfo_cases(sys.argv[1])
