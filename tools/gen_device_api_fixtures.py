"""Record real PyTorch's outcomes for tests/_device_api_cases.py (torch.cuda, torch.amp, torch.autocast,
torch.backends.*, torch.accelerator and Tensor.cuda on a build without CUDA) into
tests/fixtures/device_api_torch.json, so tests/test_import_torch.py also checks torch_js where torch can't be imported
(Pyodide). Needs PyTorch's CPU build (the dev venv's).

Run: .venv/bin/python tools/gen_device_api_fixtures.py"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import _device_api_cases as C  # noqa: E402


def main():
    if torch.cuda.is_available() or torch.accelerator.is_available():
        raise SystemExit("gen_device_api_fixtures: needs a PyTorch without an accelerator (the CPU build)")
    out = {"torch_version": torch.__version__,
           "cases": {name: C.outcome(torch, call) for name, (call, _) in C.CASES.items()},
           "no_accelerator": {name: C.outcome(torch, call) for name, (call, _) in C.NO_ACCELERATOR_CASES.items()}}
    path = os.path.join(HERE, "..", "tests", "fixtures", "device_api_torch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
