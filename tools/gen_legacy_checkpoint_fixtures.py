"""Write tests/fixtures/torch_saved_legacy.pt with real torch.save in the legacy (pre-1.6, non-zip) format
(`_use_new_zipfile_serialization=False`): the objects of tools/gen_serialization_fixtures.py (every dtype, views
with offsets and strides, shared storages, Parameters, nested containers, a state_dict) and a meta tensor.
tests/test_legacy_checkpoints.py checks that torch_js.load reads it (also in Pyodide, without torch).

Run: .venv/bin/python tools/gen_legacy_checkpoint_fixtures.py"""
import os

import torch

from gen_serialization_fixtures import HERE, build


def build_legacy():
    obj = build()
    obj["meta"] = torch.empty(2, 3, dtype=torch.float64, device="meta")
    return obj


if __name__ == "__main__":
    path = os.path.join(HERE, "..", "tests", "fixtures", "torch_saved_legacy.pt")
    torch.save(build_legacy(), path, _use_new_zipfile_serialization=False)
    print("wrote", path, os.path.getsize(path), "bytes")
