"""Record what real PyTorch builds for tests/_nn_specs.py (repr, state_dict names/shapes/dtypes, sha256 of each
tensor's bytes after manual_seed(0)) into tests/fixtures/nn_modules_torch.json, for Pyodide-runnable tests.

Run: .venv/bin/python tools/gen_nn_fixtures.py   (needs torch)"""
import hashlib
import json
import os
import sys
import warnings

import torch
import torch.nn as nn  # noqa: F401  (used by the evaluated specs)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from _nn_specs import SPECS  # noqa: E402


def describe(m):
    sd = m.state_dict()
    return {"repr": repr(m),
            "state": [[k, list(v.shape), str(v.dtype).replace("torch.", ""),
                       hashlib.sha256(v.detach().contiguous().numpy().tobytes()).hexdigest()] for k, v in sd.items()]}


def main():
    out = {}
    for spec in SPECS:
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = eval(spec, {"nn": torch.nn})
        out[spec] = describe(m)
    path = os.path.join(HERE, "..", "tests", "fixtures", "nn_modules_torch.json")
    with open(path, "w") as f:
        json.dump({"torch_version": torch.__version__, "modules": out}, f, indent=1)
    print("wrote", path, len(out), "modules")


if __name__ == "__main__":
    main()
