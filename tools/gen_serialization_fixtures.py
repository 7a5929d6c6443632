"""Write tests/fixtures/torch_saved.pt with real torch.save: every dtype, a view with an offset and strides,
two tensors sharing one storage, a Parameter, nested dict/list/tuple/OrderedDict, a module state_dict.
tests/test_serialization.py checks that torch_js.load reads it (also in Pyodide, without torch).

Run: .venv/bin/python tools/gen_serialization_fixtures.py"""
import os
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def build():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = OrderedDict()
    obj["base"] = base
    obj["view"] = base[1:, 2:5]          # offset 8, strides (6, 1)
    obj["t"] = base.t()                  # strides (1, 6)
    obj["param"] = torch.nn.Parameter(torch.tensor([1.5, -2.0]))
    obj["frozen"] = torch.nn.Parameter(torch.tensor([3.0]), requires_grad=False)
    for d in DTYPES:
        obj["d_" + d] = (torch.arange(-3, 4) * 1.25).to(getattr(torch, d))
    obj["scalar"] = torch.tensor(7, dtype=torch.int64)
    obj["empty"] = torch.zeros(0, 3)
    obj["nested"] = {"list": [torch.tensor([1, 2]), (torch.ones(2, dtype=torch.float16), 3.5, "s")],
                     "none": None, "flag": True}
    torch.manual_seed(0)
    obj["model"] = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)).state_dict()
    return obj


if __name__ == "__main__":
    path = os.path.join(HERE, "..", "tests", "fixtures", "torch_saved.pt")
    torch.save(build(), path)
    print("wrote", path, os.path.getsize(path), "bytes")
